/**
 * Standalone, every request but the readiness probe (GET /) carries the
 * token: `Authorization: token <T>` (or Bearer), or `?token=` for an
 * EventSource, which cannot set headers. Behind jupyter-server-proxy the
 * companion listens on a Unix socket in a private directory and the Jupyter
 * server authenticates, so no token is used there.
 *
 * jupyter-server-proxy leaves the XSRF check to the proxied app, so the
 * companion makes it itself: a browser's write (it carries the hub's or
 * server's cookies) must carry X-XSRFToken equal to its `_xsrf` cookie, as
 * JupyterLab's ServerConnection sends. A page on another site can make the
 * browser send the cookies but can neither read them nor set that header.
 * Requests without cookies (the CLI on the socket, a client with a token)
 * cannot be forged that way and need no XSRF token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) {
    return false;
  }
  return timingSafeEqual(digest(expected), digest(given));
}

function presentedToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
    return m ? m[1] : undefined;
  }
  // Only for reads: an EventSource cannot set headers; a write never needs a URL token.
  const q = req.method === 'GET' ? req.query.token : undefined;
  return typeof q === 'string' ? q : undefined;
}

export function requireToken(token: string | null) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === null || (req.method === 'GET' && req.path === '/')) {
      return next();
    }
    if (tokenMatches(token, presentedToken(req))) {
      return next();
    }
    res.status(401).json({
      error:
        'authentication required: send "Authorization: token <token>" (see the state directory\'s token file)'
    });
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The values of every cookie named `name` in a Cookie header (paths may give several). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) {
    return [];
  }
  const found: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      found.push(part.slice(eq + 1).trim());
    }
  }
  return found;
}

/** Whether a request may change state: see the top of this file. */
export function xsrfAllows(
  method: string,
  cookieHeader: string | undefined,
  xsrfHeader: string | undefined
): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) {
    return true;
  }
  if (!cookieHeader) {
    return true;
  }
  if (!xsrfHeader) {
    return false;
  }
  return cookieValues(cookieHeader, '_xsrf').some(v => v !== '' && tokenMatches(v, xsrfHeader));
}

export function refuseCrossSiteWrites() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers['x-xsrftoken'];
    if (xsrfAllows(req.method, req.headers.cookie, typeof given === 'string' ? given : undefined)) {
      return next();
    }
    // Answer once the body is read: a proxy still sending it (jupyter-server-proxy)
    // turns an answer that closes the connection mid-body into a 500 of its own.
    const refuse = () =>
      res.status(403).json({
        error:
          'refused a write without its XSRF token: a request from the browser must send X-XSRFToken equal to its _xsrf cookie (JupyterLab does); this guards against other sites acting as you'
      });
    if (req.readableEnded) {
      refuse();
    } else {
      req.once('end', refuse);
      req.resume();
    }
  };
}
