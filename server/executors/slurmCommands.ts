/**
 * Runs the Slurm commands: execFile with an argument list (never a shell),
 * as another user through runuser when asked. A command that is missing or
 * hangs means the scheduler does not answer.
 */
import { execFile } from 'node:child_process';
import { SchedulerUnreachableError } from './executor';
import type { RunResult } from './slurmParse';

export type SlurmCommand = 'sbatch' | 'squeue' | 'scancel' | 'sinfo' | 'sacct';

/** How the Slurm commands are run. */
export interface SlurmCommandOptions {
  /** Paths of the Slurm commands; default: found on PATH. */
  bin?: Partial<Record<SlurmCommand, string>>;
  /** Per command; default 20 s. */
  timeoutMs?: number;
  /**
   * Run every command as this Unix user through `runuser -u USER --`
   * (root only; the tests use it to submit as an ordinary user).
   */
  runAs?: string;
  /** Environment of squeue/scancel/sinfo (default: the companion's); sbatch gets the job's. */
  env?: NodeJS.ProcessEnv;
}

class CommandMissing extends Error {}
class CommandTimedOut extends Error {}

export const doesNotAnswer = (said: string): string => `Slurm does not answer: ${said}`;

export const unreachable = (said: string): SchedulerUnreachableError =>
  new SchedulerUnreachableError(doesNotAnswer(said));

export class SlurmCommands {
  private readonly timeoutMs: number;

  constructor(private readonly opts: SlurmCommandOptions) {
    this.timeoutMs = opts.timeoutMs ?? 20_000;
  }

  /** A command that is missing or hangs means the scheduler does not answer. */
  async runOrUnreachable(
    command: SlurmCommand,
    args: string[],
    env?: NodeJS.ProcessEnv
  ): Promise<RunResult> {
    try {
      return await this.run(command, args, env);
    } catch (error) {
      if (error instanceof CommandMissing || error instanceof CommandTimedOut) {
        throw unreachable(error.message);
      }
      throw error;
    }
  }

  /** Runs one Slurm command (as opts.runAs, when given); a non-zero exit is an answer too. */
  run(
    command: SlurmCommand,
    args: string[],
    env?: NodeJS.ProcessEnv,
    timeoutMs = this.timeoutMs
  ): Promise<RunResult> {
    let file = this.opts.bin?.[command] ?? command;
    let argv = args;
    if (this.opts.runAs) {
      argv = ['-u', this.opts.runAs, '--', file, ...args];
      file = 'runuser';
    }
    const options = {
      env: env ?? this.opts.env ?? process.env,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
      encoding: 'utf8' as const
    };
    return new Promise((resolve, reject) => {
      execFile(file, argv, options, (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr, code: 0 });
          return;
        }
        const e = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        if (e.code === 'ENOENT') {
          reject(new CommandMissing(`${file} is not installed or not on PATH`));
        } else if (e.killed) {
          const seconds = Math.round(timeoutMs / 1000);
          reject(new CommandTimedOut(`${command} did not answer within ${seconds} s`));
        } else {
          resolve({ stdout, stderr, code: typeof e.code === 'number' ? e.code : 1 });
        }
      });
    });
  }
}
