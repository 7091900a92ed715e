/**
 * The local adapter: the job script as a detached child process on this
 * machine (the embedded default when there is no scheduler).
 *
 * Each run is its own session and process group, so it outlives a restart of
 * the companion. What is needed to find it again is kept in
 * <stateDir>/local-executor/<job id>.json: the spec (for runs still waiting
 * for a slot), the host and the submitting companion's pid, and the pid with
 * the process's start time from /proc (so a recycled pid is never mistaken
 * for our run).
 *
 * Several companions may share the state directory (lease.ts). A run is
 * started, swept and signalled only by the companion that manages it: the one
 * that submitted it, or the lease holder on the same host once that one is
 * gone. A run of another host is never judged by its pid here: it is left out
 * of the observation, and its own status.json tells where and how it runs.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { EstimateAnswer } from '../../contract/wire';
import {
  type ArrayOptions,
  RunElsewhereError,
  type Executor,
  type LaunchSpec,
  type Observation,
  type SchedulerInfo
} from './executor';
import {
  elsewhere,
  endOf,
  killChildGroup,
  observeUnmanaged,
  orphaned,
  processStartTime,
  runAlive,
  signalRun,
  spawnScript
} from './localProcess';
import { QueueSlots, localQueueMessage, queuePlaceMessage } from './localQueue';
import { type RunRecord, RunFiles } from './localRunFiles';
import { parseSlurmTime } from './slurmTime';
import { type JobStatusEnded, parseJobStatus } from '../jobs/jobStatus';

export interface LocalExecutorOptions {
  /** Runs at once; the others wait, in order of submission. Default 2. */
  maxConcurrent?: number;
  stateDir: string;
  /** Between SIGTERM and SIGKILL on cancel (and after a time-limit warning). Default 10 s. */
  killGraceMs?: number;
  /** How often runs this process did not start are checked for their end. Default 2 s. */
  checkIntervalMs?: number;
}

export function createLocalExecutor(opts: LocalExecutorOptions): Executor {
  return new LocalExecutor(opts);
}

class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly maxConcurrent: number;
  private readonly killGraceMs: number;
  private readonly checkIntervalMs: number;
  private readonly files: RunFiles;
  /** The runs this companion manages: started, swept and timed by it alone. */
  private readonly runs = new Map<string, RunRecord>();
  /** Runs this process spawned: their end is known by the 'exit' event, not by polling. */
  private readonly ours = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  private checker: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: LocalExecutorOptions) {
    this.maxConcurrent = Math.max(1, Math.floor(opts.maxConcurrent ?? 2));
    this.killGraceMs = opts.killGraceMs ?? 10_000;
    this.checkIntervalMs = opts.checkIntervalMs ?? 2000;
    this.files = new RunFiles(join(opts.stateDir, 'local-executor'));
  }

  async submit(spec: LaunchSpec): Promise<string> {
    if (this.closed) {
      throw new Error('the local executor is shut down');
    }
    const id = spec.jobId;
    if (this.get(id)) {
      throw new Error(`job ${id} was already submitted`);
    }
    const record: RunRecord = {
      spec,
      seq: this.seq++,
      host: hostname(),
      companionPid: process.pid
    };
    this.runs.set(id, record);
    this.files.save(id, record);
    this.pump();
    if (record.startError) {
      throw new Error(record.startError);
    }
    return id;
  }

  /** The tasks wait in the one queue, in task order; the sweep's limit holds among them. */
  async submitArray(specs: LaunchSpec[], opts: ArrayOptions): Promise<string[]> {
    if (this.closed) {
      throw new Error('the local executor is shut down');
    }
    const taken = specs.find(spec => this.get(spec.jobId));
    if (taken) {
      throw new Error(`job ${taken.jobId} was already submitted`);
    }
    const sweep = { id: opts.sweepId, maxParallel: Math.max(1, Math.floor(opts.maxParallel)) };
    for (const spec of specs) {
      const record: RunRecord = {
        spec,
        seq: this.seq++,
        host: hostname(),
        companionPid: process.pid,
        sweep
      };
      this.runs.set(spec.jobId, record);
      this.files.save(spec.jobId, record);
    }
    this.pump();
    return specs.map(spec => spec.jobId);
  }

  /** Waiting tasks first: a running one's end would otherwise start the next in its place. */
  async cancelArray(schedulerIds: string[]): Promise<void> {
    const waitingFirst = [...schedulerIds].sort(
      (a, b) => Number(this.get(a)?.pid !== undefined) - Number(this.get(b)?.pid !== undefined)
    );
    for (const id of waitingFirst) {
      await this.cancel(id);
    }
  }

  async observe(schedulerIds: string[]): Promise<Map<string, Observation>> {
    this.pump();
    const seen = new Map<string, Observation>();
    for (const id of schedulerIds) {
      const o = this.observeOne(id);
      if (o) {
        seen.set(id, o);
      }
    }
    return seen;
  }

  async cancel(schedulerId: string): Promise<void> {
    const record = this.get(schedulerId);
    if (!record) {
      const other = this.files.load(schedulerId);
      if (other) {
        this.cancelUnmanaged(other);
      }
      return;
    }
    record.cancelRequested = true;
    if (record.pid === undefined) {
      record.ended = true; // never started: nothing to stop
    }
    this.files.save(schedulerId, record);
    if (runAlive(record)) {
      signalRun(record, 'SIGTERM');
      this.hardKillLater(record);
    }
  }

  /**
   * A run another companion manages: signalled when it runs on this host (its
   * script records the stop, the poller's cancel request names it); its run
   * file stays its manager's.
   */
  private cancelUnmanaged(record: RunRecord): void {
    if (elsewhere(record)) {
      throw new RunElsewhereError(record.host as string);
    }
    if (record.pid === undefined) {
      throw new RunElsewhereError(
        `this host, waiting in the queue of companion ${record.companionPid}`
      );
    }
    signalRun(record, 'SIGTERM');
    this.hardKillLater(record);
  }

  async describe(): Promise<SchedulerInfo> {
    return { reachable: true, partitions: [] };
  }

  /** No scheduler to ask: a free slot starts the run at once, else it waits for those ahead. */
  async estimateStart(): Promise<EstimateAnswer> {
    this.pump();
    const running = [...this.runs.values()].filter(r => this.isRunning(r)).length;
    return {
      expectedStart: null,
      message: localQueueMessage(running, this.waiting().length, this.maxConcurrent)
    };
  }

  async adopt(schedulerIds: string[]): Promise<void> {
    for (const id of schedulerIds) {
      const record = this.get(id);
      if (record && !record.ended && runAlive(record)) {
        this.armTimeLimit(record);
      }
    }
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
    if (this.checker) {
      clearInterval(this.checker);
    }
    this.checker = null;
    // The runs themselves go on: they belong to the user, not to this process.
  }

  /**
   * A run this companion manages, taking over one of this host whose
   * companion is gone (a run of an earlier companion, after a restart).
   */
  private get(id: string): RunRecord | undefined {
    let record = this.runs.get(id);
    if (!record) {
      const found = this.files.load(id);
      if (found && orphaned(found)) {
        record = { ...found, companionPid: process.pid };
        this.runs.set(id, record);
        this.files.save(id, record);
        this.seq = Math.max(this.seq, record.seq + 1);
      }
    }
    return record;
  }

  private isRunning(record: RunRecord): boolean {
    return !record.ended && runAlive(record);
  }

  private waiting(): [string, RunRecord][] {
    return [...this.runs.entries()].filter(([, r]) => r.pid === undefined && !r.ended);
  }

  /**
   * Starts waiting runs, oldest first, while there are free slots; a task
   * whose sweep already runs its `maxParallel` waits, and the runs behind it
   * may pass.
   */
  private pump(): void {
    if (this.closed) {
      return;
    }
    this.sweep();
    const waiting = this.waiting().sort((a, b) => a[1].seq - b[1].seq);
    const slots = new QueueSlots(
      this.maxConcurrent,
      [...this.runs.values()].filter(r => this.isRunning(r))
    );
    for (const [id, record] of waiting) {
      const wait = this.dependencyWait(record);
      if (wait === 'never') {
        // As Slurm with --kill-on-invalid-dep: it ends without running.
        record.ended = true;
        record.dependencyNeverSatisfied = true;
        this.files.save(id, record);
        continue;
      }
      if (wait === 'waiting' || slots.full) {
        continue;
      }
      if (slots.sweepFull(record)) {
        continue;
      }
      this.start(id, record);
      if (record.pid !== undefined) {
        slots.take(record);
      }
    }
    this.ensureChecker();
  }

  /** Marks runs this process did not start (adopted ones) ended once their process is gone. */
  private sweep(): void {
    for (const [id, record] of this.runs) {
      if (!this.ours.has(id) && record.pid !== undefined && !record.ended && !runAlive(record)) {
        record.ended = true;
        this.files.save(id, record);
      }
    }
  }

  /** Runs adopted after a restart end without an 'exit' event: look at them now and then. */
  private ensureChecker(): void {
    const needed = [...this.runs.values()].some(
      r => !r.ended && (r.pid === undefined || r.exitCode === undefined)
    );
    if (needed && !this.checker && !this.closed) {
      this.checker = setInterval(() => this.pump(), this.checkIntervalMs);
      this.checker.unref();
    } else if (!needed && this.checker) {
      clearInterval(this.checker);
      this.checker = null;
    }
  }

  private start(id: string, record: RunRecord): void {
    let logFd: number | null = null;
    try {
      logFd = openSync(record.spec.logPath, 'a', 0o600);
      const child = spawnScript(record.spec, logFd);
      child.on('error', error => {
        this.failedToStart(id, record, error);
        this.pump();
      });
      if (child.pid === undefined) {
        return; // 'error' follows
      }
      this.started(id, record, child.pid);
      child.on('exit', (code, signal) => this.exited(id, record, code, signal));
      child.unref();
      this.armTimeLimit(record);
    } catch (error) {
      this.failedToStart(id, record, error as Error);
    } finally {
      if (logFd !== null) {
        closeSync(logFd);
      }
    }
  }

  private started(id: string, record: RunRecord, pid: number): void {
    record.pid = pid;
    this.ours.add(id);
    record.procStart = processStartTime(pid) ?? undefined;
    record.startedAt = Date.now();
    this.files.save(id, record);
  }

  private exited(
    id: string,
    record: RunRecord,
    code: number | null,
    signal: NodeJS.Signals | null
  ): void {
    this.ours.delete(id);
    record.ended = true;
    if (code !== null) {
      record.exitCode = code;
    }
    if (signal) {
      record.exitSignal = signal;
    }
    this.files.save(id, record);
    this.pump();
  }

  private failedToStart(id: string, record: RunRecord, error: Error): void {
    record.startError = `could not start the job: ${error.message}`;
    record.ended = true;
    this.files.save(id, record);
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private hardKillLater(record: RunRecord): void {
    this.later(this.killGraceMs, () => {
      if (runAlive(record)) {
        signalRun(record, 'SIGKILL');
        killChildGroup(record);
      }
    });
  }

  private armTimeLimit(record: RunRecord): void {
    const limit = parseSlurmTime(record.spec.resources?.time);
    if (limit === null || record.startedAt === undefined) {
      return;
    }
    const left = Math.max(0, record.startedAt + limit - Date.now());
    this.later(left, () => {
      if (record.ended || !runAlive(record)) {
        return;
      }
      // As Slurm's --signal=B:USR1: the script records "timeout" and stops nbconvert.
      signalRun(record, 'SIGUSR1', false);
      this.hardKillLater(record);
    });
  }

  private observeOne(id: string): Observation | null {
    const record = this.get(id) ?? this.files.load(id);
    if (!record) {
      return { phase: 'gone' };
    }
    if (elsewhere(record)) {
      return null; // its own status.json says where and how it runs
    }
    if (!this.runs.has(id)) {
      return observeUnmanaged(record);
    }
    if (record.startError) {
      return { phase: 'ended', endState: 'failed', reason: record.startError };
    }
    if (record.pid === undefined) {
      if (record.dependencyNeverSatisfied && !record.cancelRequested) {
        // Slurm's own words for the same end, so that both executors read alike.
        return { phase: 'ended', endState: 'cancelled', reason: 'DependencyNeverSatisfied' };
      }
      if (record.cancelRequested || record.ended) {
        return { phase: 'ended', endState: 'cancelled' };
      }
      const waits = this.dependencyWait(record) === 'waiting';
      return { phase: 'pending', reason: waits ? 'Dependency' : this.queuePlace(record) };
    }
    if (this.ours.has(id) || this.isRunning(record)) {
      return { phase: 'running', node: hostname() };
    }
    return endOf(record);
  }

  /**
   * What a run that starts after others waits for, as Slurm holds it:
   * 'ready' once they ended as asked (completed, or however with `any`),
   * 'never' once one cannot (it failed, or it is unknown here), else 'waiting'.
   */
  private dependencyWait(record: RunRecord): 'ready' | 'waiting' | 'never' {
    const after = record.spec.after;
    if (!after || after.schedulerIds.length === 0) {
      return 'ready';
    }
    let waiting = false;
    for (const id of after.schedulerIds) {
      const end = this.outcomeOf(id);
      if (end === 'unknown' || (end !== 'completed' && end !== 'live' && !after.any)) {
        return 'never';
      }
      waiting ||= end === 'live';
    }
    return waiting ? 'waiting' : 'ready';
  }

  /** How an earlier run ended, for a run after it: what this executor saw, else its own status.json. */
  private outcomeOf(id: string): 'live' | 'completed' | 'ended' | 'unknown' {
    const seen = this.observeOne(id);
    if (seen?.phase === 'pending' || seen?.phase === 'running') {
      return 'live';
    }
    if (seen?.phase === 'ended') {
      return seen.endState === 'completed' ? 'completed' : 'ended';
    }
    // Ended while no companion watched it, or run by another host: its status.json tells.
    const record = this.get(id) ?? this.files.load(id);
    if (!record) {
      return 'unknown';
    }
    const told = endedStatus(record.spec.jobDir);
    if (!told) {
      return seen?.phase === 'gone' ? 'ended' : 'live';
    }
    return told.outcome === 'completed' ? 'completed' : 'ended';
  }

  private queuePlace(record: RunRecord): string {
    return queuePlaceMessage(this.waiting().filter(([, r]) => r.seq < record.seq).length);
  }
}

/** A run's status.json once it records the end (parseJobStatus, the one reader of that file); else null. */
function endedStatus(jobDir: string): JobStatusEnded | null {
  let text: string;
  try {
    text = readFileSync(join(jobDir, 'status.json'), 'utf8');
  } catch {
    return null;
  }
  const status = parseJobStatus(text);
  return status?.phase === 'ended' ? status : null;
}
