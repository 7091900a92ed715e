/**
 * What a job reports about itself (status.json, progress.json, written by
 * job.sh and nbconvert_config.py on the compute node) and the one pure rule
 * that turns that report plus the scheduler's observation into a job state.
 *
 * The job's own end record wins over the scheduler: accounting may be off,
 * the scheduler forgets ended jobs, and only the job knows why it ended
 * ("no GPU visible on node7", "cell 3 of 9 raised KeyError").
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job, JobState, Progress } from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import type { Observation } from '../executors/executor';

export type { Progress };

export type JobOutcome = 'completed' | 'failed' | 'timeout' | 'terminated';

/** What status.json says in either phase. */
interface JobStatusCommon {
  jobId?: string;
  host: string;
  /** CUDA_VISIBLE_DEVICES entries, or `nvidia-smi -L` lines. */
  gpus: string[];
  startedAt: string;
}

/** status.json while the job runs. */
export interface JobStatusStarted extends JobStatusCommon {
  phase: 'started';
  /** pid of the job script on its host. */
  pid?: number;
}

/** status.json once the job script ended by itself (or by a trapped signal). */
export interface JobStatusEnded extends JobStatusCommon {
  phase: 'ended';
  endedAt: string;
  exitCode: number;
  /** terminated: a TERM/INT reached the script (a cancel, or a time limit without warning). */
  outcome: JobOutcome;
  reason?: string;
  /** With outcome terminated: the signal's name ("TERM"). */
  signal?: string;
}

export type JobStatusFile = JobStatusStarted | JobStatusEnded;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null; // a partial file (mid-write on a filesystem without atomic rename) reads as absent
  }
}

const OUTCOMES: readonly string[] = ['completed', 'failed', 'timeout', 'terminated'];

/** Validates status.json content; null when it is missing, partial or foreign. */
export function parseJobStatus(text: string): JobStatusFile | null {
  const raw = parseJson(text) as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object') {
    return null;
  }
  const host = typeof raw.host === 'string' ? raw.host : '';
  const gpus = Array.isArray(raw.gpus)
    ? raw.gpus.filter((g): g is string => typeof g === 'string')
    : [];
  const startedAt = typeof raw.startedAt === 'string' ? raw.startedAt : '';
  const jobId = typeof raw.jobId === 'string' ? raw.jobId : undefined;
  if (raw.phase === 'started') {
    const status: JobStatusStarted = { phase: 'started', host, gpus, startedAt };
    if (jobId !== undefined) {
      status.jobId = jobId;
    }
    if (typeof raw.pid === 'number') {
      status.pid = raw.pid;
    }
    return status;
  }
  if (raw.phase === 'ended' && typeof raw.outcome === 'string' && OUTCOMES.includes(raw.outcome)) {
    const status: JobStatusEnded = {
      phase: 'ended',
      host,
      gpus,
      startedAt,
      endedAt: typeof raw.endedAt === 'string' ? raw.endedAt : '',
      exitCode: typeof raw.exitCode === 'number' ? raw.exitCode : -1,
      outcome: raw.outcome as JobOutcome
    };
    if (jobId !== undefined) {
      status.jobId = jobId;
    }
    if (typeof raw.reason === 'string' && raw.reason) {
      status.reason = raw.reason;
    }
    if (typeof raw.signal === 'string' && raw.signal) {
      status.signal = raw.signal;
    }
    return status;
  }
  return null;
}

export function parseProgress(text: string): Progress | null {
  const raw = parseJson(text) as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object') {
    return null;
  }
  const { cell, total } = raw;
  if (!Number.isInteger(cell) || !Number.isInteger(total)) {
    return null;
  }
  if ((cell as number) < 0 || (total as number) < 0) {
    return null;
  }
  return { cell: Math.min(cell as number, total as number), total: total as number };
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * status.json, with a failed job's reason completed from its log: the job
 * script knows only nbconvert's exit code when nbconvert fails outside any
 * cell, and only the log knows that the scheduler killed it for its memory.
 */
export async function readJobStatus(jobDir: string): Promise<JobStatusFile | null> {
  const text = await readText(join(jobDir, 'status.json'));
  const status = text === null ? null : parseJobStatus(text);
  if (status?.phase !== 'ended' || status.outcome !== 'failed') {
    return status;
  }
  const reason = failureReason(status.reason, await readLogTail(jobDir));
  return reason === undefined ? status : { ...status, reason };
}

export async function readProgress(jobDir: string): Promise<Progress | null> {
  const text = await readText(join(jobDir, 'progress.json'));
  return text === null ? null : parseProgress(text);
}

/**
 * Every reason a job's end is given, in words: each sentence is written
 * here once, whichever of the job, the scheduler or the log told of the end.
 */
export const REASONS = {
  cancelled: 'cancelled',
  cancelledOutside: 'cancelled outside hpc-submit',
  timeLimit: 'time limit reached',
  vanished: 'the job vanished from the scheduler without reporting an end',
  notebookFailed: (exitCode: number): string => `the notebook run failed (exit code ${exitCode})`,
  stoppedBySignal: (signal = 'TERM'): string => `stopped by signal ${signal}`,
  schedulerSaysFailed: (exitCode?: number): string =>
    `the scheduler reports the job failed${exitCode !== undefined ? ` (exit code ${exitCode})` : ''}`
} as const;

/** The scheduler's reason codes for ending a job that say why, in words. */
const END_CAUSES: Record<string, string> = {
  OutOfMemory: 'out of memory: the run used more than the memory it asked for',
  NodeFail: 'node failure: the node went down during the run',
  TimeLimit: REASONS.timeLimit,
  Preempted: 'preempted by the scheduler',
  BootFail: 'the node failed to boot',
  Deadline: 'deadline reached before the job could finish',
  Cancelled: REASONS.cancelled
};

/** A scheduler's reason code in words; an unfamiliar one as it is. */
function reasonFor(cause: string): string {
  return END_CAUSES[cause] ?? cause;
}

/**
 * Why the scheduler ended the job, as its own lines in the job's log say
 * (slurmstepd writes them to the job's output), or undefined. Slurm without
 * cgroups reports a job killed for its memory as FAILED/JobLaunchFailure:
 * only the log says it was out of memory. Pure.
 */
export function endCauseInLog(logTail: string): string | undefined {
  if (/exceeded (job )?memory limit|oom[-_]kill event/i.test(logTail)) {
    return 'OutOfMemory';
  }
  const due = /\*\*\* JOB \S+ ON \S+ CANCELLED AT \S+ DUE TO ([A-Z ]+?)(,| \*\*\*)/.exec(
    logTail
  )?.[1];
  if (due === 'NODE FAILURE') {
    return 'NodeFail';
  }
  if (due === 'TIME LIMIT') {
    return 'TimeLimit';
  }
  if (due === 'PREEMPTION') {
    return 'Preempted';
  }
  return undefined;
}

/** What the job script says when nbconvert failed without leaving a reason.txt. */
const UNEXPLAINED_EXIT = /^nbconvert exited with code \d+$/;

const TRACEBACK = 'Traceback (most recent call last):';
/** "pkg.module.Name: message" or "Name": the line that ends a Python traceback. */
const EXCEPTION_LINE = /^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:: .*)?)$/;
/** `python -m X` without X: Python reports it in one line, without a traceback. */
const MODULE_NOT_RUN = /^\S+: No module named \S+$/;
const MAX_REASON = 500;

/**
 * The exception that ended the last traceback in the log, as Python names it
 * without its module ("NotebookValidationError: 'name' is a required
 * property"), or Python's one-line "No module named" report, whichever comes
 * last; undefined when the log holds neither. Pure.
 */
export function lastExceptionLine(logTail: string): string | undefined {
  let found: string | undefined;
  let inTraceback = false;
  for (const raw of logTail.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith(TRACEBACK)) {
      inTraceback = true;
    } else if (inTraceback) {
      // Frames are indented; the first line that is not ends the traceback.
      if (line === '' || /^\s/.test(line)) {
        continue;
      }
      inTraceback = false;
      found = EXCEPTION_LINE.exec(line)?.[1] ?? found;
    } else if (MODULE_NOT_RUN.test(line)) {
      found = line;
    }
  }
  return found?.slice(0, MAX_REASON);
}

/**
 * A failed job's reason given its own and its log: out of memory first where
 * the scheduler's lines in the log say so (the job cannot know why its kernel
 * was killed), and in place of a bare exit code the exception that ended the
 * run. Undefined when the log adds nothing. Pure.
 */
export function failureReason(own: string | undefined, logTail: string): string | undefined {
  const told =
    own === undefined || UNEXPLAINED_EXIT.test(own) ? (lastExceptionLine(logTail) ?? own) : own;
  if (endCauseInLog(logTail) === 'OutOfMemory') {
    const outOfMemory = reasonFor('OutOfMemory');
    return told ? `${outOfMemory} (${told})` : outOfMemory;
  }
  return told === own ? undefined : told;
}

/** The last `bytes` of the job's log, or '' when there is none. */
export async function readLogTail(jobDir: string, bytes = 8192): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(join(jobDir, 'log.txt'), 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

export interface ReconcileContext {
  /** The companion asked the scheduler to cancel this job. */
  cancelRequested: boolean;
  /** False while the scheduler does not answer: then nothing turns final on its word. */
  schedulerReachable: boolean;
  /** The time to record as endedAt when the scheduler (not the job) reports the end; default: now. */
  now?: string;
  /** Why the scheduler ended the job, as the job's log says (endCauseInLog). */
  logCause?: string;
}

/**
 * How long a job that reports a TERM waits for the scheduler to say why
 * (a cancel outside hpc-submit, a node failure, a preemption) before it is
 * called failed on its own word.
 */
export const TERMINATED_WAIT_MS = 60_000;

/** A job's state and why it is in it. */
interface Verdict {
  state: JobState;
  reason?: string;
}

const COMPLETED: Verdict = { state: 'completed' };
const RUNNING: Verdict = { state: 'running' };
const CANCELLED: Verdict = { state: 'cancelled', reason: REASONS.cancelled };
const CANCELLED_OUTSIDE: Verdict = { state: 'cancelled', reason: REASONS.cancelledOutside };
const TIMED_OUT: Verdict = { state: 'timeout', reason: REASONS.timeLimit };

/** A TERM alone does not say who sent it: no verdict until the scheduler's word. */
const WAIT_FOR_SCHEDULER = 'wait for the scheduler';

/** The scheduler's specific reason for the end, else the log's, else undefined. */
function endCause(observation: Observation | undefined, ctx: ReconcileContext): string | undefined {
  // A running job's reason counts too: squeue says TimeLimit while it still winds down.
  const said =
    observation?.phase === 'ended' || observation?.phase === 'running'
      ? observation.reason
      : undefined;
  if (said && said in END_CAUSES) {
    return said;
  }
  return ctx.logCause;
}

/** The end a scheduler's cause means: a time limit is a timeout, any other a failure. */
function endFor(cause: string): Verdict {
  return cause === 'TimeLimit' ? TIMED_OUT : { state: 'failed', reason: reasonFor(cause) };
}

/**
 * The job's new fields, given its own report and the scheduler's word.
 * Pure (given ctx.now). Answers only the fields that change (an empty object: no change).
 * A job in a final state never changes state again; missing details
 * (end time, exit code, node) are still filled in from status.json.
 */
export function reconcile(
  job: Job,
  status: JobStatusFile | null,
  progress: Progress | null,
  observation: Observation | undefined,
  ctx: ReconcileContext
): Partial<Job> {
  const facts = factsOf(status, progress, observation, ctx);
  const verdict = verdictOf(job, status, observation, ctx);
  if (verdict === WAIT_FOR_SCHEDULER) {
    // Until then the end is not recorded either.
    delete facts.endedAt;
    delete facts.exitCode;
    return pruneUnchanged(job, { ...facts, ...expectedStartOf(job, 'running', observation, ctx) });
  }
  if (isFinal(job)) {
    return { ...missingFacts(job, facts), ...expectedStartOf(job, job.state, observation, ctx) };
  }
  const next: Partial<Job> = {
    ...facts,
    ...expectedStartOf(job, verdict.state, observation, ctx)
  };
  if (verdict.state !== job.state) {
    next.state = verdict.state;
  }
  if (verdict.reason !== job.reason) {
    next.reason = verdict.reason;
  }
  if (isFinal(verdict) && !next.endedAt && !job.endedAt) {
    next.endedAt = ctx.now ?? new Date().toISOString();
  }
  return pruneUnchanged(job, next);
}

/** What the job and the scheduler report besides the state: node, GPUs, times, exit code. */
function factsOf(
  status: JobStatusFile | null,
  progress: Progress | null,
  observation: Observation | undefined,
  ctx: ReconcileContext
): Partial<Job> {
  const facts: Partial<Job> = {};
  const node = nodeOf(status, observation, ctx);
  if (node) {
    facts.node = node;
  }
  if (status) {
    facts.gpus = status.gpus;
    if (status.startedAt) {
      facts.startedAt = status.startedAt;
    }
  }
  if (progress) {
    facts.progress = progress;
  }
  if (status?.phase === 'ended') {
    if (status.endedAt) {
      facts.endedAt = status.endedAt;
    }
    facts.exitCode = status.exitCode;
  } else if (
    ctx.schedulerReachable &&
    observation?.phase === 'ended' &&
    observation.exitCode !== undefined
  ) {
    facts.exitCode = observation.exitCode;
  }
  return facts;
}

/** The job's own host; else the scheduler's node while it runs the job. */
function nodeOf(
  status: JobStatusFile | null,
  observation: Observation | undefined,
  ctx: ReconcileContext
): string | undefined {
  if (status?.host) {
    return status.host;
  }
  if (observation?.phase !== 'running' || !observation.node) {
    return undefined;
  }
  // A status.json without a host: the scheduler's word counts only while it answers.
  return !status || (status.phase !== 'ended' && ctx.schedulerReachable)
    ? observation.node
    : undefined;
}

/**
 * The scheduler's estimate of the start while the job waits: set or renewed
 * from each observation of a queued job (undefined, as squeue's "N/A",
 * removes a stale one), kept while the scheduler does not answer, removed
 * once the job is no longer queued. Answers only the change.
 */
function expectedStartOf(
  job: Job,
  state: JobState,
  observation: Observation | undefined,
  ctx: ReconcileContext
): Partial<Job> {
  if (state !== 'queued') {
    return job.expectedStart === undefined ? {} : { expectedStart: undefined };
  }
  if (!ctx.schedulerReachable || observation?.phase !== 'pending') {
    return {};
  }
  return observation.expectedStart === job.expectedStart
    ? {}
    : { expectedStart: observation.expectedStart };
}

/** Only what a final job still lacks: final is final. */
function missingFacts(job: Job, facts: Partial<Job>): Partial<Job> {
  const fill: Partial<Job> = {};
  for (const key of ['node', 'gpus', 'startedAt', 'endedAt', 'exitCode', 'progress'] as const) {
    if (job[key] === undefined && facts[key] !== undefined) {
      (fill as Record<string, unknown>)[key] = facts[key];
    }
  }
  return fill;
}

/** The job's own end record wins; without one, the scheduler's word while it answers. */
function verdictOf(
  job: Job,
  status: JobStatusFile | null,
  observation: Observation | undefined,
  ctx: ReconcileContext
): Verdict | typeof WAIT_FOR_SCHEDULER {
  if (status?.phase === 'ended') {
    return ownEnd(status, observation, ctx);
  }
  if (!observation || !ctx.schedulerReachable) {
    // No word from the scheduler: only the job's own start counts.
    const waiting = job.state === 'queued' || job.state === 'unknown';
    return status?.phase === 'started' && waiting ? RUNNING : current(job);
  }
  return schedulerWord(status, observation, ctx);
}

const current = (job: Job): Verdict => ({ state: job.state, reason: job.reason });

/** The end the job recorded itself in status.json. */
function ownEnd(
  status: JobStatusEnded,
  observation: Observation | undefined,
  ctx: ReconcileContext
): Verdict | typeof WAIT_FOR_SCHEDULER {
  switch (status.outcome) {
    case 'completed':
      return COMPLETED;
    case 'failed':
      return { state: 'failed', reason: status.reason ?? REASONS.notebookFailed(status.exitCode) };
    case 'timeout':
      return { state: 'timeout', reason: status.reason ?? REASONS.timeLimit };
    case 'terminated':
      return terminatedEnd(status, observation, ctx);
  }
}

/** The job reports a TERM: who sent it decides the end. */
function terminatedEnd(
  status: JobStatusEnded,
  observation: Observation | undefined,
  ctx: ReconcileContext
): Verdict | typeof WAIT_FOR_SCHEDULER {
  const cause = endCause(observation, ctx);
  if (ctx.cancelRequested) {
    return CANCELLED;
  }
  if (!cause && mayStillExplain(status, observation, ctx)) {
    return WAIT_FOR_SCHEDULER;
  }
  if (
    cause === 'TimeLimit' ||
    (observation?.phase === 'ended' && observation.endState === 'timeout')
  ) {
    return TIMED_OUT;
  }
  if (observation?.phase === 'ended' && observation.endState === 'cancelled') {
    return CANCELLED_OUTSIDE;
  }
  const said = cause ? reasonFor(cause) : status.reason;
  return { state: 'failed', reason: said ?? REASONS.stoppedBySignal(status.signal) };
}

/** The scheduler answers, still has the job, and the TERM is recent: it may yet say why. */
function mayStillExplain(
  status: JobStatusEnded,
  observation: Observation | undefined,
  ctx: ReconcileContext
): boolean {
  const sinceEnd = Date.parse(ctx.now ?? new Date().toISOString()) - Date.parse(status.endedAt);
  const stillAtIt =
    !observation || observation.phase === 'pending' || observation.phase === 'running';
  // An unreadable endedAt (NaN) counts as recent.
  return ctx.schedulerReachable && stillAtIt && !(sinceEnd > TERMINATED_WAIT_MS);
}

/** The scheduler's word, for a job that has not recorded its own end. */
function schedulerWord(
  status: JobStatusFile | null,
  observation: Observation,
  ctx: ReconcileContext
): Verdict {
  switch (observation.phase) {
    case 'pending':
      // The job's own start is news the scheduler may not have yet.
      return status?.phase === 'started'
        ? RUNNING
        : { state: 'queued', reason: observation.reason };
    case 'running':
      return RUNNING;
    case 'ended':
      return schedulerEnd(observation, ctx);
    case 'gone':
      if (ctx.cancelRequested) {
        return CANCELLED;
      }
      return ctx.logCause ? endFor(ctx.logCause) : { state: 'failed', reason: REASONS.vanished };
  }
}

/** The end the scheduler reports for a job that did not record its own. */
function schedulerEnd(observation: Observation, ctx: ReconcileContext): Verdict {
  if (ctx.cancelRequested && observation.endState !== 'completed') {
    return CANCELLED;
  }
  switch (observation.endState) {
    case 'completed':
      return COMPLETED;
    case 'timeout':
      return TIMED_OUT;
    case 'cancelled':
      return CANCELLED_OUTSIDE;
  }
  const cause = endCause(observation, ctx);
  if (cause) {
    return endFor(cause);
  }
  const said = observation.reason && observation.reason !== 'None' ? observation.reason : undefined;
  return { state: 'failed', reason: said ?? REASONS.schedulerSaysFailed(observation.exitCode) };
}

function pruneUnchanged(job: Job, next: Partial<Job>): Partial<Job> {
  const out: Partial<Job> = {};
  for (const [key, value] of Object.entries(next) as [keyof Job, unknown][]) {
    // A reason or an estimate patched to undefined is removed (store.update).
    if (key === 'reason' || key === 'expectedStart') {
      if (value !== job[key]) {
        (out as Record<string, unknown>)[key] = value;
      }
      continue;
    }
    if (value === undefined) {
      continue;
    }
    if (JSON.stringify(value) !== JSON.stringify(job[key])) {
      (out as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}
