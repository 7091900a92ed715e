/**
 * Standalone, every request but the readiness probe (GET /) carries the
 * token: `Authorization: token <T>` (or Bearer), or `?token=` for an
 * EventSource, which cannot set headers. Behind jupyter-server-proxy the
 * companion listens on a Unix socket in a private directory and the Jupyter
 * server authenticates, so no token is used there.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(expected), digest(given));
}

export function presentedToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
    return m ? m[1] : undefined;
  }
  const q = req.query.token;
  return typeof q === 'string' ? q : undefined;
}

export function requireToken(token: string | null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === null || (req.method === 'GET' && req.path === '/')) return next();
    if (tokenMatches(token, presentedToken(req))) return next();
    res.status(401).json({ error: 'authentication required: send "Authorization: token <token>" (see the state directory\'s token file)' });
  };
}
