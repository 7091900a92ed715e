/**
 * The jobs the model holds: by id, newest first, per notebook, per output and
 * indexed by sweep and by pipeline. An event replaces or inserts its one job in place (a
 * binary search, never a sort of the history) and makes a new array only of
 * the lists it is in, so what is grouped from the other notebooks' lists is
 * kept as it was. A job seen live that is stored final is reported to
 * `onEnded` at once, before the next job is stored.
 */
import { compareNewestFirst, isLive, sortJobs, byTaskIndex } from '../contract/rules';
import type { Job } from '../contract/wire';

const NONE: readonly Job[] = Object.freeze([]);

/** A notebook's group key: a run from another root never shares one with this root's file. */
export function notebookKey(job: Pick<Job, 'notebook' | 'outsideRoot'>): string {
  return `${job.outsideRoot ? 'elsewhere' : 'here'}:${job.notebook}`;
}

/** Jobs newest first per key; a key's array is replaced only when one of its jobs changes. */
class Buckets {
  private readonly byKey = new Map<string, readonly Job[]>();

  constructor(private readonly keyOf: (job: Job) => string | undefined) {}

  get(key: string): readonly Job[] {
    return this.byKey.get(key) ?? NONE;
  }

  /** Every non-empty list. */
  lists(): IterableIterator<readonly Job[]> {
    return this.byKey.values();
  }

  add(job: Job): void {
    const key = this.keyOf(job);
    if (key !== undefined) {
      const list = [...this.get(key)];
      list.splice(insertionIndex(list, job), 0, job);
      this.byKey.set(key, list);
    }
  }

  remove(job: Job): void {
    const key = this.keyOf(job);
    const list = key === undefined ? NONE : this.get(key).filter(j => j.id !== job.id);
    if (key !== undefined && list.length) {
      this.byKey.set(key, list);
    } else if (key !== undefined) {
      this.byKey.delete(key);
    }
  }

  /** From a newest-first list, all at once. */
  rebuild(sorted: readonly Job[]): void {
    const lists = new Map<string, Job[]>();
    for (const job of sorted) {
      const key = this.keyOf(job);
      const list = key === undefined ? undefined : lists.get(key);
      if (list) {
        list.push(job);
      } else if (key !== undefined) {
        lists.set(key, [job]);
      }
    }
    this.byKey.clear();
    lists.forEach((list, key) => this.byKey.set(key, list));
  }
}

export class JobList {
  private _jobs = new Map<string, Job>();
  private _sorted: Job[] = [];
  /** Task ids per sweep id: a sweep's end is decided without scanning every job. */
  private readonly _sweeps = new Map<string, Set<string>>();
  private readonly _byNotebook = new Buckets(notebookKey);
  /** This root's runs by their executed notebook: an open output shows its runs. */
  private readonly _byOutput = new Buckets(job => (job.outsideRoot ? undefined : job.output));
  /** The runs of each pipeline's steps. */
  private readonly _byPipeline = new Buckets(job => job.pipeline?.pipelineId);

  constructor(private readonly onEnded: (job: Job) => void) {}

  /** All jobs, newest first; a new array after every change. */
  get sorted(): Job[] {
    return this._sorted;
  }

  get(id: string): Job | undefined {
    return this._jobs.get(id);
  }

  /** The runs of a notebook of this root, or of the notebook they wrote, newest first. */
  runsOf(path: string): readonly Job[] {
    const ofNotebook = this._byNotebook.get(notebookKey({ notebook: path }));
    const ofOutput = this._byOutput.get(path);
    if (ofOutput.length === 0 || ofNotebook.length === 0) {
      return ofOutput.length ? ofOutput : ofNotebook;
    }
    const ids = new Set(ofNotebook.map(j => j.id));
    return sortJobs([...ofNotebook, ...ofOutput.filter(j => !ids.has(j.id))]);
  }

  /** Each notebook's runs, newest first; the notebook with the newest run first. */
  notebookLists(): Array<readonly Job[]> {
    return [...this._byNotebook.lists()].sort((a, b) => compareNewestFirst(a[0], b[0]));
  }

  /** Each pipeline's runs, newest first; the pipeline with the newest run first. */
  pipelineLists(): Array<readonly Job[]> {
    return [...this._byPipeline.lists()].sort((a, b) => compareNewestFirst(a[0], b[0]));
  }

  /** The runs of a pipeline's steps, newest first. */
  pipelineRuns(pipelineId: string): readonly Job[] {
    return this._byPipeline.get(pipelineId);
  }

  /** The tasks of a sweep, in task order. */
  sweepTasks(sweepId: string): Job[] {
    const ids = this._sweeps.get(sweepId) ?? new Set<string>();
    return [...ids]
      .map(id => this._jobs.get(id))
      .filter((j): j is Job => j !== undefined)
      .sort(byTaskIndex);
  }

  /**
   * Keeps the list newest first by replacing or inserting the one job in
   * place: an event costs a binary search, never a sort of the history. The
   * list is a new array, so what renders it sees the change.
   */
  store(job: Job): void {
    const before = this._jobs.get(job.id);
    this._jobs.set(job.id, job);
    const sorted = [...this._sorted];
    if (before) {
      sorted.splice(this.indexOf(before), 1);
      this._byNotebook.remove(before);
      this._byOutput.remove(before);
      this._byPipeline.remove(before);
    }
    sorted.splice(insertionIndex(sorted, job), 0, job);
    this._sorted = sorted;
    this._byNotebook.add(job);
    this._byOutput.add(job);
    this._byPipeline.add(job);
    this.indexSweep(job);
    if (before && isLive(before) && !isLive(job)) {
      this.onEnded(job);
    }
  }

  /** Many jobs at once (a page, a whole sweep): one sort when most are new, else each in place. */
  storeAll(jobs: readonly Job[]): void {
    const fresh = jobs.filter(j => this._jobs.get(j.id) !== j);
    if (fresh.length <= this._sorted.length / 4) {
      fresh.forEach(job => this.store(job));
      return;
    }
    const ended: Job[] = [];
    for (const job of fresh) {
      const before = this._jobs.get(job.id);
      this._jobs.set(job.id, job);
      this.indexSweep(job);
      if (before && isLive(before) && !isLive(job)) {
        ended.push(job);
      }
    }
    this._sorted = sortJobs([...this._jobs.values()]);
    this._byNotebook.rebuild(this._sorted);
    this._byOutput.rebuild(this._sorted);
    this._byPipeline.rebuild(this._sorted);
    ended.forEach(job => this.onEnded(job));
  }

  /**
   * The newest runs as the companion has them now: the loaded runs as new as
   * its oldest one (all of them, when the page is the whole list) and missing
   * from it were forgotten; older loaded ones stay.
   */
  replaceNewest(jobs: Job[], whole: boolean): void {
    const seen = new Set(jobs.map(j => j.id));
    const oldest = jobs[jobs.length - 1];
    const covered = (j: Job) => whole || compareNewestFirst(j, oldest) <= 0;
    for (const job of this._sorted) {
      if (!seen.has(job.id) && covered(job)) {
        this.drop(job.id);
      }
    }
    this.storeAll(jobs);
  }

  /** Out of the list and the sweep index; returns whether it was there. */
  drop(id: string): boolean {
    const job = this._jobs.get(id);
    if (!job) {
      return false;
    }
    this._sorted = this._sorted.filter(j => j.id !== id);
    this._byNotebook.remove(job);
    this._byOutput.remove(job);
    this._byPipeline.remove(job);
    this._jobs.delete(id);
    const tasks = job.sweepId ? this._sweeps.get(job.sweepId) : undefined;
    tasks?.delete(id);
    if (job.sweepId && tasks?.size === 0) {
      this._sweeps.delete(job.sweepId);
    }
    return true;
  }

  private indexOf(job: Job): number {
    const at = insertionIndex(this._sorted, job);
    // insertionIndex lands after equals; the job itself is just before.
    return this._sorted[at - 1]?.id === job.id
      ? at - 1
      : this._sorted.findIndex(j => j.id === job.id);
  }

  private indexSweep(job: Job): void {
    if (job.sweepId) {
      const tasks = this._sweeps.get(job.sweepId) ?? new Set<string>();
      this._sweeps.set(job.sweepId, tasks.add(job.id));
    }
  }
}

/** Where a job goes in a newest-first list: after every job newer than or equal to it. */
function insertionIndex(sorted: readonly Job[], job: Job): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNewestFirst(sorted[mid], job) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}
