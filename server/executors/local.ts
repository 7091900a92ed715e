/**
 * The local adapter: the job script as a detached child process on this
 * machine (the embedded default when there is no scheduler).
 *
 * Each run is its own session and process group, so it outlives a restart of
 * the companion. What is needed to find it again is kept in
 * <stateDir>/local-executor/<job id>.json: the spec (for runs still waiting
 * for a slot), and the pid with the process's start time from /proc (so a
 * recycled pid is never mistaken for our run).
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Executor, LaunchSpec, Observation, SchedulerInfo } from './executor';
import { parseSlurmTime } from './slurmTime';

export interface LocalExecutorOptions {
  /** Runs at once; the others wait, in order of submission. Default 2. */
  maxConcurrent?: number;
  stateDir: string;
  /** Between SIGTERM and SIGKILL on cancel (and after a time-limit warning). Default 10 s. */
  killGraceMs?: number;
  /** How often runs this process did not start are checked for their end. Default 2 s. */
  checkIntervalMs?: number;
}

interface RunRecord {
  spec: LaunchSpec;
  queuedAt: number;
  /** Order of submission, for the queue. */
  seq: number;
  pid?: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells our process from a recycled pid. */
  procStart?: string;
  startedAt?: number;
  /** Known only when this companion was the parent. */
  exitCode?: number;
  exitSignal?: string;
  ended?: boolean;
  cancelRequested?: boolean;
  /** A start that failed (e.g. the working directory is gone). */
  startError?: string;
}

/** Field 22 (starttime) of /proc/<pid>/stat, or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall = index 19 after "pid (comm)"
  } catch {
    return null;
  }
}

function hasProc(): boolean {
  return existsSync('/proc/self/stat');
}

function isAlive(pid: number, procStart?: string): boolean {
  if (hasProc()) {
    const now = processStartTime(pid);
    if (now === null) {
      return false;
    }
    if (procStart !== undefined && now !== procStart) {
      return false;
    }
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (state.slice(state.lastIndexOf(')') + 2).startsWith('Z')) {
        return false;
      } // a zombie has ended
    } catch {
      return false;
    }
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createLocalExecutor(opts: LocalExecutorOptions): Executor {
  const maxConcurrent = Math.max(1, Math.floor(opts.maxConcurrent ?? 2));
  const killGraceMs = opts.killGraceMs ?? 10_000;
  const recordDir = join(opts.stateDir, 'local-executor');
  const runs = new Map<string, RunRecord>();
  /** Runs this process spawned: their end is known by the 'exit' event, not by polling. */
  const ours = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  let seq = 0;
  let checker: NodeJS.Timeout | null = null;
  let closed = false;

  function recordPath(id: string): string {
    return join(recordDir, `${encodeURIComponent(id)}.json`);
  }

  function save(id: string, record: RunRecord): void {
    mkdirSync(recordDir, { recursive: true, mode: 0o700 });
    const path = recordPath(id);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    renameSync(tmp, path);
  }

  function load(id: string): RunRecord | undefined {
    try {
      const record = JSON.parse(readFileSync(recordPath(id), 'utf8')) as RunRecord;
      if (!record || typeof record !== 'object' || !record.spec) {
        return undefined;
      }
      return record;
    } catch {
      return undefined;
    }
  }

  function get(id: string): RunRecord | undefined {
    let record = runs.get(id);
    if (!record) {
      record = load(id);
      if (record) {
        runs.set(id, record);
        seq = Math.max(seq, record.seq + 1);
      }
    }
    return record;
  }

  function isRunning(record: RunRecord): boolean {
    return record.pid !== undefined && !record.ended && isAlive(record.pid, record.procStart);
  }

  /** Marks runs this process did not start (adopted ones) ended once their process is gone. */
  function sweep(): void {
    for (const [id, record] of runs) {
      if (ours.has(id)) {
        continue;
      }
      if (record.pid !== undefined && !record.ended && !isAlive(record.pid, record.procStart)) {
        record.ended = true;
        save(id, record);
      }
    }
  }

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  function signalRun(record: RunRecord, signal: NodeJS.Signals, group = true): void {
    if (record.pid === undefined || !isAlive(record.pid, record.procStart)) {
      return;
    }
    try {
      process.kill(group ? -record.pid : record.pid, signal);
    } catch {
      // already gone
    }
  }

  /** The job script runs nbconvert in a process group of its own; a SIGKILL must reach it too. */
  function killChildGroup(record: RunRecord): void {
    try {
      const child = Number(readFileSync(join(record.spec.jobDir, 'child.pid'), 'utf8').trim());
      if (Number.isInteger(child) && child > 1) {
        process.kill(-child, 'SIGKILL');
      }
    } catch {
      // no child group, or already gone
    }
  }

  function hardKillLater(record: RunRecord): void {
    later(killGraceMs, () => {
      if (record.pid !== undefined && isAlive(record.pid, record.procStart)) {
        signalRun(record, 'SIGKILL');
        killChildGroup(record);
      }
    });
  }

  function armTimeLimit(record: RunRecord): void {
    const limit = parseSlurmTime(record.spec.resources?.time);
    if (limit === null || record.startedAt === undefined) {
      return;
    }
    const left = Math.max(0, record.startedAt + limit - Date.now());
    later(left, () => {
      if (record.ended || record.pid === undefined || !isAlive(record.pid, record.procStart)) {
        return;
      }
      // As Slurm's --signal=B:USR1: the script records "timeout" and stops nbconvert.
      signalRun(record, 'SIGUSR1', false);
      hardKillLater(record);
    });
  }

  function start(id: string, record: RunRecord): void {
    const spec = record.spec;
    let logFd: number | null = null;
    try {
      logFd = openSync(spec.logPath, 'a', 0o600);
      const child = spawn(existsSync('/bin/bash') ? '/bin/bash' : 'bash', [spec.scriptPath], {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ['ignore', logFd, logFd]
      });
      child.on('error', error => {
        record.startError = `could not start the job: ${error.message}`;
        record.ended = true;
        save(id, record);
        pump();
      });
      if (child.pid === undefined) {
        return;
      } // 'error' follows
      record.pid = child.pid;
      ours.add(id);
      record.procStart = processStartTime(child.pid) ?? undefined;
      record.startedAt = Date.now();
      save(id, record);
      child.on('exit', (code, signal) => {
        ours.delete(id);
        record.ended = true;
        if (code !== null) {
          record.exitCode = code;
        }
        if (signal) {
          record.exitSignal = signal;
        }
        save(id, record);
        pump();
      });
      child.unref();
      armTimeLimit(record);
    } catch (error) {
      record.startError = `could not start the job: ${(error as Error).message}`;
      record.ended = true;
      save(id, record);
    } finally {
      if (logFd !== null) {
        closeSync(logFd);
      }
    }
  }

  function pump(): void {
    if (closed) {
      return;
    }
    sweep();
    const waiting = [...runs.entries()]
      .filter(([, r]) => r.pid === undefined && !r.ended)
      .sort((a, b) => a[1].seq - b[1].seq);
    let running = [...runs.values()].filter(isRunning).length;
    for (const [id, record] of waiting) {
      if (running >= maxConcurrent) {
        break;
      }
      start(id, record);
      if (record.pid !== undefined) {
        running++;
      }
    }
    ensureChecker();
  }

  /** Runs adopted after a restart end without an 'exit' event: look at them now and then. */
  function ensureChecker(): void {
    const needed = [...runs.values()].some(
      r => !r.ended && (r.pid === undefined || r.exitCode === undefined)
    );
    if (needed && !checker && !closed) {
      checker = setInterval(() => pump(), opts.checkIntervalMs ?? 2000);
      checker.unref();
    } else if (!needed && checker) {
      clearInterval(checker);
      checker = null;
    }
  }

  function observeOne(id: string): Observation {
    const record = get(id);
    if (!record) {
      return { phase: 'gone' };
    }
    if (record.startError) {
      return { phase: 'ended', endState: 'failed', reason: record.startError };
    }
    if (record.pid === undefined) {
      if (record.cancelRequested || record.ended) {
        return { phase: 'ended', endState: 'cancelled' };
      }
      const ahead = [...runs.values()].filter(
        r => r.pid === undefined && !r.ended && r.seq < record.seq
      ).length;
      return {
        phase: 'pending',
        reason: ahead > 0 ? `waiting for a free slot (${ahead} ahead)` : 'waiting for a free slot'
      };
    }
    if (ours.has(id) || isRunning(record)) {
      return { phase: 'running', node: hostname() };
    }
    if (record.exitCode !== undefined || record.exitSignal !== undefined) {
      const o: Observation = { phase: 'ended', node: hostname() };
      if (record.exitCode !== undefined) {
        o.exitCode = record.exitCode;
      }
      if (record.exitCode === 0) {
        o.endState = 'completed';
      } else if (record.cancelRequested) {
        o.endState = 'cancelled';
      } else {
        o.endState = 'failed';
        if (record.exitSignal) {
          o.reason = `killed by signal ${record.exitSignal}`;
        }
      }
      return o;
    }
    // Ended while no companion watched it: only its status.json can tell how.
    return { phase: 'gone' };
  }

  return {
    name: 'local',

    async submit(spec: LaunchSpec): Promise<string> {
      if (closed) {
        throw new Error('the local executor is shut down');
      }
      const id = spec.jobId;
      if (get(id)) {
        throw new Error(`job ${id} was already submitted`);
      }
      const record: RunRecord = { spec, queuedAt: Date.now(), seq: seq++ };
      runs.set(id, record);
      save(id, record);
      pump();
      if (record.startError) {
        throw new Error(record.startError);
      }
      return id;
    },

    async observe(schedulerIds: string[]): Promise<Map<string, Observation>> {
      pump();
      const out = new Map<string, Observation>();
      for (const id of schedulerIds) {
        out.set(id, observeOne(id));
      }
      return out;
    },

    async cancel(schedulerId: string): Promise<void> {
      const record = get(schedulerId);
      if (!record) {
        return;
      }
      record.cancelRequested = true;
      if (record.pid === undefined) {
        record.ended = true; // never started: nothing to stop
        save(schedulerId, record);
        return;
      }
      save(schedulerId, record);
      if (!isAlive(record.pid, record.procStart)) {
        return;
      }
      signalRun(record, 'SIGTERM');
      hardKillLater(record);
    },

    async describe(): Promise<SchedulerInfo> {
      return { reachable: true, partitions: [] };
    },

    async adopt(schedulerIds: string[]): Promise<void> {
      for (const id of schedulerIds) {
        const record = get(id);
        if (!record) {
          continue;
        }
        if (record.pid !== undefined && !record.ended && isAlive(record.pid, record.procStart)) {
          armTimeLimit(record);
        }
      }
      pump();
    },

    async close(): Promise<void> {
      closed = true;
      for (const timer of timers) {
        clearTimeout(timer);
      }
      timers.clear();
      if (checker) {
        clearInterval(checker);
      }
      checker = null;
      // The runs themselves go on: they belong to the user, not to this process.
    }
  };
}

/** Ids of the runs this executor knows on disk (for tools and tests). */
export function listLocalRuns(stateDir: string): string[] {
  try {
    return readdirSync(join(stateDir, 'local-executor'))
      .filter(f => f.endsWith('.json'))
      .map(f => decodeURIComponent(f.slice(0, -'.json'.length)));
  } catch {
    return [];
  }
}
