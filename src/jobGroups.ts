/**
 * What the sidebar lists: runs, sweeps (a sweep's tasks under one row) and,
 * on "All", notebooks (each holding its runs and sweeps). Pure and linear
 * in the jobs, so the sidebar recomputes it only when the list changes.
 */
import type { Job } from '../contract/wire';
import { isRerunnable, newestOfRows, sweepRowOf, byTaskIndex } from '../contract/rules';

export interface RunEntry {
  kind: 'run';
  key: string;
  job: Job;
}

export interface SweepEntry {
  kind: 'sweep';
  key: string;
  sweepId: string;
  notebook: string;
  /** In task order. */
  tasks: Job[];
  /** The sweep's size as submitted; the tasks known may be fewer. */
  taskCount: number;
  /** How many tasks "re-run failed" would run again (none once a rerun replaced them). */
  rerunnable: number;
}

export interface NotebookEntry {
  kind: 'notebook';
  key: string;
  notebook: string;
  outsideRoot: boolean;
  /** Newest first. */
  entries: Array<RunEntry | SweepEntry>;
  runs: number;
  live: number;
}

export type ListEntry = RunEntry | SweepEntry | NotebookEntry;

/** A notebook's group key: a run from another root never shares one with this root's file. */
export function notebookKey(job: Pick<Job, 'notebook' | 'outsideRoot'>): string {
  return `${job.outsideRoot ? 'elsewhere' : 'here'}:${job.notebook}`;
}

/**
 * Runs newest first, each sweep once at the place of its newest task. The
 * jobs must be newest first (the model keeps them so).
 */
export function runEntries(jobs: readonly Job[]): Array<RunEntry | SweepEntry> {
  const entries: Array<RunEntry | SweepEntry> = [];
  const sweeps = new Map<string, SweepEntry>();
  for (const job of jobs) {
    if (!job.sweepId) {
      entries.push({ kind: 'run', key: `run:${job.id}`, job });
      continue;
    }
    let sweep = sweeps.get(job.sweepId);
    if (!sweep) {
      sweep = {
        kind: 'sweep',
        key: `sweep:${job.sweepId}`,
        sweepId: job.sweepId,
        notebook: job.notebook,
        tasks: [],
        taskCount: 0,
        rerunnable: 0
      };
      sweeps.set(job.sweepId, sweep);
      entries.push(sweep);
    }
    sweep.tasks.push(job);
    sweep.taskCount = Math.max(sweep.taskCount, job.taskCount ?? 0, sweep.tasks.length);
  }
  const newest = newestOfRows(jobs, job => (job.sweepId ? sweepRowOf(job) : undefined));
  for (const sweep of sweeps.values()) {
    sweep.tasks.sort(byTaskIndex);
    sweep.rerunnable = sweep.tasks.filter(t => isRerunnable(t, newest, sweepRowOf)).length;
  }
  return entries;
}

/** One group per notebook, the one with the newest run first. */
export function notebookGroups(
  jobs: readonly Job[],
  isLive: (job: Job) => boolean
): NotebookEntry[] {
  const byNotebook = new Map<string, { first: Job; jobs: Job[] }>();
  for (const job of jobs) {
    const key = notebookKey(job);
    const group = byNotebook.get(key);
    if (group) {
      group.jobs.push(job);
    } else {
      byNotebook.set(key, { first: job, jobs: [job] });
    }
  }
  return [...byNotebook].map(([key, { first, jobs: runs }]) => ({
    kind: 'notebook',
    key: `notebook:${key}`,
    notebook: first.notebook,
    outsideRoot: first.outsideRoot === true,
    entries: runEntries(runs),
    runs: runs.length,
    live: runs.filter(isLive).length
  }));
}
