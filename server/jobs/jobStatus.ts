/**
 * What a job reports about itself (status.json, progress.json, written by
 * job.sh and nbconvert_config.py on the compute node) and the one pure rule
 * that turns that report plus the scheduler's observation into a job state.
 *
 * The job's own end record wins over the scheduler: accounting may be off,
 * the scheduler forgets ended jobs, and only the job knows why it ended
 * ("no GPU visible on node7", "cell 3 of 9 raised KeyError").
 */
import { readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FINAL_STATES, type Job, type JobState, type Progress } from '../../contract/wire';
import type { Observation } from '../executors/executor';

export type { Progress };

export type JobOutcome = 'completed' | 'failed' | 'timeout' | 'terminated';

/** status.json while the job runs. */
export interface JobStatusStarted {
  phase: 'started';
  jobId?: string;
  host: string;
  /** CUDA_VISIBLE_DEVICES entries, or `nvidia-smi -L` lines. */
  gpus: string[];
  startedAt: string;
  /** pid of the job script on its host. */
  pid?: number;
}

/** status.json once the job script ended by itself (or by a trapped signal). */
export interface JobStatusEnded {
  phase: 'ended';
  jobId?: string;
  host: string;
  gpus: string[];
  startedAt: string;
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

function readTextSync(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export async function readJobStatus(jobDir: string): Promise<JobStatusFile | null> {
  const text = await readText(join(jobDir, 'status.json'));
  return text === null ? null : parseJobStatus(text);
}

export async function readProgress(jobDir: string): Promise<Progress | null> {
  const text = await readText(join(jobDir, 'progress.json'));
  return text === null ? null : parseProgress(text);
}

export function readJobStatusSync(jobDir: string): JobStatusFile | null {
  const text = readTextSync(join(jobDir, 'status.json'));
  return text === null ? null : parseJobStatus(text);
}

export function readProgressSync(jobDir: string): Progress | null {
  const text = readTextSync(join(jobDir, 'progress.json'));
  return text === null ? null : parseProgress(text);
}

/** The scheduler's reasons for ending a job that say why, in words. */
const END_CAUSES: Record<string, string> = {
  OutOfMemory: 'out of memory: the run used more than the memory it asked for',
  NodeFail: 'node failure: the node went down during the run',
  TimeLimit: 'time limit reached',
  Preempted: 'preempted by the scheduler',
  BootFail: 'the node failed to boot',
  Deadline: 'deadline reached before the job could finish',
  Cancelled: 'cancelled'
};

/** The scheduler's reason codes, in words. */
export function describeSchedulerReason(reason: string | undefined): string | undefined {
  if (!reason) {
    return undefined;
  }
  return END_CAUSES[reason] ?? reason;
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

/** The end a scheduler's cause means: a time limit is a timeout, any other a failure, in words. */
function endFor(cause: string): { state: JobState; reason: string } {
  if (cause === 'TimeLimit') {
    return { state: 'timeout', reason: END_CAUSES.TimeLimit };
  }
  return { state: 'failed', reason: describeSchedulerReason(cause) ?? cause };
}

const VANISHED = 'the job vanished from the scheduler without reporting an end';

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
  const next: Partial<Job> = {};
  let state: JobState = job.state;
  let reason: string | undefined = job.reason;

  if (status) {
    if (status.host) {
      next.node = status.host;
    }
    next.gpus = status.gpus;
    if (status.startedAt) {
      next.startedAt = status.startedAt;
    }
  } else if (observation?.phase === 'running' && observation.node) {
    next.node = observation.node;
  }
  if (progress) {
    next.progress = progress;
  }

  if (status?.phase === 'ended') {
    if (status.endedAt) {
      next.endedAt = status.endedAt;
    }
    next.exitCode = status.exitCode;
    switch (status.outcome) {
      case 'completed':
        state = 'completed';
        reason = undefined;
        break;
      case 'failed':
        state = 'failed';
        reason = status.reason ?? `the notebook run failed (exit code ${status.exitCode})`;
        break;
      case 'timeout':
        state = 'timeout';
        reason = status.reason ?? 'time limit reached';
        break;
      case 'terminated': {
        const cause = endCause(observation, ctx);
        const sinceEnd =
          Date.parse(ctx.now ?? new Date().toISOString()) - Date.parse(status.endedAt);
        const schedulerStillAtIt =
          !observation || observation.phase === 'pending' || observation.phase === 'running';
        if (
          !ctx.cancelRequested &&
          !cause &&
          ctx.schedulerReachable &&
          schedulerStillAtIt &&
          !(sinceEnd > TERMINATED_WAIT_MS)
        ) {
          // A TERM alone does not say who sent it: wait for the scheduler's word.
          delete next.endedAt;
          delete next.exitCode;
          return pruneUnchanged(job, next);
        }
        if (ctx.cancelRequested) {
          state = 'cancelled';
          reason = 'cancelled';
        } else if (
          cause === 'TimeLimit' ||
          (observation?.phase === 'ended' && observation.endState === 'timeout')
        ) {
          state = 'timeout';
          reason = 'time limit reached';
        } else if (observation?.phase === 'ended' && observation.endState === 'cancelled') {
          state = 'cancelled';
          reason = 'cancelled outside hpc-submit';
        } else {
          state = 'failed';
          reason =
            describeSchedulerReason(cause) ??
            status.reason ??
            `stopped by signal ${status.signal ?? 'TERM'}`;
        }
        break;
      }
    }
  } else if (!observation || !ctx.schedulerReachable) {
    // No word from the scheduler: only the job's own start counts.
    if (status?.phase === 'started' && (state === 'queued' || state === 'unknown')) {
      state = 'running';
      reason = undefined;
    }
  } else {
    switch (observation.phase) {
      case 'pending':
        if (status?.phase === 'started') {
          state = 'running';
          reason = undefined;
        } else {
          state = 'queued';
          reason = observation.reason;
        }
        break;
      case 'running':
        state = 'running';
        reason = undefined;
        if (observation.node) {
          next.node = status?.host || observation.node;
        }
        break;
      case 'ended': {
        if (observation.exitCode !== undefined) {
          next.exitCode = observation.exitCode;
        }
        const cause = endCause(observation, ctx);
        if (ctx.cancelRequested && observation.endState !== 'completed') {
          state = 'cancelled';
          reason = 'cancelled';
        } else {
          switch (observation.endState) {
            case 'completed':
              state = 'completed';
              reason = undefined;
              break;
            case 'timeout':
              state = 'timeout';
              reason = 'time limit reached';
              break;
            case 'cancelled':
              state = 'cancelled';
              reason = 'cancelled outside hpc-submit';
              break;
            default:
              if (cause) {
                ({ state, reason } = endFor(cause));
                break;
              }
              state = 'failed';
              reason =
                observation.reason && observation.reason !== 'None'
                  ? observation.reason
                  : `the scheduler reports the job failed${observation.exitCode !== undefined ? ` (exit code ${observation.exitCode})` : ''}`;
          }
        }
        break;
      }
      case 'gone':
        if (ctx.cancelRequested) {
          state = 'cancelled';
          reason = 'cancelled';
        } else if (ctx.logCause) {
          ({ state, reason } = endFor(ctx.logCause));
        } else {
          state = 'failed';
          reason = VANISHED;
        }
        break;
    }
  }

  if (FINAL_STATES.includes(job.state)) {
    // Final is final; only fill in what is missing.
    const fill: Partial<Job> = {};
    for (const key of ['node', 'gpus', 'startedAt', 'endedAt', 'exitCode', 'progress'] as const) {
      if (job[key] === undefined && next[key] !== undefined) {
        (fill as Record<string, unknown>)[key] = next[key];
      }
    }
    return fill;
  }

  if (state !== job.state) {
    next.state = state;
  }
  if (reason !== job.reason) {
    next.reason = reason;
  }
  if (FINAL_STATES.includes(state) && !next.endedAt && !job.endedAt) {
    next.endedAt = ctx.now ?? new Date().toISOString();
  }
  return pruneUnchanged(job, next);
}

function pruneUnchanged(job: Job, next: Partial<Job>): Partial<Job> {
  const out: Partial<Job> = {};
  for (const [key, value] of Object.entries(next) as [keyof Job, unknown][]) {
    if (key === 'reason' && 'reason' in next) {
      if (value !== job.reason) {
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
