/**
 * Idle exit of a companion the CLI started in the background: once no job is
 * live and no request has come for a while, nobody needs it, and on a shared
 * login node one lingering process per user adds up. The next CLI command
 * starts another. An open request counts as activity for as long as it is
 * open: a sidebar's event stream or `logs --follow` keeps the companion.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface IdleExitOptions {
  /** Minutes with no live job and no request; fractions are allowed. */
  minutes: number;
  /** The clean shutdown; called once. */
  onIdle: () => void;
}

/** Activity as the requests show it, with the store's word on live jobs. */
export class IdleWatcher {
  private open = 0;
  // Monotonic: a clock set back or forward neither keeps nor ends the companion.
  private lastActive = performance.now();

  constructor(
    private readonly idleMs: number,
    private readonly busy: () => boolean
  ) {}

  /** A 'request' listener of the HTTP server: a request is activity from its start to its end. */
  readonly onRequest = (_req: IncomingMessage, res: ServerResponse): void => {
    this.open++;
    this.lastActive = performance.now();
    res.once('close', () => {
      this.open--;
      this.lastActive = performance.now();
    });
  };

  /** True once there has been no open request and no live job for the whole idle period. */
  idle(): boolean {
    if (this.open > 0 || this.busy()) {
      // The idle period starts when the last request or job ends.
      this.lastActive = performance.now();
      return false;
    }
    return performance.now() - this.lastActive >= this.idleMs;
  }
}

/**
 * Watches the server's requests and calls onIdle once the companion is idle.
 * Listening on the server, not as a route of the app, it sees every request,
 * the refused ones included, before the app's own middleware runs.
 */
export function exitWhenIdle(server: Server, busy: () => boolean, opts: IdleExitOptions): void {
  const idleMs = opts.minutes * 60_000;
  const watcher = new IdleWatcher(idleMs, busy);
  server.prependListener('request', watcher.onRequest);
  const timer = setInterval(() => {
    if (watcher.idle()) {
      clearInterval(timer);
      opts.onIdle();
    }
  }, checkInterval(idleMs));
  timer.unref();
  server.once('close', () => clearInterval(timer));
}

/** Often enough that the exit comes within a quarter of the period late, at most every 30 s. */
function checkInterval(idleMs: number): number {
  return Math.min(Math.max(idleMs / 4, 100), 30_000);
}
