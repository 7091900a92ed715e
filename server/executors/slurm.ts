/**
 * The Slurm adapter: sbatch to submit, ONE squeue call per poll for all live
 * jobs, scancel to cancel, sinfo for partitions. Every command runs through
 * execFile with an argument list; nothing passes through a shell.
 *
 * The job's own status.json decides how a job ended (see jobStatus.ts); what
 * squeue says matters while a job waits or runs, and for ends the job could
 * not report itself (out of memory, node failure, a SIGKILL).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  type Executor,
  type LaunchSpec,
  type Observation,
  type SchedulerInfo,
  SchedulerUnreachableError
} from './executor';

type SlurmCommand = 'sbatch' | 'squeue' | 'scancel' | 'sinfo';

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

/** The sbatch arguments for one job; pure. */
export function sbatchArgs(spec: LaunchSpec, signalLeadSeconds = 60, mailUser?: string): string[] {
  const r: Resources = spec.resources ?? {};
  const args = [
    '--parsable',
    '--job-name',
    jobName(spec.name),
    // sbatch expands %j, %u ... in file names; %% is a literal percent sign.
    '--output',
    spec.logPath.replace(/%/g, '%%'),
    '--chdir',
    spec.cwd,
    // A node failure ends the run with its reason; requeued, the notebook would
    // silently start over from its first cell and write its output again.
    '--no-requeue'
  ];
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
  args.push(...mailArgs(spec.mail, mailUser));
  args.push(`--signal=B:USR1@${signalLead(r.time, signalLeadSeconds)}`, spec.scriptPath);
  return args;
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
    const result = await this.runOrUnreachable(
      'sbatch',
      sbatchArgs(spec, this.lead, this.mailUser),
      submitEnv(spec.env)
    );
    if (result.code !== 0) {
      const said =
        firstLine(result.stderr) || firstLine(result.stdout) || `exit code ${result.code}`;
      if (UNREACHABLE.test(said)) {
        throw unreachable(said);
      }
      throw new Error(`Slurm refused the job: ${said.replace(/^sbatch: error: /, '')}`);
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
    const result = await this.runOrUnreachable('squeue', [
      '-h',
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

  async cancel(schedulerId: string): Promise<void> {
    if (!SLURM_JOB_ID.test(schedulerId)) {
      throw new Error(`not a Slurm job id: ${schedulerId}`);
    }
    const result = await this.runOrUnreachable('scancel', [schedulerId]);
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
      `Slurm refused to cancel job ${schedulerId}: ${said.replace(/^scancel: error: /, '')}`
    );
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
