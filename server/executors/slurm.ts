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
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EstimateAnswer,
  type ProfileMail,
  type Resources,
  SLURM_MAIL_TYPES
} from '../../contract/wire';
import { parseSlurmTime } from './slurmTime';
import {
  DISPATCHER,
  arraySpec,
  arrayTasks,
  cancelTargets,
  dispatcherScript,
  sharedEnv
} from './slurmArray';
import { ACCOUNTING_DISABLED, parseSacct, sacctArgs } from './sacct';
import {
  type AccountingAnswer,
  type ArrayOptions,
  type Executor,
  type LaunchSpec,
  type Observation,
  type SchedulerInfo,
  SchedulerUnreachableError
} from './executor';

type SlurmCommand = 'sbatch' | 'squeue' | 'scancel' | 'sinfo' | 'sacct';

export interface SlurmExecutorOptions {
  /** Paths of the Slurm commands; default: found on PATH. */
  bin?: Partial<Record<SlurmCommand, string>>;
  /** Per command; default 20 s. */
  timeoutMs?: number;
  /**
   * Run every command as this Unix user through `runuser -u USER --`
   * (root only; the tests use it to submit as an ordinary user).
   */
  runAs?: string;
  /** Seconds before the time limit when the job script gets USR1 (default 60). */
  signalLeadSeconds?: number;
  /** Environment of squeue/scancel/sinfo (default: the companion's); sbatch gets the job's. */
  env?: NodeJS.ProcessEnv;
  /**
   * The user's mail address for Slurm's mail (--mail-user), given to the runs
   * of profiles with `mail`; default: $HPC_SUBMIT_MAIL_USER.
   */
  mailUser?: string;
  /** How long sbatch --test-only may take for an estimate; default 5 s. */
  estimateTimeoutMs?: number;
}

/** The state mapping for one squeue line; pure. */
export function mapSlurmState(state: string, reason?: string): Observation {
  const s = state.trim().toUpperCase().split(/[\s+]/)[0];
  const r = reason && reason.trim() && reason.trim() !== 'None' ? reason.trim() : undefined;
  const ended = (endState: NonNullable<Observation['endState']>, why?: string): Observation => {
    const o: Observation = { phase: 'ended', endState };
    const said = why ?? r;
    if (said) {
      o.reason = said;
    }
    return o;
  };
  switch (s) {
    case 'PENDING':
    case 'CONFIGURING':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
    case 'REQUEUE_FED':
    case 'RESV_DEL_HOLD':
    case 'SPECIAL_EXIT':
    case 'RESIZING':
      return r ? { phase: 'pending', reason: r } : { phase: 'pending' };
    case 'RUNNING':
    case 'COMPLETING':
    case 'SIGNALING':
    case 'STAGE_OUT':
      return { phase: 'running' };
    case 'SUSPENDED':
    case 'STOPPED':
      return { phase: 'running', reason: 'Suspended' };
    case 'COMPLETED':
      return { phase: 'ended', endState: 'completed' };
    case 'FAILED':
      return ended('failed');
    case 'CANCELLED':
      return ended('cancelled');
    case 'TIMEOUT':
      return ended('timeout', 'TimeLimit');
    case 'DEADLINE':
      return ended('failed', 'Deadline');
    case 'OUT_OF_MEMORY':
      return ended('failed', 'OutOfMemory');
    case 'NODE_FAIL':
      return ended('failed', 'NodeFail');
    case 'PREEMPTED':
      return ended('failed', 'Preempted');
    case 'BOOT_FAIL':
      return ended('failed', 'BootFail');
    case 'REVOKED':
      return ended('cancelled', 'Revoked');
    default:
      // An unfamiliar state is not an end: keep watching rather than guess.
      return { phase: 'pending', reason: r ?? s };
  }
}

/**
 * squeue's fields: id, state, nodes, start time (the expected one while the
 * job waits), and the reason last, as it is free text that may hold a '|'.
 */
export const SQUEUE_FORMAT = '%i|%T|%N|%S|%r';

/** Parses `squeue -h -o SQUEUE_FORMAT`; pure. Ids asked for but absent are 'gone'. */
export function parseSqueue(stdout: string, askedIds: string[] = []): Map<string, Observation> {
  const out = new Map<string, Observation>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) {
      continue;
    }
    const [id, state, nodes, start, ...rest] = line.split('|');
    if (!id || state === undefined) {
      continue;
    }
    const observation = mapSlurmState(state, rest.join('|'));
    const node = (nodes ?? '').trim();
    if (node && node !== '(null)' && observation.phase !== 'pending') {
      observation.node = node;
    }
    const expected = observation.phase === 'pending' ? slurmTimestamp(start) : null;
    if (expected) {
      observation.expectedStart = expected;
    }
    out.set(id.trim(), observation);
  }
  for (const id of askedIds) {
    if (!out.has(id)) {
      out.set(id, { phase: 'gone' });
    }
  }
  return out;
}

const SLURM_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/**
 * A time as Slurm's clients print it ("2026-11-25T14:32:00", local time, no
 * zone) in ISO 8601 UTC; null for "N/A", "Unknown", "None" or anything else.
 * Pure, in the time zone of this process (the one squeue and sbatch ran in).
 */
export function slurmTimestamp(text: string | undefined): string | null {
  const t = (text ?? '').trim();
  if (!SLURM_TIMESTAMP.test(t)) {
    return null;
  }
  // A date-time without an offset is local time in ECMAScript, as it is for Slurm.
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * The start time in sbatch --test-only's answer (on stderr: "sbatch: Job 12
 * to start at 2026-11-25T14:32:00 using 4 processors on nodes vm in
 * partition cpu"), in ISO 8601; null when it names none. Pure.
 */
export function parseTestOnly(stderr: string): string | null {
  const m = /\bJob \d+ to start at (\S+)/.exec(stderr);
  return m ? slurmTimestamp(m[1]) : null;
}

/** An estimate this close to now (or past) means the run would start at once. */
const STARTS_NOW_MS = 30_000;

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "14:32" today, "2026-11-26 14:32" on another day; local time. */
function clockTime(at: Date, now: Date): string {
  const hm = `${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) {
    return hm;
  }
  return `${at.getFullYear()}-${pad2(at.getMonth() + 1)}-${pad2(at.getDate())} ${hm}`;
}

/** The answer for an estimate of the start (ISO 8601) or none; pure given `now`. */
export function estimateAnswer(expectedStart: string | null, now: Date): EstimateAnswer {
  if (expectedStart === null) {
    return { expectedStart: null, message: 'no estimate' };
  }
  const at = new Date(expectedStart);
  if (at.getTime() - now.getTime() <= STARTS_NOW_MS) {
    return { expectedStart, message: 'starts now' };
  }
  return {
    expectedStart,
    message: `expected to start ~${clockTime(at, now)} (Slurm's estimate)`
  };
}

/** Parses `sinfo -h -o '%R'`: one partition per line; pure. */
export function parseSinfo(stdout: string): string[] {
  const seen = new Set<string>();
  for (const line of stdout.split('\n')) {
    const name = line.trim();
    if (name) {
      seen.add(name);
    }
  }
  return [...seen];
}

/** Parses `sbatch --parsable` ("123" or "123;cluster"); pure. */
export function parseSbatch(stdout: string): string | null {
  const first = stdout.trim().split('\n').pop() ?? '';
  const id = first.split(';')[0].trim();
  return /^\d+(_\d+)?$/.test(id) ? id : null;
}

/** Slurm's mail types and a mail address: what --mail-type and --mail-user accept from us. */
const MAIL_TYPE = new Set<string>(SLURM_MAIL_TYPES);
const MAIL_ADDRESS = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

/** Throws a clear error unless `type` is a comma-separated list of Slurm's mail types; pure. */
export function checkMailType(type: string): string {
  const parts = type.split(',').map(p => p.trim().toUpperCase());
  const unknown = parts.filter(p => !MAIL_TYPE.has(p));
  if (parts.length === 0 || unknown.length > 0) {
    throw new Error(
      `the mail type ${JSON.stringify(type)} is not a list of Slurm's mail types (${SLURM_MAIL_TYPES.join(', ')})`
    );
  }
  return parts.join(',');
}

/** Throws a clear error unless `address` has the shape of a mail address; pure. */
export function checkMailUser(address: string): string {
  const a = address.trim();
  if (!MAIL_ADDRESS.test(a)) {
    throw new Error(
      `the mail address ${JSON.stringify(address)} (HPC_SUBMIT_MAIL_USER) is not of the form user@host`
    );
  }
  return a;
}

/** --mail-type and --mail-user when the profile asks for mail and the address is known; pure. */
export function mailArgs(mail: ProfileMail | undefined, mailUser: string | undefined): string[] {
  if (!mail?.type || !mailUser) {
    return [];
  }
  return [`--mail-type=${checkMailType(mail.type)}`, `--mail-user=${checkMailUser(mailUser)}`];
}

/**
 * A path as sbatch's --output takes it. sbatch expands %j, %a ... in file
 * names, and %% is a literal percent sign. A backslash anywhere turns the
 * expansion off and is itself dropped, so the log would land elsewhere:
 * such a path is refused. Pure.
 */
export function slurmFilename(path: string): string {
  if (path.includes('\\')) {
    throw new Error(`Slurm cannot write a log under a path with a backslash: ${path}`);
  }
  return path.replace(/%/g, '%%');
}

/** What one sbatch submission is made of; the same for a single job and an array. */
interface Submission {
  name: string;
  /** --output, already in Slurm's file-name pattern syntax (slurmFilename). */
  output: string;
  cwd: string;
  resources?: Resources;
  mail?: ProfileMail;
  script: string;
  /** --array's value, for a job array. */
  array?: string;
}

/** The sbatch arguments of a submission: resources, mail and the time-limit signal; pure. */
function submissionArgs(s: Submission, signalLeadSeconds: number, mailUser?: string): string[] {
  const r: Resources = s.resources ?? {};
  const args = [
    '--parsable',
    '--job-name',
    jobName(s.name),
    // stderr joins stdout in this one file: the log the companion serves.
    '--output',
    s.output,
    '--chdir',
    s.cwd,
    // A node failure ends the run with its reason; requeued, the notebook would
    // silently start over from its first cell and write its output again.
    '--no-requeue'
  ];
  if (s.array) {
    args.push(`--array=${s.array}`);
  }
  if (r.partition) {
    args.push('--partition', r.partition);
  }
  if (r.gpus && r.gpus > 0) {
    args.push(`--gres=gpu:${Math.floor(r.gpus)}`);
  }
  if (r.cpus && r.cpus > 0) {
    args.push('--cpus-per-task', String(Math.floor(r.cpus)));
  }
  if (r.memory) {
    args.push('--mem', r.memory);
  }
  if (r.time) {
    args.push('--time', r.time);
  }
  args.push(...mailArgs(s.mail, mailUser));
  args.push(`--signal=B:USR1@${signalLead(r.time, signalLeadSeconds)}`, s.script);
  return args;
}

/** The sbatch arguments for one job; pure. */
export function sbatchArgs(spec: LaunchSpec, signalLeadSeconds = 60, mailUser?: string): string[] {
  return submissionArgs(
    {
      name: spec.name,
      output: slurmFilename(spec.logPath),
      cwd: spec.cwd,
      resources: spec.resources,
      mail: spec.mail,
      script: spec.scriptPath
    },
    signalLeadSeconds,
    mailUser
  );
}

/**
 * The sbatch arguments for the tasks of one sweep as one job array: the
 * dispatcher as the script, each task's log at `<jobs>/<sweepId>-<index>/log.txt`
 * through Slurm's %a. Throws a clear error for specs that cannot be one array. Pure.
 */
export function arraySbatchArgs(
  specs: LaunchSpec[],
  opts: ArrayOptions,
  signalLeadSeconds = 60,
  mailUser?: string
): string[] {
  const { jobsDir, indices } = arrayTasks(specs, opts.sweepId);
  const first = specs[0];
  return submissionArgs(
    {
      name: first.name,
      output: `${slurmFilename(join(jobsDir, `${opts.sweepId}-`))}%a/log.txt`,
      cwd: first.cwd,
      resources: first.resources,
      mail: first.mail,
      script: join(opts.sweepDir, DISPATCHER),
      array: arraySpec(indices, opts.maxParallel)
    },
    signalLeadSeconds,
    mailUser
  );
}

/**
 * Seconds before the time limit at which the job is warned (USR1) so it can
 * save its partial notebook. At most a quarter of a short limit: a 1-minute
 * job warned 60 s ahead would be told to stop before its first cell.
 */
export function signalLead(time: string | undefined, most: number): number {
  const limitMs = parseSlurmTime(time);
  if (limitMs === null) {
    return most;
  }
  return Math.max(5, Math.min(most, Math.floor(limitMs / 4000)));
}

function jobName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return clean || 'notebook';
}

/** Messages of Slurm clients that mean "the controller does not answer". */
const UNREACHABLE =
  /unable to contact slurm controller|connection refused|connect failure|could not establish a configuration source|socket timed out|communication connection failure|slurm_load_(jobs|partitions) error: (?!Invalid job id)|zero bytes were transmitted|timed out/i;

interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

class CommandMissing extends Error {}
class CommandTimedOut extends Error {}

/** Environment for sbatch: the job's own, less the SLURM_* of an enclosing job (a hub spawned by batchspawner). */
function submitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('SLURM_') && key !== 'SLURM_CONF') {
      continue;
    }
    out[key] = value;
  }
  return out;
}

/** What a Slurm client said, on one line, short enough for a message. */
const firstLine = (text: string): string =>
  text
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)
    .join(' ')
    .slice(0, 500);

const SLURM_JOB_ID = /^\d+(_\d+)?$/;

/** sbatch --test-only's answer as an estimate; a refusal says why there is none. */
function estimateOf(result: RunResult, now = new Date()): EstimateAnswer {
  const start = parseTestOnly(result.stderr);
  if (result.code === 0 && start) {
    return estimateAnswer(start, now);
  }
  const said = firstLine(result.stderr) || firstLine(result.stdout);
  const why = said.replace(/^sbatch: error: /, '').replace(/^allocation failure: /, '');
  return { expectedStart: null, message: why ? `no estimate: ${why}` : 'no estimate' };
}

const doesNotAnswer = (said: string): string => `Slurm does not answer: ${said}`;

const unreachable = (said: string): SchedulerUnreachableError =>
  new SchedulerUnreachableError(doesNotAnswer(said));

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
  private readonly timeoutMs: number;
  private readonly lead: number;
  private readonly mailUser: string | undefined;

  constructor(private readonly opts: SlurmExecutorOptions) {
    this.timeoutMs = opts.timeoutMs ?? 20_000;
    this.lead = opts.signalLeadSeconds ?? 60;
    this.mailUser = mailUserOf(opts);
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
    const result = await this.runOrUnreachable('sbatch', args, env);
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
    const result = await this.runOrUnreachable('squeue', [
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
    const result = await this.runOrUnreachable('scancel', ids);
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
    const result = await this.run('sacct', sacctArgs(ids));
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
      result = await this.run('sinfo', ['-h', '-o', '%R']);
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
      return estimateOf(await this.run('sbatch', args, env, timeoutMs));
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

  /** A command that is missing or hangs means the scheduler does not answer. */
  private async runOrUnreachable(
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
  private run(
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
