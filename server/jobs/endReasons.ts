/**
 * Why a job ended, in words: the sentences themselves, the scheduler's
 * reason codes, and what the job's log says (slurmstepd's lines, the last
 * Python traceback). Pure.
 */

import { NOT_RUN } from '../../contract/pipelines';

/**
 * Every reason a job's end is given, in words: each sentence is written
 * here once, whichever of the job, the scheduler or the log told of the end.
 */
export const REASONS = {
  cancelled: 'cancelled',
  cancelledOutside: 'cancelled outside hpc-submit',
  /** Queued behind earlier runs (Slurm's reason "Dependency"). */
  waitingForEarlier: 'waiting for the runs it comes after',
  /** Ended unrun (Slurm's "DependencyNeverSatisfied", with --kill-on-invalid-dep). */
  earlierFailed: `${NOT_RUN}a run it comes after did not complete`,
  timeLimit: 'time limit reached',
  vanished: 'the job vanished from the scheduler without reporting an end',
  notebookFailed: (exitCode: number): string => `the notebook run failed (exit code ${exitCode})`,
  stoppedBySignal: (signal = 'TERM'): string => `stopped by signal ${signal}`,
  schedulerSaysFailed: (exitCode?: number): string =>
    `the scheduler reports the job failed${exitCode !== undefined ? ` (exit code ${exitCode})` : ''}`
} as const;

/**
 * Why job.sh says a job ended other than by completing, as the code it writes
 * to status.json's "cause" (server/runtime/job.sh, finish); each is said in
 * words by endSentence.
 */
export const JOB_END_CAUSES = [
  'workdir-unreachable',
  'gpu-missing',
  'output-dir-uncreatable',
  'time-limit',
  'signal-before-start',
  'signal',
  'notebook-failed',
  'launcher-unrunnable',
  'nbconvert-exit'
] as const;
export type JobEndCause = (typeof JOB_END_CAUSES)[number];

/** What status.json tells of an end, beside its cause. */
export interface JobEndFacts {
  cause: string;
  host: string;
  exitCode: number;
  /** The folder or command the cause is about. */
  subject?: string;
  signal?: string;
  /** nbconvert_config.py's own account (reason.txt): which cell raised what. */
  detail?: string;
}

/** A cause job.sh reported, in words; a code this companion does not know as it is. */
export function endSentence(end: JobEndFacts): string {
  const { host, exitCode, subject = '', signal = 'TERM' } = end;
  const sentences: Record<JobEndCause, () => string> = {
    'workdir-unreachable': () => `cannot enter the notebook's directory ${subject} on ${host}`,
    'gpu-missing': () => `no GPU visible on ${host}`,
    'output-dir-uncreatable': () => `cannot create the output directory ${subject} on ${host}`,
    'time-limit': () => REASONS.timeLimit,
    'signal-before-start': () => `${REASONS.stoppedBySignal(signal)} before the notebook started`,
    signal: () => REASONS.stoppedBySignal(signal),
    'notebook-failed': () => end.detail ?? REASONS.notebookFailed(exitCode),
    'launcher-unrunnable': () =>
      `cannot run ${subject} on ${host} (exit code ${exitCode}): is the environment installed there?`,
    'nbconvert-exit': () => `nbconvert exited with code ${exitCode}`
  };
  const known = (JOB_END_CAUSES as readonly string[]).includes(end.cause);
  return known ? sentences[end.cause as JobEndCause]() : end.cause;
}

/** The scheduler's reason codes for ending a job that say why, in words. */
export const END_CAUSES: Record<string, string> = {
  OutOfMemory: 'out of memory: the run used more than the memory it asked for',
  NodeFail: 'node failure: the node went down during the run',
  TimeLimit: REASONS.timeLimit,
  Preempted: 'preempted by the scheduler',
  BootFail: 'the node failed to boot',
  Deadline: 'deadline reached before the job could finish',
  Cancelled: REASONS.cancelled
};

/** A scheduler's reason code in words; an unfamiliar one as it is. */
export function reasonFor(cause: string): string {
  return Object.prototype.hasOwnProperty.call(END_CAUSES, cause) ? END_CAUSES[cause] : cause;
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
 * was killed), and in place of a bare exit code (no reason, or job.sh's
 * "nbconvert-exit") the exception that ended the run. Undefined when the log
 * adds nothing. Pure.
 */
export function failureReason(
  own: { reason?: string; cause?: string },
  logTail: string
): string | undefined {
  const unexplained = own.reason === undefined || own.cause === 'nbconvert-exit';
  const told = unexplained ? (lastExceptionLine(logTail) ?? own.reason) : own.reason;
  if (endCauseInLog(logTail) === 'OutOfMemory') {
    const outOfMemory = reasonFor('OutOfMemory');
    return told ? `${outOfMemory} (${told})` : outOfMemory;
  }
  return told === own.reason ? undefined : told;
}
