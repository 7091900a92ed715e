/**
 * What a job reports about itself (status.json, progress.json, written by
 * job.sh and nbconvert_config.py on the compute node), and the tail of its
 * log. The rule that turns this report plus the scheduler's observation into
 * a job state is in reconcile.ts; the sentences for why a job ended are in
 * endReasons.ts.
 *
 * The job's own end record wins over the scheduler: accounting may be off,
 * the scheduler forgets ended jobs, and only the job knows why it ended
 * ("no GPU visible on node7", "cell 3 of 9 raised KeyError").
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Progress } from '../../contract/wire';
import { endSentence, failureReason } from './endReasons';

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
  /** Why, as job.sh's code (endReasons.ts JOB_END_CAUSES); absent for a completion. */
  cause?: string;
  /** Why, in words: the cause's sentence (a record from before causes: as written). */
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
    if (typeof raw.signal === 'string' && raw.signal) {
      status.signal = raw.signal;
    }
    const reason = reasonOfEnd(raw, status);
    if (typeof raw.cause === 'string' && raw.cause) {
      status.cause = raw.cause;
    }
    if (reason) {
      status.reason = reason;
    }
    return status;
  }
  return null;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value ? value : undefined;

/** The sentence for status.json's cause; an older job.sh wrote the sentence itself. */
function reasonOfEnd(raw: Record<string, unknown>, status: JobStatusEnded): string | undefined {
  const cause = text(raw.cause);
  if (cause === undefined) {
    return text(raw.reason);
  }
  return endSentence({
    cause,
    host: status.host,
    exitCode: status.exitCode,
    subject: text(raw.subject),
    signal: status.signal,
    detail: text(raw.detail)
  });
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
  const reason = failureReason(status, await readLogTail(jobDir));
  return reason === undefined ? status : { ...status, reason };
}

export async function readProgress(jobDir: string): Promise<Progress | null> {
  const text = await readText(join(jobDir, 'progress.json'));
  return text === null ? null : parseProgress(text);
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
