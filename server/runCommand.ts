/**
 * The one way the companion runs a program: execFile with an argument list,
 * never a shell, so no value can become code. A non-zero exit is an answer
 * (its code and output come back); a program that is missing or runs past
 * its time is not, and rejects with CommandNotRun, saying which.
 */
import { execFile } from 'node:child_process';

/** What a program answered; a non-zero exit is an answer too. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  code: number;
}

export class CommandNotRun extends Error {
  constructor(
    readonly why: 'missing' | 'timed-out',
    message: string
  ) {
    super(message);
  }
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Written to the program's stdin, then closed; default: none. */
  input?: string;
  /** Output kept, per stream; default 16 MiB. */
  maxBuffer?: number;
  /** What the program is called in a message about its time (squeue, not runuser); default: argv[0]. */
  name?: string;
}

export function runCommand(argv: readonly string[], opts: RunOptions): Promise<CommandResult> {
  const [file, ...args] = argv;
  const options = {
    env: opts.env,
    timeout: opts.timeoutMs,
    maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
    encoding: 'utf8' as const
  };
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, options, (error, stdout, stderr) => {
      if (!error) {
        resolve({ stdout, stderr, code: 0 });
        return;
      }
      const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
      if (e.code === 'ENOENT') {
        reject(new CommandNotRun('missing', `${file} is not installed or not on PATH`));
      } else if (e.killed) {
        const seconds = Math.round(opts.timeoutMs / 1000);
        const name = opts.name ?? file;
        reject(new CommandNotRun('timed-out', `${name} did not answer within ${seconds} s`));
      } else {
        resolve({ stdout, stderr, code: typeof e.code === 'number' ? e.code : 1 });
      }
    });
    if (opts.input !== undefined) {
      // A program that is missing or exits early breaks the pipe; the callback says why.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(opts.input);
    }
  });
}
