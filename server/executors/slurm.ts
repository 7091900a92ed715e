/**
 * The Slurm adapter: sbatch to submit (a sweep as one job array), ONE squeue
 * call per poll for all live jobs and array tasks, scancel to cancel, sinfo
 * for partitions. Every command runs through execFile with an argument list;
 * nothing passes through a shell.
 *
 * The job's own status.json decides how a job ended (see jobStatus.ts); what
 * squeue says matters while a job waits or runs, and for ends the job could
 * not report itself (out of memory, node failure, a SIGKILL).
 */
import { chmod, chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EstimateAnswer, Resources } from '../../contract/wire';
import { DISPATCHER, arrayTasks, cancelTargets, dispatcherScript, sharedEnv } from './slurmArray';
import { ACCOUNTING_DISABLED, parseSacct, sacctArgs } from './sacct';
import {
  type AccountingAnswer,
  type ArrayOptions,
  type CronTable,
  type Executor,
  type LaunchSpec,
  type Observation,
  type SchedulerInfo
} from './executor';
import {
  type RunResult,
  SLURM_JOB_ID,
  SQUEUE_FORMAT,
  UNREACHABLE,
  estimateOf,
  firstLine,
  parseSbatch,
  parseSinfo,
  parseSqueue
} from './slurmParse';
import { slurmCronTable } from './scrontab';
import { arraySbatchArgs, checkMailUser, sbatchArgs, submitEnv } from './sbatchArgs';
import {
  type SlurmCommandOptions,
  SlurmCommands,
  doesNotAnswer,
  unreachable
} from './slurmCommands';

export interface SlurmExecutorOptions extends SlurmCommandOptions {
  /** Seconds before the time limit when the job script gets USR1 (default 60). */
  signalLeadSeconds?: number;
  /**
   * The user's mail address for Slurm's mail (--mail-user), given to the runs
   * of profiles with `mail`; default: $HPC_SUBMIT_MAIL_USER.
   */
  mailUser?: string;
  /** How long sbatch --test-only may take for an estimate; default 5 s. */
  estimateTimeoutMs?: number;
}

export function createSlurmExecutor(opts: SlurmExecutorOptions = {}): Executor {
  return new SlurmExecutor(opts);
}

/** The mail address from the options or the environment; a malformed one is refused at start. */
function mailUserOf(opts: SlurmExecutorOptions): string | undefined {
  const given = opts.mailUser ?? process.env.HPC_SUBMIT_MAIL_USER;
  return given?.trim() ? checkMailUser(given) : undefined;
}

/** What sbatch --test-only is given to run: it is read, never started. */
const ESTIMATE_SCRIPT = '#!/bin/sh\ntrue\n';

class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  private readonly commands: SlurmCommands;
  private readonly lead: number;
  private readonly mailUser: string | undefined;
  readonly crontab: CronTable;

  constructor(private readonly opts: SlurmExecutorOptions) {
    this.commands = new SlurmCommands(opts);
    this.lead = opts.signalLeadSeconds ?? 60;
    this.mailUser = mailUserOf(opts);
    this.crontab = slurmCronTable(this.commands);
  }

  async submit(spec: LaunchSpec): Promise<string> {
    return this.sbatch(sbatchArgs(spec, this.lead, this.mailUser), submitEnv(spec.env), 'job');
  }

  /**
   * One sbatch --array for the sweep's tasks; the dispatcher `array.sh` in
   * the sweep's directory runs each task's job.sh. Answers `<array id>_<index>`
   * for each spec, in the specs' order.
   */
  async submitArray(specs: LaunchSpec[], opts: ArrayOptions): Promise<string[]> {
    const { jobsDir, indices } = arrayTasks(specs, opts.sweepId);
    const args = arraySbatchArgs(specs, opts, this.lead, this.mailUser);
    await this.writeDispatcher(opts.sweepDir, dispatcherScript(jobsDir, opts.sweepId));
    const arrayId = await this.sbatch(args, submitEnv(sharedEnv(specs)), 'sweep');
    return indices.map(i => `${arrayId}_${i}`);
  }

  /** sbatch reads the script as the submitting user: with runAs, the sweep directory's owner owns it. */
  private async writeDispatcher(sweepDir: string, script: string): Promise<void> {
    const path = join(sweepDir, DISPATCHER);
    await writeFile(path, script, { mode: 0o700 });
    await chmod(path, 0o700);
    if (this.opts.runAs) {
      const owner = await stat(sweepDir);
      await chown(path, owner.uid, owner.gid);
    }
  }

  /** Runs sbatch; answers the job id, or throws what Slurm said. */
  private async sbatch(args: string[], env: NodeJS.ProcessEnv, what: string): Promise<string> {
    const result = await this.commands.runOrUnreachable('sbatch', args, env);
    if (result.code !== 0) {
      const said =
        firstLine(result.stderr) || firstLine(result.stdout) || `exit code ${result.code}`;
      if (UNREACHABLE.test(said)) {
        throw unreachable(said);
      }
      throw new Error(`Slurm refused the ${what}: ${said.replace(/^sbatch: error: /, '')}`);
    }
    const id = parseSbatch(result.stdout);
    if (!id) {
      throw new Error(`sbatch answered no job id: ${firstLine(result.stdout) || '(nothing)'}`);
    }
    return id;
  }

  /** One squeue for all ids; an id that is not Slurm's is 'gone' without asking. */
  async observe(schedulerIds: string[]): Promise<Map<string, Observation>> {
    const ids = [...new Set(schedulerIds.filter(id => SLURM_JOB_ID.test(id)))];
    const out = new Map<string, Observation>();
    for (const id of schedulerIds) {
      if (!ids.includes(id)) {
        out.set(id, { phase: 'gone' });
      }
    }
    if (ids.length === 0) {
      return out;
    }
    // -r: an array's pending tasks one per line (123_5), not folded (123_[5-11%4]).
    const result = await this.commands.runOrUnreachable('squeue', [
      '-h',
      '-r',
      '--states=all',
      '-j',
      ids.join(','),
      '-o',
      SQUEUE_FORMAT
    ]);
    if (result.code !== 0) {
      const said = firstLine(result.stderr) || `exit code ${result.code}`;
      if (!/invalid job id/i.test(said)) {
        throw unreachable(`squeue failed: ${said}`);
      }
      // Some Slurm versions refuse the whole list when an id left the queue:
      // those that remain are then asked once each (rare: only after MinJobAge).
      for (const [id, o] of await this.observeEach(ids)) {
        out.set(id, o);
      }
      return out;
    }
    for (const [id, o] of parseSqueue(result.stdout, ids)) {
      out.set(id, o);
    }
    return out;
  }

  /** A waiting array task cancelled alone may leave no record in Slurm: observe then says 'gone'. */
  async cancel(schedulerId: string): Promise<void> {
    await this.scancel([schedulerId]);
  }

  /** One scancel: of the array id when the ids are one array's tasks. */
  async cancelArray(schedulerIds: string[]): Promise<void> {
    if (schedulerIds.length > 0) {
      await this.scancel(cancelTargets(schedulerIds));
    }
  }

  /** One scancel call for these ids; one that already ended is not an error. */
  private async scancel(ids: string[]): Promise<void> {
    const bad = ids.find(id => !SLURM_JOB_ID.test(id));
    if (bad !== undefined) {
      throw new Error(`not a Slurm job id: ${bad}`);
    }
    const result = await this.commands.runOrUnreachable('scancel', ids);
    if (result.code === 0) {
      return;
    }
    const said = firstLine(result.stderr) || `exit code ${result.code}`;
    if (/invalid job id|already completing or completed|job has already finished/i.test(said)) {
      return;
    }
    if (UNREACHABLE.test(said)) {
      throw unreachable(said);
    }
    throw new Error(
      `Slurm refused to cancel job ${ids.join(' ')}: ${said.replace(/^scancel: error: /, '')}`
    );
  }

  /** One sacct (slurmdbd, not slurmctld) for all these ended jobs and their steps. */
  async accounting(schedulerIds: string[]): Promise<AccountingAnswer> {
    const ids = [...new Set(schedulerIds.filter(id => SLURM_JOB_ID.test(id)))];
    if (ids.length === 0) {
      return { kind: 'records', records: new Map() };
    }
    const result = await this.commands.run('sacct', sacctArgs(ids));
    const said = firstLine(result.stderr);
    if (ACCOUNTING_DISABLED.test(said) || ACCOUNTING_DISABLED.test(firstLine(result.stdout))) {
      return { kind: 'disabled', message: said || firstLine(result.stdout) };
    }
    if (result.code !== 0) {
      throw new Error(`sacct failed: ${said || `exit code ${result.code}`}`);
    }
    return { kind: 'records', records: parseSacct(result.stdout) };
  }

  async describe(): Promise<SchedulerInfo> {
    let result: RunResult;
    try {
      result = await this.commands.run('sinfo', ['-h', '-o', '%R']);
    } catch (error) {
      return { reachable: false, partitions: [], message: doesNotAnswer((error as Error).message) };
    }
    if (result.code !== 0) {
      const said = firstLine(result.stderr) || `sinfo exit code ${result.code}`;
      return { reachable: false, partitions: [], message: doesNotAnswer(said) };
    }
    return { reachable: true, partitions: parseSinfo(result.stdout) };
  }

  /**
   * sbatch --test-only with the arguments of a real submission: Slurm says
   * when it would start the run, and starts nothing. The script is a trivial
   * file written here (readable by `runAs`), removed afterwards.
   */
  async estimateStart(resources: Resources): Promise<EstimateAnswer> {
    const dir = await mkdtemp(join(tmpdir(), 'hpc-submit-estimate-'));
    try {
      await chmod(dir, 0o755);
      const scriptPath = join(dir, 'estimate.sh');
      await writeFile(scriptPath, ESTIMATE_SCRIPT, { mode: 0o644 });
      const spec: LaunchSpec = {
        jobId: 'estimate',
        jobDir: dir,
        scriptPath,
        logPath: '/dev/null',
        cwd: dir,
        resources,
        env: {},
        name: 'estimate'
      };
      const args = ['--test-only', ...sbatchArgs(spec, this.lead)];
      const env = submitEnv(this.opts.env ?? process.env);
      const timeoutMs = this.opts.estimateTimeoutMs ?? 5000;
      return estimateOf(await this.commands.run('sbatch', args, env, timeoutMs));
    } catch (error) {
      return {
        expectedStart: null,
        message: `no estimate: ${doesNotAnswer((error as Error).message)}`
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async observeEach(ids: string[]): Promise<Map<string, Observation>> {
    if (ids.length === 1) {
      return new Map([[ids[0], { phase: 'gone' }]]);
    }
    const out = new Map<string, Observation>();
    for (const id of ids) {
      const one = await this.observe([id]);
      out.set(id, one.get(id) ?? { phase: 'gone' });
    }
    return out;
  }
}
