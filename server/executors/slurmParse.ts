/**
 * Pure parsing of what the Slurm clients print: squeue's lines, sbatch's job
 * id and --test-only estimate, sinfo's partitions, and the messages that mean
 * the controller does not answer. No I/O here.
 */
import { startsNow } from '../../contract/rules';
import type { EstimateAnswer } from '../../contract/wire';
import type { CommandResult } from '../runCommand';
import type { Observation } from './executor';

/** What one Slurm command answered; a non-zero exit is an answer too. */
export type RunResult = CommandResult;

/** The state mapping for one squeue line; pure. */
export function mapSlurmState(state: string, reason?: string): Observation {
  const s = state.trim().toUpperCase().split(/[\s+]/)[0];
  const r = reason && reason.trim() && reason.trim() !== 'None' ? reason.trim() : undefined;
  const ended = (endState: NonNullable<Observation['endState']>, why?: string): Observation => {
    const o: Observation = { phase: 'ended', endState };
    const said = why ?? r;
    if (said) {
      o.reason = said;
    }
    return o;
  };
  switch (s) {
    case 'PENDING':
    case 'CONFIGURING':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
    case 'REQUEUE_FED':
    case 'RESV_DEL_HOLD':
    case 'SPECIAL_EXIT':
    case 'RESIZING':
      return r ? { phase: 'pending', reason: r } : { phase: 'pending' };
    case 'RUNNING':
    case 'COMPLETING':
    case 'SIGNALING':
    case 'STAGE_OUT':
      return { phase: 'running' };
    case 'SUSPENDED':
    case 'STOPPED':
      return { phase: 'running', reason: 'Suspended' };
    case 'COMPLETED':
      return { phase: 'ended', endState: 'completed' };
    case 'FAILED':
      return ended('failed');
    case 'CANCELLED':
      return ended('cancelled');
    case 'TIMEOUT':
      return ended('timeout', 'TimeLimit');
    case 'DEADLINE':
      return ended('failed', 'Deadline');
    case 'OUT_OF_MEMORY':
      return ended('failed', 'OutOfMemory');
    case 'NODE_FAIL':
      return ended('failed', 'NodeFail');
    case 'PREEMPTED':
      return ended('failed', 'Preempted');
    case 'BOOT_FAIL':
      return ended('failed', 'BootFail');
    case 'REVOKED':
      return ended('cancelled', 'Revoked');
    default:
      // An unfamiliar state is not an end: keep watching rather than guess.
      return { phase: 'pending', reason: r ?? s };
  }
}

/**
 * squeue's fields: id, state, nodes, start time (the expected one while the
 * job waits), and the reason last, as it is free text that may hold a '|'.
 */
export const SQUEUE_FORMAT = '%i|%T|%N|%S|%r';

/** Parses `squeue -h -o SQUEUE_FORMAT`; pure. Ids asked for but absent are 'gone'. */
export function parseSqueue(stdout: string, askedIds: string[] = []): Map<string, Observation> {
  const out = new Map<string, Observation>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) {
      continue;
    }
    const [id, state, nodes, start, ...rest] = line.split('|');
    if (!id || state === undefined) {
      continue;
    }
    const observation = mapSlurmState(state, rest.join('|'));
    const node = (nodes ?? '').trim();
    if (node && node !== '(null)' && observation.phase !== 'pending') {
      observation.node = node;
    }
    const expected = observation.phase === 'pending' ? slurmTimestamp(start) : null;
    if (expected) {
      observation.expectedStart = expected;
    }
    out.set(id.trim(), observation);
  }
  for (const id of askedIds) {
    if (!out.has(id)) {
      out.set(id, { phase: 'gone' });
    }
  }
  return out;
}

const SLURM_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/**
 * A time as Slurm's clients print it ("2026-11-25T14:32:00", local time, no
 * zone) in ISO 8601 UTC; null for "N/A", "Unknown", "None" or anything else.
 * Pure, in the time zone of this process (the one squeue and sbatch ran in).
 */
export function slurmTimestamp(text: string | undefined): string | null {
  const t = (text ?? '').trim();
  if (!SLURM_TIMESTAMP.test(t)) {
    return null;
  }
  // A date-time without an offset is local time in ECMAScript, as it is for Slurm.
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * The start time in sbatch --test-only's answer (on stderr: "sbatch: Job 12
 * to start at 2026-11-25T14:32:00 using 4 processors on nodes vm in
 * partition cpu"), in ISO 8601; null when it names none. Pure.
 */
export function parseTestOnly(stderr: string): string | null {
  const m = /\bJob \d+ to start at (\S+)/.exec(stderr);
  return m ? slurmTimestamp(m[1]) : null;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "14:32" today, "2026-11-26 14:32" on another day; local time. */
function clockTime(at: Date, now: Date): string {
  const hm = `${pad2(at.getHours())}:${pad2(at.getMinutes())}`;
  if (at.toDateString() === now.toDateString()) {
    return hm;
  }
  return `${at.getFullYear()}-${pad2(at.getMonth() + 1)}-${pad2(at.getDate())} ${hm}`;
}

/** The answer for an estimate of the start (ISO 8601) or none; pure given `now`. */
export function estimateAnswer(expectedStart: string | null, now: Date): EstimateAnswer {
  if (expectedStart === null) {
    return { expectedStart: null, message: 'no estimate' };
  }
  const at = new Date(expectedStart);
  if (startsNow(at.getTime(), now.getTime())) {
    return { expectedStart, message: 'starts now' };
  }
  return {
    expectedStart,
    message: `expected to start ~${clockTime(at, now)} (Slurm's estimate)`
  };
}

/** Parses `sinfo -h -o '%R'`: one partition per line; pure. */
export function parseSinfo(stdout: string): string[] {
  const seen = new Set<string>();
  for (const line of stdout.split('\n')) {
    const name = line.trim();
    if (name) {
      seen.add(name);
    }
  }
  return [...seen];
}

/** Parses `sbatch --parsable` ("123" or "123;cluster"); pure. */
export function parseSbatch(stdout: string): string | null {
  const first = stdout.trim().split('\n').pop() ?? '';
  const id = first.split(';')[0].trim();
  return /^\d+(_\d+)?$/.test(id) ? id : null;
}

/** Messages of Slurm clients that mean "the controller does not answer". */
export const UNREACHABLE =
  /unable to contact slurm controller|connection refused|connect failure|could not establish a configuration source|socket timed out|communication connection failure|slurm_load_(jobs|partitions) error: (?!Invalid job id)|zero bytes were transmitted|timed out/i;

/** What a Slurm client said, on one line, short enough for a message. */
export const firstLine = (text: string): string =>
  text
    .split('\n')
    .map(l => l.trim())
    .filter(Boolean)
    .join(' ')
    .slice(0, 500);

/** A Slurm job id or an array task id (123, 123_4). */
export const SLURM_JOB_ID = /^\d+(_\d+)?$/;

/** sbatch --test-only's answer as an estimate; a refusal says why there is none. */
export function estimateOf(result: RunResult, now = new Date()): EstimateAnswer {
  const start = parseTestOnly(result.stderr);
  if (result.code === 0 && start) {
    return estimateAnswer(start, now);
  }
  const said = firstLine(result.stderr) || firstLine(result.stdout);
  const why = said.replace(/^sbatch: error: /, '').replace(/^allocation failure: /, '');
  return { expectedStart: null, message: why ? `no estimate: ${why}` : 'no estimate' };
}
