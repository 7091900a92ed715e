/**
 * The local executor's process helpers: a run's process found by its pid and
 * its start time in /proc (so a recycled pid is never mistaken for our run),
 * signalled, spawned as the leader of a new session, and observed as far as
 * its run file and its process tell (see local.ts).
 */
import { pidExists } from '../processes';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LaunchSpec, Observation } from './executor';
import type { RunRecord } from './localRunFiles';

/** Field 22 (starttime) of /proc/<pid>/stat, or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  const fields = procStatFields(pid);
  return fields ? (fields[19] ?? null) : null; // field 22 overall = index 19 after "pid (comm)"
}

/** The fields of /proc/<pid>/stat after "pid (comm)", or null when there is no such process. */
function procStatFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Our process is still there: same pid, same start time, not a zombie. */
function isAlive(pid: number, procStart?: string): boolean {
  if (!existsSync('/proc/self/stat')) {
    // Without /proc: whether the pid exists at all.
    return pidExists(pid);
  }
  const fields = procStatFields(pid);
  if (!fields || (procStart !== undefined && fields[19] !== procStart)) {
    return false;
  }
  return fields[0] !== 'Z'; // a zombie has ended
}

export const runAlive = (record: RunRecord): boolean =>
  record.pid !== undefined && isAlive(record.pid, record.procStart);

export function signalRun(record: RunRecord, signal: NodeJS.Signals, group = true): void {
  if (record.pid === undefined || !runAlive(record)) {
    return;
  }
  try {
    process.kill(group ? -record.pid : record.pid, signal);
  } catch {
    // already gone
  }
}

/** The job script runs nbconvert in a process group of its own; a SIGKILL must reach it too. */
export function killChildGroup(record: RunRecord): void {
  try {
    const child = Number(readFileSync(join(record.spec.jobDir, 'child.pid'), 'utf8').trim());
    if (Number.isInteger(child) && child > 1) {
      process.kill(-child, 'SIGKILL');
    }
  } catch {
    // no child group, or already gone
  }
}

/** The job script as the leader of a new session, its output appended to the job's log. */
export function spawnScript(spec: LaunchSpec, logFd: number): ChildProcess {
  return spawn(existsSync('/bin/bash') ? '/bin/bash' : 'bash', [spec.scriptPath], {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ['ignore', logFd, logFd]
  });
}

export const elsewhere = (record: RunRecord): boolean =>
  record.host !== undefined && record.host !== hostname();

/** A run of this host whose managing companion is gone (or never was recorded). */
export function orphaned(record: RunRecord): boolean {
  if (elsewhere(record)) {
    return false;
  }
  const manager = record.companionPid;
  return manager === undefined || manager === process.pid || !isAlive(manager);
}

/** A run another live companion of this host manages: by its pid, never by an exit event. */
export function observeUnmanaged(record: RunRecord): Observation {
  if (record.startError) {
    return { phase: 'ended', endState: 'failed', reason: record.startError };
  }
  if (record.pid === undefined) {
    return record.ended ? { phase: 'ended', endState: 'cancelled' } : { phase: 'pending' };
  }
  return runAlive(record) ? { phase: 'running', node: hostname() } : endOf(record);
}

/** How a run that has a pid but no longer runs ended, as far as this executor knows. */
export function endOf(record: RunRecord): Observation {
  if (record.exitCode === undefined && record.exitSignal === undefined) {
    // Ended while no companion watched it: only its status.json can tell how.
    return { phase: 'gone' };
  }
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
