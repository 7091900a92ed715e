/**
 * Runs the Slurm commands: execFile with an argument list (never a shell),
 * as another user through runuser when asked. A command that is missing or
 * hangs means the scheduler does not answer.
 */
import { CommandNotRun, runCommand } from '../runCommand';
import { SchedulerUnreachableError } from './executor';
import type { RunResult } from './slurmParse';

export type SlurmCommand = 'sbatch' | 'squeue' | 'scancel' | 'sinfo' | 'sacct' | 'scrontab';

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
      if (error instanceof CommandNotRun) {
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
    timeoutMs = this.timeoutMs,
    input?: string
  ): Promise<RunResult> {
    let file = this.opts.bin?.[command] ?? command;
    let argv = args;
    if (this.opts.runAs) {
      argv = ['-u', this.opts.runAs, '--', file, ...args];
      file = 'runuser';
    }
    return runCommand([file, ...argv], {
      env: env ?? this.opts.env ?? process.env,
      timeoutMs,
      name: command,
      ...(input !== undefined ? { input } : {})
    });
  }
}
