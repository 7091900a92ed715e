/**
 * The jobs the model holds: by id, newest first, and indexed by sweep. An
 * event replaces or inserts its one job in place (a binary search, never a
 * sort of the history); a job seen live that is stored final is reported to
 * `onEnded` at once, before the next job is stored.
 */
import { compareNewestFirst, isLive, sortJobs, byTaskIndex } from '../contract/rules';
import type { Job } from '../contract/wire';

export class JobList {
  private _jobs = new Map<string, Job>();
  private _sorted: Job[] = [];
  /** Task ids per sweep id: a sweep's end is decided without scanning every job. */
  private readonly _sweeps = new Map<string, Set<string>>();

  constructor(private readonly onEnded: (job: Job) => void) {}

  /** All jobs, newest first; a new array after every change. */
  get sorted(): Job[] {
    return this._sorted;
  }

  get(id: string): Job | undefined {
    return this._jobs.get(id);
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
    }
    sorted.splice(insertionIndex(sorted, job), 0, job);
    this._sorted = sorted;
    this.indexSweep(job);
    if (before && isLive(before) && !isLive(job)) {
      this.onEnded(job);
    }
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
    const fresh = jobs.filter(j => this._jobs.get(j.id) !== j);
    if (fresh.length > this._sorted.length / 4) {
      // Most of the list is new (the start): one sort beats many inserts.
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
      ended.forEach(job => this.onEnded(job));
    } else {
      fresh.forEach(job => this.store(job));
    }
  }

  /** Out of the list and the sweep index; returns whether it was there. */
  drop(id: string): boolean {
    const job = this._jobs.get(id);
    if (!job) {
      return false;
    }
    this._sorted = this._sorted.filter(j => j.id !== id);
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
