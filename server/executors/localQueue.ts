/**
 * The local executor's queue, pure: where a new run would stand, where a
 * waiting one stands, and which waiting runs a free slot may start (at most
 * `maxConcurrent` at once, and at most `maxParallel` of one sweep).
 */

/** What the queue needs to know of a run. */
export interface QueuedRun {
  /** A task of a sweep: at most `maxParallel` of its sweep run at once. */
  sweep?: { id: string; maxParallel: number };
}

/**
 * Where a new run would stand: at once while a slot is free for it, else
 * after the runs ahead of it (those waiting, and the running one whose end
 * frees its slot). Pure.
 */
export function localQueueMessage(running: number, waiting: number, slots: number): string {
  const ahead = waiting + running - slots + 1;
  if (ahead <= 0) {
    return 'runs here at once';
  }
  return `after ${ahead} run${ahead === 1 ? '' : 's'} ahead`;
}

/** Where a waiting run stands, given how many wait ahead of it. Pure. */
export function queuePlaceMessage(ahead: number): string {
  return ahead > 0 ? `waiting for a free slot (${ahead} ahead)` : 'waiting for a free slot';
}

/**
 * The slots of one pass over the queue: the runs running now take theirs,
 * each run started in the pass takes one more.
 */
export class QueueSlots {
  private running: number;
  private readonly perSweep = new Map<string, number>();

  constructor(
    private readonly maxConcurrent: number,
    runningNow: readonly QueuedRun[]
  ) {
    this.running = runningNow.length;
    for (const r of runningNow) {
      if (r.sweep) {
        this.perSweep.set(r.sweep.id, (this.perSweep.get(r.sweep.id) ?? 0) + 1);
      }
    }
  }

  /** No slot is free: the pass ends. */
  get full(): boolean {
    return this.running >= this.maxConcurrent;
  }

  /** The run's sweep already runs its `maxParallel`: it waits, and the runs behind it may pass. */
  sweepFull(run: QueuedRun): boolean {
    return run.sweep !== undefined && this.ofSweep(run) >= run.sweep.maxParallel;
  }

  /** A run that started takes its slot. */
  take(run: QueuedRun): void {
    this.running++;
    if (run.sweep) {
      this.perSweep.set(run.sweep.id, this.ofSweep(run) + 1);
    }
  }

  private ofSweep(run: QueuedRun): number {
    return run.sweep ? (this.perSweep.get(run.sweep.id) ?? 0) : 0;
  }
}
