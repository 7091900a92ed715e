/**
 * What the sidebar lists: runs, sweeps (a sweep's tasks under one row) and,
 * on "All", notebooks (each holding its runs and sweeps). Pure and linear in
 * the jobs of one notebook; ListEntries keeps each notebook's entries until
 * its runs change, so an event regroups one notebook, not the history.
 */
import type { Job } from '../contract/wire';
import { isRerunnable, newestOfRows, runsAndSweeps, sweepRowOf } from '../contract/rules';
import { notebookKey } from './jobList';

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

/**
 * Runs newest first, each sweep once at the place of its newest task. The
 * jobs must be newest first (the model keeps them so).
 */
export function runEntries(jobs: readonly Job[]): Array<RunEntry | SweepEntry> {
  const newest = newestOfRows(jobs, job => (job.sweepId ? sweepRowOf(job) : undefined));
  return runsAndSweeps(jobs).map(entry => {
    if ('run' in entry) {
      return { kind: 'run', key: `run:${entry.run.id}`, job: entry.run };
    }
    const { sweepId, tasks } = entry;
    return {
      kind: 'sweep',
      key: `sweep:${sweepId}`,
      sweepId,
      notebook: tasks[0].notebook,
      tasks,
      taskCount: Math.max(tasks.length, ...tasks.map(t => t.taskCount ?? 0)),
      rerunnable: tasks.filter(t => isRerunnable(t, newest, sweepRowOf)).length
    };
  });
}

/** One notebook's runs (newest first) under its header. */
function notebookGroup(runs: readonly Job[], isLive: (job: Job) => boolean): NotebookEntry {
  const first = runs[0];
  return {
    kind: 'notebook',
    key: `notebook:${notebookKey(first)}`,
    notebook: first.notebook,
    outsideRoot: first.outsideRoot === true,
    entries: runEntries(runs),
    runs: runs.length,
    live: runs.filter(isLive).length
  };
}

/**
 * The sidebar's entries, made again only for the lists that changed: the
 * model replaces a notebook's list of runs only when one of them changes, and
 * an unchanged list answers the entries made from it before.
 */
export class ListEntries {
  private readonly groups = new WeakMap<readonly Job[], NotebookEntry>();
  private readonly runs = new WeakMap<readonly Job[], Array<RunEntry | SweepEntry>>();
  private last: { lists: ReadonlyArray<readonly Job[]>; entries: NotebookEntry[] } | null = null;

  constructor(private readonly isLive: (job: Job) => boolean) {}

  /** A notebook's runs and sweeps, newest first. */
  runEntries(jobs: readonly Job[]): Array<RunEntry | SweepEntry> {
    let entries = this.runs.get(jobs);
    if (!entries) {
      entries = runEntries(jobs);
      this.runs.set(jobs, entries);
    }
    return entries;
  }

  /** One group per list (each a notebook's runs, the newest notebook first); the same array while none changed. */
  notebookGroups(lists: ReadonlyArray<readonly Job[]>): NotebookEntry[] {
    const last = this.last;
    if (last && last.lists.length === lists.length && last.lists.every((l, i) => l === lists[i])) {
      return last.entries;
    }
    const entries = lists.map(list => {
      let group = this.groups.get(list);
      if (!group) {
        group = notebookGroup(list, this.isLive);
        this.groups.set(list, group);
      }
      return group;
    });
    this.last = { lists, entries };
    return entries;
  }
}
