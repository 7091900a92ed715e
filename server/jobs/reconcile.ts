/**
 * The one pure rule that turns a job's own report (status.json,
 * progress.json: see jobStatus.ts) plus the scheduler's observation into the
 * job's state and facts.
 *
 * The job's own end record wins over the scheduler: accounting may be off,
 * the scheduler forgets ended jobs, and only the job knows why it ended
 * ("no GPU visible on node7", "cell 3 of 9 raised KeyError").
 */
import type { Job, JobState, Progress } from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import type { Observation } from '../executors/executor';
import { END_CAUSES, REASONS, reasonFor } from './endReasons';
import type { JobStatusEnded, JobStatusFile } from './jobStatus';

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
const EARLIER_FAILED: Verdict = { state: 'cancelled', reason: REASONS.earlierFailed };

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
        : {
            state: 'queued',
            reason:
              observation.reason === 'Dependency' ? REASONS.waitingForEarlier : observation.reason
          };
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
      return observation.reason === 'DependencyNeverSatisfied' ? EARLIER_FAILED : CANCELLED_OUTSIDE;
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
