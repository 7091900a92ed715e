/**
 * What the sidebar lists: runs, sweeps (a sweep's tasks under one row) and,
 * on "All", pipelines (each step a run or a sweep) and notebooks (each
 * holding its runs and sweeps). Pure and linear in
 * the jobs of one notebook; ListEntries keeps each notebook's entries until
 * its runs change, so an event regroups one notebook, not the history.
 */
import type { Job, PipelineInfo, PipelineStepInfo } from '../contract/wire';
import { isRerunnable, newestOfRows, runsAndSweeps, sweepRowOf } from '../contract/rules';
import { notebookKey } from './jobList';
import { isPipelineRun, pipelineOf } from '../contract/pipelines';

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

/** A pipeline as one group: its steps in start order, each a run or a sweep. */
export interface PipelineEntry {
  kind: 'pipeline';
  key: string;
  info: PipelineInfo;
  steps: Array<{ step: PipelineStepInfo; entry: RunEntry | SweepEntry }>;
  /** When its newest run was submitted (ISO 8601). */
  submittedAt: string;
}

export type ListEntry = RunEntry | SweepEntry | NotebookEntry | PipelineEntry;

/** A pipeline's group from its runs (newest first); null when none is a step's run. */
export function pipelineEntry(runs: readonly Job[]): PipelineEntry | null {
  const info = pipelineOf(runs.filter(isPipelineRun));
  if (!info) {
    return null;
  }
  const byId = new Map(runs.map(r => [r.id, r]));
  return {
    kind: 'pipeline',
    key: `pipeline:${info.id}`,
    info,
    submittedAt: runs[0].submittedAt,
    steps: info.steps.map(step => {
      const stepRuns = step.jobIds.map(id => byId.get(id)).filter((j): j is Job => !!j);
      return { step, entry: runEntries(stepRuns)[0] };
    })
  };
}

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
  private readonly pipelines = new WeakMap<readonly Job[], PipelineEntry | null>();
  private lastAll: {
    pipelineLists: ReadonlyArray<readonly Job[]>;
    notebooks: NotebookEntry[];
    entries: ListEntry[];
  } | null = null;
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

  /**
   * "All": one group per pipeline (the newest first), then one per notebook;
   * the same array while no list changed.
   */
  allGroups(
    pipelineLists: ReadonlyArray<readonly Job[]>,
    notebookLists: ReadonlyArray<readonly Job[]>
  ): ListEntry[] {
    const notebooks = this.notebookGroups(notebookLists);
    const last = this.lastAll;
    if (last && last.notebooks === notebooks && sameLists(last.pipelineLists, pipelineLists)) {
      return last.entries;
    }
    const pipelines = pipelineLists.flatMap(list => {
      let group = this.pipelines.get(list);
      if (group === undefined) {
        group = pipelineEntry(list);
        this.pipelines.set(list, group);
      }
      return group ? [group] : [];
    });
    const entries = [...pipelines, ...notebooks];
    this.lastAll = { pipelineLists, notebooks, entries };
    return entries;
  }

  /** One group per list (each a notebook's runs, the newest notebook first); the same array while none changed. */
  notebookGroups(lists: ReadonlyArray<readonly Job[]>): NotebookEntry[] {
    const last = this.last;
    if (last && sameLists(last.lists, lists)) {
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

function sameLists(a: ReadonlyArray<readonly Job[]>, b: ReadonlyArray<readonly Job[]>): boolean {
  return a.length === b.length && a.every((list, i) => list === b[i]);
}
