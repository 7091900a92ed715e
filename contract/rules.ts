/**
 * The few pure rules that the extension (src/), the companion (server/) and
 * the CLI must agree on. Like wire.ts, free of imports beyond the contract.
 */
import {
  FINAL_STATES,
  type Job,
  type JobState,
  type ProfileStatus,
  type RunChoice,
  type SchedulerHealth,
  type ServerEvent,
  type SweepRow
} from './wire';

/** A final job never changes again. */
export function isFinal(job: Pick<Job, 'state'>): boolean {
  return FINAL_STATES.includes(job.state);
}

/** Queued, running or unknown: the scheduler may still change it. */
export function isLive(job: Pick<Job, 'state'>): boolean {
  return !isFinal(job);
}

/** Newest first: by submission time, then by id (ids sort by time too). */
export function compareNewestFirst(
  a: Pick<Job, 'submittedAt' | 'id'>,
  b: Pick<Job, 'submittedAt' | 'id'>
): number {
  if (a.submittedAt !== b.submittedAt) {
    return a.submittedAt < b.submittedAt ? 1 : -1;
  }
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function sortJobs<T extends Pick<Job, 'submittedAt' | 'id'>>(jobs: readonly T[]): T[] {
  return [...jobs].sort(compareNewestFirst);
}

/** Task order within a sweep: its task index, 0 first. */
export function byTaskIndex(a: Pick<Job, 'taskIndex'>, b: Pick<Job, 'taskIndex'>): number {
  return (a.taskIndex ?? 0) - (b.taskIndex ?? 0);
}

/** An entry of a list of runs: a run alone, or a sweep with its tasks in task order. */
export type RunOrSweep<T> = { run: T } | { sweepId: string; tasks: T[] };

/**
 * A newest-first list as the sidebar and the CLI show it: each run alone,
 * each sweep once, at the place of its newest task.
 */
export function runsAndSweeps<T extends Pick<Job, 'sweepId' | 'taskIndex'>>(
  jobs: readonly T[]
): RunOrSweep<T>[] {
  const entries: RunOrSweep<T>[] = [];
  const sweeps = new Map<string, T[]>();
  for (const job of jobs) {
    const sweepId = job.sweepId;
    if (sweepId === undefined) {
      entries.push({ run: job });
    } else if (sweeps.has(sweepId)) {
      sweeps.get(sweepId)?.push(job);
    } else {
      const tasks = [job];
      sweeps.set(sweepId, tasks);
      entries.push({ sweepId, tasks });
    }
  }
  sweeps.forEach(tasks => tasks.sort(byTaskIndex));
  return entries;
}

/** "train" of "a/train.ipynb" (or "a/Train.IPYNB"): a sweep's folder and its name in the sidebar. */
export function notebookStem(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.toLowerCase().endsWith('.ipynb') ? name.slice(0, -'.ipynb'.length) : name;
}

/** Closer than this, a queued run's expected start is "starts now": the companion and the sidebar agree. */
const STARTS_NOW_MS = 60_000;

export function startsNow(expectedStartMs: number, nowMs: number): boolean {
  return expectedStartMs - nowMs <= STARTS_NOW_MS;
}

/** A task's end that "re-run failed" runs again: every final state but completed. */
const RERUN_STATES: readonly JobState[] = FINAL_STATES.filter(s => s !== 'completed');

/** The summary.csv row a wire task fills: its own, or the one of the task it reran. */
export function sweepRowOf(task: Pick<Job, 'sweepId' | 'taskIndex' | 'summaryRow'>): SweepRow {
  return task.summaryRow ?? { summaryOf: task.sweepId ?? '', row: task.taskIndex ?? 0 };
}

const rowKey = ({ summaryOf, row }: SweepRow): string => `${summaryOf}#${row}`;

/** The newest run of each summary row, by row key; `newestFirst`: runs newest first. */
export function newestOfRows<T>(
  newestFirst: readonly T[],
  rowOf: (task: T) => SweepRow | undefined
): Map<string, T> {
  const newest = new Map<string, T>();
  for (const run of newestFirst) {
    const row = rowOf(run);
    if (row && !newest.has(rowKey(row))) {
      newest.set(rowKey(row), run);
    }
  }
  return newest;
}

/**
 * Whether "re-run failed" runs this task again: it is the newest run of its
 * row (no later rerun replaced it) and it ended without completing.
 */
export function isRerunnable<T extends Pick<Job, 'state'>>(
  task: T,
  newest: ReadonlyMap<string, T>,
  rowOf: (task: T) => SweepRow | undefined
): boolean {
  const row = rowOf(task);
  return row !== undefined && newest.get(rowKey(row)) === task && RERUN_STATES.includes(task.state);
}

/**
 * What "re-run failed" of a sweep runs: of its tasks' rows, the newest run
 * of each (its own or a later rerun's) where that run failed, timed out or
 * was cancelled; in row order.
 */
export function tasksToRerun<T extends Pick<Job, 'state'>>(
  newestFirst: readonly T[],
  tasks: readonly T[],
  rowOf: (task: T) => SweepRow | undefined
): T[] {
  const newest = newestOfRows(newestFirst, rowOf);
  const rows = new Map(tasks.map(t => [rowKey(rowOf(t) as SweepRow), rowOf(t) as SweepRow]));
  return [...rows.entries()]
    .sort(([, a], [, b]) => a.row - b.row)
    .map(([key]) => newest.get(key))
    .filter((r): r is T => r !== undefined && RERUN_STATES.includes(r.state));
}

/** The states a sweep's progress counts after its completed tasks, in words, in this order. */
const SWEEP_COUNTED: [JobState, string][] = [
  ['failed', 'failed'],
  ['timeout', 'timed out'],
  ['cancelled', 'cancelled'],
  ['running', 'running'],
  ['queued', 'queued'],
  ['unknown', 'unknown']
];

/**
 * A sweep's progress: "9 of 12 completed · 1 failed · 2 running", over the
 * tasks known and the sweep's size as submitted (the larger of the two), as
 * the sidebar, the notification and the CLI say it.
 */
export function sweepProgress(tasks: readonly Pick<Job, 'state'>[], taskCount?: number): string {
  const count = (state: JobState) => tasks.filter(t => t.state === state).length;
  const total = Math.max(taskCount ?? 0, tasks.length);
  const parts = [`${count('completed')} of ${total} completed`];
  for (const [state, word] of SWEEP_COUNTED) {
    const n = count(state);
    if (n > 0) {
      parts.push(`${n} ${word}`);
    }
  }
  return parts.join(' · ');
}

/** The SSE event names of GET /api/events: each frame's `event:` is its ServerEvent's type. */
export const SERVER_EVENT_TYPES: readonly ServerEvent['type'][] = ['job', 'forget', 'scheduler'];

/** What an event's frame carries as `data:`: the job, `{id}`, or the scheduler's health. */
export function eventData(event: ServerEvent): Job | { id: string } | SchedulerHealth {
  switch (event.type) {
    case 'job':
      return event.job;
    case 'forget':
      return { id: event.id };
    case 'scheduler':
      return { reachable: event.reachable, message: event.message };
  }
}

/** The event a frame of this type and data stands for: eventData's inverse. */
export function eventOf(type: ServerEvent['type'], data: unknown): ServerEvent {
  switch (type) {
    case 'job':
      return { type, job: data as Job };
    case 'forget':
      return { type, id: (data as { id: string }).id };
    case 'scheduler': {
      const health = data as SchedulerHealth;
      return { type, reachable: health.reachable, message: health.message ?? undefined };
    }
  }
}

export type { JobState };

/** One key per choice of a notebook: "gpu", or "gpu:myenv" for a project environment on it. */
export function choiceKey(choice: Pick<ProfileStatus, 'id' | 'environment'>): string {
  return choice.environment ? `${choice.id}:${choice.environment.name}` : choice.id;
}

/** The choice a profile status stands for, as a request names it. */
export function runChoiceOf(choice: Pick<ProfileStatus, 'id' | 'environment'>): RunChoice {
  return choice.environment
    ? { profile: choice.id, environment: choice.environment.name }
    : { profile: choice.id };
}
