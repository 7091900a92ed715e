/**
 * The one poller of a companion. Whatever the number of jobs and browser
 * tabs, it makes one executor.observe() call per interval for all live jobs
 * (one squeue for Slurm), and between those it only stats the jobs' own
 * status.json and progress.json, which the job writes the moment it starts,
 * ends or finishes a cell: start and end reach the browser within about a
 * second without asking the scheduler anything. The job's samples of its own
 * use (usage.jsonl) come the same way: the new lines are read when the file
 * changes, summarized into the job's `usage`, and into its `efficiency` when
 * it ends. A sweep's summary.csv is rewritten once per round in which one of
 * its tasks changed. Where the scheduler keeps accounting, the runs that
 * ended are read from it in one call per round (one sacct, to slurmdbd) and
 * their efficiency completed with it.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Job, SchedulerHealth } from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import type { JobEventSink } from './jobEvents';
import { SchedulerUnreachableError, type Executor, type Observation } from '../executors/executor';
import { endCauseInLog } from './endReasons';
import { isNotRun, isPipelineRun, notRunReason, pipelineOf } from '../../contract/pipelines';
import { readResults } from './results';
import { type JobStatusFile, readJobStatus, readLogTail, readProgress } from './jobStatus';
import { reconcile } from './reconcile';
import type { SchedulerHealthHolder } from './schedulerHealth';
import { AccountingRound } from './accountingRound';
import { CANCEL_REQUEST_FILE, type JobRecord, type JobStore } from './store';
import { writeSweepSummary } from './sweepSummary';
import { summaryTasks } from './sweeps';
import {
  USAGE_FILE,
  type UsageReading,
  efficiencyFromTotals,
  finalUsage,
  gpuIdleMinutesFrom,
  readUsage,
  summarizeUsage
} from './usage';

export interface PollerOptions {
  /** Between scheduler queries; default 30 s (2 squeue calls a minute). */
  intervalMs?: number;
  /** Most time between queries while the scheduler does not answer. */
  maxBackoffMs?: number;
  /** Between looks at the jobs' own status files; default 1 s. */
  fileWatchMs?: number;
  /** GPUs at 0% this long since the start earn a warning; default $HPC_SUBMIT_GPU_IDLE_MINUTES, else 5. */
  gpuIdleMinutes?: number;
  /** How this companion's clients see a record (paths relative to its root). */
  view: (record: JobRecord) => Job;
  /** Told once of each run that ends: the poller runs in the lease holder only (webhook.ts). */
  onEnded?: (job: Job) => void;
  log?: (line: string) => void;
}

export class Poller {
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly fileWatchMs: number;
  private readonly gpuIdleMinutes: number;
  private readonly log: (line: string) => void;
  private readonly view: (record: JobRecord) => Job;
  private readonly onEnded: (job: Job) => void;
  private delayMs: number;
  private schedulerTimer: NodeJS.Timeout | null = null;
  private fileTimer: NodeJS.Timeout | null = null;
  private soonTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly observations = new Map<string, Observation>();
  private readonly stamps = new Map<string, string>();
  /** Jobs whose end the scheduler reported before the job's own record: one more look first. */
  private readonly endSeenOnce = new Set<string>();
  /** How far each live job's usage.jsonl has been read, and its totals. */
  private readonly usage = new Map<string, UsageReading>();
  /** The summaries (by the sweep they are of) to write at the end of this round. */
  private readonly summariesDue = new Set<string>();
  /** Pipelines a run of which ended in this round: their unrun steps then say which step failed. */
  private readonly pipelinesDue = new Set<string>();
  /** Summaries this poller has written: a new sweep's is written at its first round. */
  private readonly summarized = new Set<string>();
  /** Ended runs whose efficiency the scheduler's accounting completes. */
  private readonly accounting: AccountingRound;

  constructor(
    private readonly store: JobStore,
    private readonly executor: Executor,
    private readonly events: JobEventSink,
    /** Written here only: the poller is the one that asks the scheduler. */
    private readonly health: SchedulerHealthHolder,
    opts: PollerOptions
  ) {
    this.view = opts.view;
    this.onEnded = opts.onEnded ?? (() => undefined);
    this.intervalMs = opts.intervalMs ?? 30_000;
    this.maxBackoffMs = Math.max(this.intervalMs, opts.maxBackoffMs ?? 2 * 60_000);
    this.fileWatchMs = opts.fileWatchMs ?? 1000;
    this.gpuIdleMinutes =
      opts.gpuIdleMinutes ?? gpuIdleMinutesFrom(process.env.HPC_SUBMIT_GPU_IDLE_MINUTES);
    this.delayMs = this.intervalMs;
    this.log = opts.log ?? (() => undefined);
    this.accounting = new AccountingRound({
      store,
      executor,
      update: (id, patch) => this.update(id, patch),
      log: line => this.log(line)
    });
  }

  /** Started when this companion takes the lease, stopped when it loses it (serve.ts). */
  start(): void {
    if (this.fileTimer) {
      return;
    }
    this.stopped = false;
    this.scheduleScheduler(0);
    this.fileTimer = setInterval(() => void this.scanFiles(), this.fileWatchMs);
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.schedulerTimer, this.soonTimer]) {
      if (t) {
        clearTimeout(t);
      }
    }
    if (this.fileTimer) {
      clearInterval(this.fileTimer);
    }
    this.schedulerTimer = this.soonTimer = this.fileTimer = null;
  }

  /**
   * A new or cancelled job: ask the scheduler soon (coalesced), not once per
   * call. That query takes the place of the next regular one, which then
   * comes a whole interval later: the scheduler is still asked once per
   * interval, not once more per submission.
   */
  pollSoon(): void {
    if (this.soonTimer || this.stopped) {
      return;
    }
    this.soonTimer = setTimeout(() => {
      this.soonTimer = null;
      const regular = this.schedulerTimer;
      if (regular) {
        clearTimeout(regular);
        this.schedulerTimer = null;
      }
      void this.pollScheduler()
        .catch(e => this.log(`poll failed: ${(e as Error).message}`))
        .finally(() => {
          if (regular && !this.schedulerTimer) {
            this.scheduleScheduler(this.delayMs);
          }
        });
    }, 1000);
  }

  /** How long until the next scheduler query: the interval, doubled per round the scheduler does not answer. */
  get pollDelayMs(): number {
    return this.delayMs;
  }

  /**
   * The runs still going from before a restart, found again (the local
   * executor takes over their processes and starts its queued runs); called
   * once when this companion takes the lease, before the first poll.
   */
  async adopt(): Promise<void> {
    const executor = this.executor;
    const live = this.store.live().filter(j => j.schedulerId && j.executor === executor.name);
    if (executor.adopt && live.length) {
      await executor.adopt(live.map(j => j.schedulerId as string));
    }
  }

  /** One scheduler query for all live jobs, then their files. */
  async pollScheduler(): Promise<void> {
    if (this.running) {
      return this.running;
    }
    this.running = this.doPoll().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Asks the scheduler whether it answers (sinfo), for when no job gives a reason to ask. */
  async recheck(): Promise<SchedulerHealth> {
    const info = await this.executor
      .describe()
      .catch((e: Error) => ({ reachable: false, message: e.message }));
    this.setReachable(info.reachable, info.message);
    if (info.reachable) {
      this.delayMs = this.intervalMs;
    }
    return this.health.current;
  }

  private async doPoll(): Promise<void> {
    const live = this.store.live().filter(j => j.schedulerId);
    if (live.length === 0) {
      if (!this.health.current.reachable) {
        // Nothing to observe, but the unreachable flag must not outlive the outage.
        await this.recheck();
        if (!this.health.current.reachable) {
          this.backOff();
        }
      }
    } else {
      await this.relayCancels(live);
      await this.observe(live);
      for (const job of live) {
        const of = job.sweepFacts?.summaryOf;
        if (of !== undefined && !this.summarized.has(of)) {
          this.summariesDue.add(of);
        }
        await this.refresh(job.id, true);
      }
      await this.writeSummaries();
      await this.nameNotRunSteps();
    }
    await this.accounting.read();
  }

  /**
   * A cancel asked on a companion without the lease is a file beside the
   * job's record. That companion asks the scheduler itself only when it knew
   * the scheduler id; the lease holder delivers every request it finds, once,
   * and records it, so none is lost in between.
   */
  private async relayCancels(live: JobRecord[]): Promise<void> {
    for (const job of live) {
      const requested = join(this.store.jobDir(job.id), CANCEL_REQUEST_FILE);
      if (job.cancelRequested || !(await exists(requested))) {
        continue;
      }
      try {
        await this.executor.cancel(job.schedulerId as string);
        await this.store.update(job.id, { cancelRequested: true });
      } catch {
        // Not delivered (the scheduler does not answer, or the run is another host's): asked next round.
      }
    }
  }

  /** Each summary.csv whose tasks changed in this round, once, from the records as they are now. */
  private async writeSummaries(): Promise<void> {
    const due = [...this.summariesDue];
    this.summariesDue.clear();
    for (const of of due) {
      const tasks = summaryTasks(this.store.list(), of);
      if (tasks.length === 0) {
        continue;
      }
      const folder = dirname(tasks[0].outputPath);
      try {
        await fs.mkdir(folder, { recursive: true });
        await writeSweepSummary(
          join(folder, 'summary.csv'),
          tasks.map(t => this.view(t))
        );
        this.summarized.add(of);
      } catch (e) {
        this.log(`cannot write the summary of sweep ${of}: ${(e as Error).message}`);
      }
    }
  }

  /**
   * A step that never ran says which step before it did not complete: "not
   * run: train failed". Said once the steps it comes after have ended, which
   * the scheduler may report in the same round as the step's own end.
   */
  private async nameNotRunSteps(): Promise<void> {
    const due = [...this.pipelinesDue];
    this.pipelinesDue.clear();
    for (const pipelineId of due) {
      const runs = this.store.pipelineRuns(pipelineId);
      const info = pipelineOf(runs.filter(isPipelineRun));
      if (!info) {
        continue;
      }
      const states = new Map(info.steps.map(s => [s.name, s.state]));
      const current = new Set(info.steps.flatMap(s => s.jobIds));
      for (const run of runs) {
        if (!current.has(run.id) || run.state !== 'cancelled' || !isNotRun(run.reason)) {
          continue;
        }
        const reason = notRunReason(run.pipeline?.after ?? [], states);
        if (reason !== run.reason) {
          await this.update(run.id, { reason });
        }
      }
    }
  }

  /** One executor.observe() for all live jobs; the answers wait in `observations` for refresh. */
  private async observe(live: JobRecord[]): Promise<void> {
    try {
      const seen = await this.executor.observe(live.map(j => j.schedulerId as string));
      for (const job of live) {
        const o = seen.get(job.schedulerId as string);
        if (o) {
          this.observations.set(job.id, o);
        }
      }
      this.setReachable(true);
      this.delayMs = this.intervalMs;
    } catch (e) {
      if (!(e instanceof SchedulerUnreachableError)) {
        throw e;
      }
      this.setReachable(false, e.message);
      this.backOff();
    }
  }

  /** Between queries: only the job's own files, and only when they changed. */
  async scanFiles(): Promise<void> {
    const live = this.store.live();
    this.forgetUsageOfEnded(live);
    for (const job of live) {
      const dir = this.store.jobDir(job.id);
      const stamp = (
        await Promise.all(
          ['status.json', 'progress.json', USAGE_FILE].map(f => stampOf(join(dir, f)))
        )
      ).join('|');
      if (this.stamps.get(job.id) === stamp) {
        continue;
      }
      this.stamps.set(job.id, stamp);
      await this.refresh(job.id, false);
    }
    await this.writeSummaries();
    await this.nameNotRunSteps();
  }

  /** A job can end elsewhere (a cancel before it ran): its reading goes with it. */
  private forgetUsageOfEnded(live: JobRecord[]): void {
    if (this.usage.size > live.length) {
      const ids = new Set(live.map(j => j.id));
      for (const id of this.usage.keys()) {
        if (!ids.has(id)) {
          this.usage.delete(id);
        }
      }
    }
  }

  /** Applies the job's own report and the scheduler's last word (the store publishes the change). */
  async refresh(id: string, fromScheduler: boolean): Promise<void> {
    // Read now, not before the awaits of the caller: the record may have changed meanwhile.
    const job = this.store.get(id);
    if (!job || isFinal(job)) {
      return;
    }
    const patch = await this.changeOf(job, fromScheduler);
    if (Object.keys(patch).length === 0) {
      return;
    }
    const updated = await this.update(id, patch);
    if (!updated) {
      return;
    }
    if (isFinal(updated)) {
      this.observations.delete(id);
      this.stamps.delete(id);
      this.endSeenOnce.delete(id);
      this.usage.delete(id);
      this.accounting.ended(updated);
    }
    if (updated.sweepFacts) {
      this.summariesDue.add(updated.sweepFacts.summaryOf);
    }
    if (updated.pipeline && isFinal(updated)) {
      this.pipelinesDue.add(updated.pipeline.pipelineId);
    }
    if (isFinal(updated)) {
      this.onEnded(this.view(updated));
    }
  }

  /** What the job's own files and the scheduler's last word change in its record. */
  private async changeOf(job: JobRecord, fromScheduler: boolean): Promise<Partial<Job>> {
    const dir = this.store.jobDir(job.id);
    const [status, progress] = await Promise.all([readJobStatus(dir), readProgress(dir)]);
    const observation =
      fromScheduler || status?.phase === 'ended' ? this.observations.get(job.id) : undefined;
    const terminated = status?.phase === 'ended' && status.outcome === 'terminated';
    const endedUnexplained =
      status?.phase !== 'ended' &&
      (observation?.phase === 'gone' ||
        (observation?.phase === 'ended' && observation.endState !== 'completed'));
    const patch = reconcile(job, status, progress, observation, {
      cancelRequested:
        Boolean(job.cancelRequested) || (await exists(join(dir, CANCEL_REQUEST_FILE))),
      schedulerReachable: this.health.current.reachable,
      // Read only when the end needs explaining: the scheduler may have said why in the log.
      logCause: terminated || endedUnexplained ? endCauseInLog(await readLogTail(dir)) : undefined
    });
    if (terminated && patch.state === undefined) {
      // The job says it was stopped and the scheduler has not yet said why: ask it soon.
      this.pollSoon();
    }
    return this.withUsage(job, this.holdSchedulerEndOnce(job.id, patch, status));
  }

  /**
   * The patch with the job's use: its summary when new samples came, and at
   * the end the efficiency, from every sample (one whole read of the file
   * when this companion did not follow it from the start).
   */
  private async withUsage(job: JobRecord, patch: Partial<Job>): Promise<Partial<Job>> {
    const next = { ...job, ...patch };
    const dir = this.store.jobDir(job.id);
    const ending = isFinal(next);
    const before = this.usage.get(job.id);
    const reading = ending
      ? await finalUsage(dir, before)
      : await readUsage(dir, before, { tail: true });
    this.usage.set(job.id, reading);
    if (reading.totals.points > 0 && reading.totals !== before?.totals) {
      const usage = summarizeUsage(reading.totals, next, {
        gpuIdleMinutes: this.gpuIdleMinutes,
        fromStart: reading.fromStart
      });
      if (JSON.stringify(usage) !== JSON.stringify(job.usage)) {
        patch = { ...patch, usage };
      }
    }
    if (ending) {
      const efficiency = efficiencyFromTotals(next, reading.totals);
      if (efficiency) {
        patch = { ...patch, efficiency };
      }
      // What the run recorded, read once: a final record never changes again.
      patch = { ...patch, ...(await readResults(dir)) };
    }
    return patch;
  }

  /**
   * An end only the scheduler reports waits one poll: the job's own end record
   * may still be on its way over a network filesystem, and it says more (the
   * failing cell, the GPU guard).
   */
  private holdSchedulerEndOnce(
    id: string,
    patch: Partial<Job>,
    status: JobStatusFile | null
  ): Partial<Job> {
    const endedByScheduler =
      patch.state !== undefined && isFinal({ state: patch.state }) && status?.phase !== 'ended';
    // A run that never ran (a step after one that failed) has no end record on its way.
    if (!endedByScheduler || this.endSeenOnce.has(id) || isNotRun(patch.reason)) {
      return patch;
    }
    this.endSeenOnce.add(id);
    const held = { ...patch };
    delete held.state;
    delete held.reason;
    delete held.endedAt;
    delete held.exitCode;
    return held;
  }

  /** Through the store; a failed write is logged and the change still reaches the browsers. */
  private async update(id: string, patch: Partial<Job>): Promise<JobRecord | undefined> {
    try {
      return await this.store.update(id, patch);
    } catch (e) {
      this.log(`cannot save job ${id}: ${(e as Error).message}`);
      return this.store.get(id);
    }
  }

  private setReachable(reachable: boolean, message?: string): void {
    if (!this.health.record(reachable, message)) {
      return;
    }
    this.log(reachable ? 'scheduler answers again' : `scheduler unreachable: ${message}`);
    this.events.publish({ type: 'scheduler', ...this.health.current });
  }

  private backOff(): void {
    this.delayMs = Math.min(this.delayMs * 2, this.maxBackoffMs);
  }

  private scheduleScheduler(delay: number): void {
    if (this.stopped) {
      return;
    }
    if (this.schedulerTimer) {
      clearTimeout(this.schedulerTimer); // one chain of regular queries, whoever schedules the next
    }
    this.schedulerTimer = setTimeout(async () => {
      try {
        await this.pollScheduler();
      } catch (e) {
        this.log(`poll failed: ${(e as Error).message}`);
      }
      this.scheduleScheduler(this.delayMs);
    }, delay);
  }
}

async function stampOf(path: string): Promise<string> {
  try {
    const s = await fs.stat(path);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return '-';
  }
}

/** A cancel asked for from a companion without the lease leaves this file (jobService.ts). */
async function exists(path: string): Promise<boolean> {
  return fs.access(path).then(
    () => true,
    () => false
  );
}
