/**
 * Python processes that stay up to validate notebooks, one per profile
 * environment and notebook directory. A process per check cost a Python start
 * and nbformat's import (0.3 to 0.5 s here, more behind pixi) on every new
 * notebook's submission; a worker answers the next ones in milliseconds.
 * Each runs where a check ran before, `<launcher…> <python> -c <worker>` in the
 * notebook's directory (a launcher such as pixi finds its project from
 * there), and exits when it has been idle for a while, when its stdin closes
 * (the companion exited), or when it stops answering.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** What the environment answered: valid, invalid with nbformat's words, or nothing usable. */
export type Verdict =
  { valid: true } | { valid: false; message: string; where: string } | { unanswered: string };

/** One answer line of the worker, as a verdict; pure. */
export function verdictOfLine(line: string): Verdict | null {
  try {
    const answer = JSON.parse(line) as {
      valid?: unknown;
      message?: unknown;
      where?: unknown;
      unanswered?: unknown;
    };
    if (typeof answer.unanswered === 'string') {
      return { unanswered: answer.unanswered };
    }
    if (answer.valid === true) {
      return { valid: true };
    }
    if (answer.valid === false && typeof answer.message === 'string') {
      return {
        valid: false,
        message: answer.message,
        where: typeof answer.where === 'string' ? answer.where : ''
      };
    }
  } catch {
    // Not an answer (a launcher's chatter on stdout).
  }
  return null;
}

interface Pending {
  resolve(verdict: Verdict): void;
  timer: NodeJS.Timeout;
}

/** One Python process; checks are answered in the order asked (one JSON line each way). */
class ValidationWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private readonly stderrTail: string[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  private exited = false;

  constructor(
    argv: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
    private readonly timeoutMs: number,
    private readonly idleMs: number,
    private readonly onExit: () => void
  ) {
    this.child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: 'pipe' });
    // The companion may exit with workers up: their stdin then closes and they end.
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (stream as unknown as { unref?: () => void }).unref?.();
    }
    createInterface({ input: this.child.stdout }).on('line', line => this.answer(line));
    createInterface({ input: this.child.stderr }).on('line', line => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 5) {
        this.stderrTail.shift();
      }
    });
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', error => this.end(error.message));
    this.child.on('close', code => this.end(`exited with code ${code}`));
  }

  check(path: string): Promise<Verdict> {
    if (this.exited) {
      return Promise.resolve({ unanswered: this.lastWords('exited') });
    }
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    return new Promise(resolve => {
      const timer = setTimeout(
        () => this.stop(`no answer within ${Math.round(this.timeoutMs / 1000)} s`),
        this.timeoutMs
      );
      timer.unref();
      this.pending.push({ resolve, timer });
      this.child.stdin.write(JSON.stringify({ path }) + '\n');
    });
  }

  /** Kills the process; what waits for it is answered `why`. */
  stop(why = 'stopped'): void {
    if (!this.exited) {
      this.child.kill('SIGKILL');
    }
    this.end(why, true);
  }

  private answer(line: string): void {
    const verdict = verdictOfLine(line);
    if (!verdict) {
      return;
    }
    const next = this.pending.shift();
    if (!next) {
      return;
    }
    clearTimeout(next.timer);
    next.resolve(verdict);
    if (this.pending.length === 0) {
      this.idleTimer = setTimeout(() => this.stop(), this.idleMs);
      this.idleTimer.unref();
    }
  }

  /** What waits is answered with the process's last words, or `why` (first, when told so). */
  private end(why: string, whyFirst = false): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
    }
    const first = !this.exited;
    this.exited = true;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.resolve({ unanswered: whyFirst ? why : this.lastWords(why) });
    }
    if (first) {
      this.onExit();
    }
  }

  private lastWords(why: string): string {
    return (this.stderrTail[this.stderrTail.length - 1] || why).slice(0, 300);
  }
}

export interface WorkerPoolOptions {
  /** Most time for one answer; a worker that takes longer is stopped. */
  timeoutMs: number;
  /** A worker with nothing to do exits after this long. */
  idleMs: number;
  /** At most this many workers at once; the one used least recently goes first. */
  max: number;
}

/** The workers by environment and directory. */
export class ValidationWorkers {
  private readonly workers = new Map<string, ValidationWorker>();
  /** How many processes were started: what the tests count. */
  started = 0;

  constructor(private readonly opts: WorkerPoolOptions) {}

  /** Checks `path` with the worker of this command line in `cwd`, starting one if needed. */
  check(argv: string[], cwd: string, env: NodeJS.ProcessEnv, path: string): Promise<Verdict> {
    const key = JSON.stringify([argv, cwd]);
    let worker = this.workers.get(key);
    if (worker) {
      // Most recently used last: the first is the one to stop when full.
      this.workers.delete(key);
    } else {
      if (this.workers.size >= this.opts.max) {
        const [oldKey, oldest] = this.workers.entries().next().value as [string, ValidationWorker];
        this.workers.delete(oldKey);
        oldest.stop();
      }
      const created: ValidationWorker = new ValidationWorker(
        argv,
        cwd,
        env,
        this.opts.timeoutMs,
        this.opts.idleMs,
        () => {
          if (this.workers.get(key) === created) {
            this.workers.delete(key);
          }
        }
      );
      worker = created;
      this.started++;
    }
    this.workers.set(key, worker);
    return worker.check(path);
  }

  get size(): number {
    return this.workers.size;
  }

  stopAll(): void {
    for (const worker of [...this.workers.values()]) {
      worker.stop();
    }
    this.workers.clear();
  }
}
