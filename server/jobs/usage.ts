/**
 * A run's use of the hardware, from the samples its job writes itself
 * (server/runtime/sampler.py appends one UsagePoint per line to usage.jsonl in
 * the job directory): no scheduler call, and the same on a site without
 * accounting. The poller reads only the file's new bytes on each change and
 * folds them into running totals; the summary (live) and the efficiency
 * (after the end) are pure functions of those totals.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Efficiency, Job, UsagePoint, UsageSummary } from '../../contract/wire';
import { parseSlurmTime } from '../executors/slurmTime';
import { memoryMegabytes } from './profiles';

export const USAGE_FILE = 'usage.jsonl';
/** Samples kept for the history line. */
export const HISTORY_POINTS = 30;
/** What a first look (a companion that starts, or takes over) reads of a long file. */
export const TAIL_BYTES = 64 * 1024;
const DEFAULT_GPU_IDLE_MINUTES = 5;
/** A request this far above use earns a hint. */
const FAR_BELOW = 0.25;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Everything the summary and the efficiency need, however many samples there were. */
export interface UsageTotals {
  points: number;
  /** The newest samples, oldest first, at most HISTORY_POINTS. */
  history: UsagePoint[];
  peakRssBytes: number;
  /** CPU seconds of the job's processes, from cpuPercent × the time between samples. */
  cpuSeconds: number;
  /** Samples that carried GPU figures, and the sum of their mean utilization. */
  gpuPoints: number;
  gpuUtilSum: number;
  /** Every sample so far carried GPUs, all at 0%. */
  gpusIdleThroughout: boolean;
  firstT?: string;
  lastT?: string;
}

export function emptyTotals(): UsageTotals {
  return {
    points: 0,
    history: [],
    peakRssBytes: 0,
    cpuSeconds: 0,
    gpuPoints: 0,
    gpuUtilSum: 0,
    gpusIdleThroughout: true
  };
}

/** A line of usage.jsonl that is a whole UsagePoint (a torn or foreign line is not). */
function isUsagePoint(value: unknown): value is UsagePoint {
  const p = value as UsagePoint;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.t === 'string' &&
    Number.isFinite(Date.parse(p.t)) &&
    Number.isFinite(p.cpuPercent) &&
    Number.isFinite(p.rssBytes) &&
    (p.gpus === undefined ||
      (Array.isArray(p.gpus) &&
        p.gpus.every(
          g =>
            Number.isFinite(g?.index) &&
            Number.isFinite(g.util) &&
            Number.isFinite(g.memUsedMiB) &&
            Number.isFinite(g.memTotalMiB)
        )))
  );
}

/**
 * The whole lines of `text` as points, and what follows the last newline (a
 * line the job is still writing, kept for the next read). Lines that are not
 * points are skipped.
 */
export function parseUsageLines(text: string): { points: UsagePoint[]; rest: string } {
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  const points: UsagePoint[] = [];
  for (const line of lines) {
    const point = parsePoint(line);
    if (point) {
      points.push(point);
    }
  }
  return { points, rest };
}

function parsePoint(line: string): UsagePoint | null {
  if (!line.trim()) {
    return null;
  }
  try {
    const value: unknown = JSON.parse(line);
    return isUsagePoint(value) ? value : null;
  } catch {
    return null;
  }
}

/** The totals with `points` (in time order) added; pure. */
export function foldUsage(totals: UsageTotals, points: UsagePoint[]): UsageTotals {
  let t = totals;
  for (const point of points) {
    t = addPoint(t, point);
  }
  return t;
}

function addPoint(t: UsageTotals, point: UsagePoint): UsageTotals {
  const gpuUtil = meanUtilOf(point);
  return {
    points: t.points + 1,
    history: [...t.history, point].slice(-HISTORY_POINTS),
    peakRssBytes: Math.max(t.peakRssBytes, point.rssBytes),
    cpuSeconds: t.cpuSeconds + cpuSecondsOf(t, point),
    gpuPoints: t.gpuPoints + (gpuUtil === null ? 0 : 1),
    gpuUtilSum: t.gpuUtilSum + (gpuUtil ?? 0),
    gpusIdleThroughout: t.gpusIdleThroughout && gpuUtil === 0,
    firstT: t.firstT ?? point.t,
    lastT: point.t
  };
}

/** The mean utilization of a sample's GPUs, or null for a sample without any. */
function meanUtilOf(point: UsagePoint): number | null {
  const gpus = point.gpus ?? [];
  return gpus.length ? gpus.reduce((sum, g) => sum + g.util, 0) / gpus.length : null;
}

/**
 * A sample's cpuPercent covers the time since the one before. The first
 * sample's span is not in the file; the second's stands in for it.
 */
function cpuSecondsOf(t: UsageTotals, point: UsagePoint): number {
  const previous = t.history[t.history.length - 1];
  if (!previous) {
    return 0;
  }
  const span = Math.max(0, (Date.parse(point.t) - Date.parse(previous.t)) / 1000);
  const firstToo = t.points === 1 ? previous.cpuPercent : 0;
  return ((point.cpuPercent + firstToo) / 100) * span;
}

/** Slurm memory ("32G") in bytes, or undefined when absent or malformed. */
export function memoryAskedBytes(memory: string | undefined): number | undefined {
  const mb = memory === undefined ? null : memoryMegabytes(memory);
  return mb === null ? undefined : Math.round(mb * MiB);
}

export interface SummaryOptions {
  /** After how long GPUs idle since the start earn a warning. */
  gpuIdleMinutes?: number;
  /**
   * The totals hold every sample from the job's start. Else (a companion that
   * came later read only the file's tail) the idle period counts from the
   * first sample seen, not from the job's start.
   */
  fromStart?: boolean;
}

/** What a running job shows of its use; pure. */
export function summarizeUsage(
  totals: UsageTotals,
  job: Pick<Job, 'resources' | 'startedAt'>,
  opts: SummaryOptions = {}
): UsageSummary {
  const summary: UsageSummary = {
    history: totals.history,
    peakRssBytes: totals.peakRssBytes
  };
  const latest = totals.history[totals.history.length - 1];
  if (latest) {
    summary.latest = latest;
  }
  if (totals.gpuPoints > 0) {
    summary.meanGpuUtil = round1(totals.gpuUtilSum / totals.gpuPoints);
  }
  const asked = memoryAskedBytes(job.resources?.memory);
  if (asked !== undefined) {
    summary.memoryAskedBytes = asked;
  }
  const warning = gpuIdleWarning(totals, job, opts);
  if (warning) {
    summary.gpuIdleWarning = warning;
  }
  return summary;
}

/**
 * "GPU idle for 5 min — is the notebook using it?": the job asked for GPUs,
 * and every sample since the start saw them all at 0% for at least the idle
 * period. A GPU that was busy once and rests now is no mistake to point out.
 */
export function gpuIdleWarning(
  totals: UsageTotals,
  job: Pick<Job, 'resources' | 'startedAt'>,
  opts: SummaryOptions = {}
): string | undefined {
  const minutes = opts.gpuIdleMinutes ?? DEFAULT_GPU_IDLE_MINUTES;
  const askedGpus = (job.resources?.gpus ?? 0) > 0;
  if (!askedGpus || totals.points === 0 || !totals.gpusIdleThroughout || !totals.lastT) {
    return undefined;
  }
  const since = (opts.fromStart !== false && job.startedAt) || totals.firstT;
  const idleMs = Date.parse(totals.lastT) - Date.parse(since ?? totals.lastT);
  if (!(idleMs >= minutes * 60_000)) {
    return undefined;
  }
  return `GPU idle for ${formatMinutes(minutes)} — is the notebook using it?`;
}

function formatMinutes(minutes: number): string {
  return minutes >= 1 ? `${round1(minutes)} min` : `${Math.round(minutes * 60)} s`;
}

/** How a run used what it asked for, from all its samples (in time order); pure. */
export function efficiencyOf(
  job: Pick<Job, 'state' | 'resources' | 'startedAt' | 'endedAt'>,
  samples: UsagePoint[]
): Efficiency | undefined {
  return efficiencyFromTotals(job, foldUsage(emptyTotals(), samples));
}

/**
 * The efficiency from the folded samples; undefined for a run that never
 * started (nothing to say of its use). Wall time from the job's own start and
 * end, else from its samples.
 */
export function efficiencyFromTotals(
  job: Pick<Job, 'state' | 'resources' | 'startedAt' | 'endedAt'>,
  totals: UsageTotals
): Efficiency | undefined {
  const wallSeconds = wallSecondsOf(job, totals);
  if (wallSeconds === null) {
    return undefined;
  }
  const efficiency: Efficiency = { wallSeconds, source: 'samples', hints: [], ...askedOf(job) };
  if (totals.points > 0) {
    efficiency.peakRssBytes = totals.peakRssBytes;
    if (wallSeconds > 0) {
      const cpus = job.resources?.cpus ?? 1;
      efficiency.cpuEfficiency = round1((100 * totals.cpuSeconds) / (wallSeconds * cpus));
    }
  }
  if (totals.gpuPoints > 0) {
    efficiency.meanGpuUtil = round1(totals.gpuUtilSum / totals.gpuPoints);
  }
  efficiency.hints = job.state === 'completed' ? hintsOf(efficiency, job) : [];
  return efficiency;
}

/** The time limit and memory the run asked for, as an efficiency states them; pure. */
export function askedOf(
  job: Pick<Job, 'resources'>
): Pick<Efficiency, 'timeLimitSeconds' | 'memoryAskedBytes'> {
  const asked: Pick<Efficiency, 'timeLimitSeconds' | 'memoryAskedBytes'> = {};
  const limitMs = parseSlurmTime(job.resources?.time);
  if (limitMs !== null) {
    asked.timeLimitSeconds = limitMs / 1000;
  }
  const memory = memoryAskedBytes(job.resources?.memory);
  if (memory !== undefined) {
    asked.memoryAskedBytes = memory;
  }
  return asked;
}

function wallSecondsOf(
  job: Pick<Job, 'startedAt' | 'endedAt'>,
  totals: UsageTotals
): number | null {
  const start = Date.parse(job.startedAt ?? totals.firstT ?? '');
  const end = Date.parse(job.endedAt ?? totals.lastT ?? '');
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    return null;
  }
  return Math.max(0, Math.round((end - start) / 1000));
}

/**
 * Sentences for a request far above use (below a quarter of it). Only for a
 * completed run: one that failed or was stopped early says nothing of what
 * it would have needed.
 */
export function hintsOf(e: Efficiency, job: Pick<Job, 'resources'>): string[] {
  const hints: string[] = [];
  if (
    e.peakRssBytes !== undefined &&
    e.memoryAskedBytes !== undefined &&
    e.peakRssBytes < FAR_BELOW * e.memoryAskedBytes
  ) {
    hints.push(`peak ${formatBytes(e.peakRssBytes)} of ${formatBytes(e.memoryAskedBytes)} asked`);
  }
  if (e.timeLimitSeconds !== undefined && e.wallSeconds < FAR_BELOW * e.timeLimitSeconds) {
    const share = percentText((100 * e.wallSeconds) / e.timeLimitSeconds);
    hints.push(`used ${share} of the ${formatDuration(e.timeLimitSeconds)} asked`);
  }
  if (
    (job.resources?.gpus ?? 0) > 0 &&
    e.meanGpuUtil !== undefined &&
    e.meanGpuUtil < 100 * FAR_BELOW
  ) {
    hints.push(`GPU busy ${percentText(e.meanGpuUtil)} on average`);
  }
  return hints;
}

/** "3.1 GiB", "32 GiB", "180 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= GiB) {
    return `${round1(bytes / GiB)} GiB`;
  }
  return `${Math.round(bytes / MiB)} MiB`;
}

/** "4:00:00", "0:30:00", "1-12:00:00". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const days = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return days > 0 ? `${days}-${String(h).padStart(2, '0')}:${mm}:${ss}` : `${h}:${mm}:${ss}`;
}

function percentText(percent: number): string {
  return percent < 0.5 ? 'under 1%' : `${Math.round(percent)}%`;
}

/** One decimal: 74.96 → 75, 3.14 → 3.1. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Where a reading of usage.jsonl stopped, and what it had folded so far. */
export interface UsageReading {
  /** Bytes of the file consumed, the partial last line excluded. */
  offset: number;
  /** A line still being written when the file was read. */
  rest: string;
  /** The totals hold every sample from the file's start. */
  fromStart: boolean;
  totals: UsageTotals;
}

/**
 * The job's usage.jsonl read on from `previous`: only the bytes added since
 * (a first reading takes the whole file, or with `tail` only its last
 * TAIL_BYTES, starting at the first whole line; with `tail`, a reading that
 * fell far behind starts over there too). A file that shrank was replaced:
 * it is read anew. No file: no samples yet.
 */
export async function readUsage(
  jobDir: string,
  previous?: UsageReading,
  opts: { tail?: boolean } = {}
): Promise<UsageReading> {
  const handle = await fs.open(join(jobDir, USAGE_FILE), 'r').catch(() => null);
  const base = previous ?? { offset: 0, rest: '', fromStart: true, totals: emptyTotals() };
  if (!handle) {
    return base;
  }
  try {
    const { size } = await handle.stat();
    if (size === base.offset + Buffer.byteLength(base.rest)) {
      return base;
    }
    const start = startOf(size, previous, opts.tail ?? false);
    const length = size - start.offset;
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start.offset);
    let text = buffer.subarray(0, bytesRead).toString('utf8');
    if (start.offset > 0 && !start.continues) {
      // Started mid-file: the text up to the first newline is the end of a line.
      text = text.slice(text.indexOf('\n') + 1);
    }
    const { points, rest } = parseUsageLines(text);
    return {
      offset: start.offset + bytesRead - Buffer.byteLength(rest),
      rest,
      fromStart: start.fromStart,
      totals: foldUsage(start.totals, points)
    };
  } finally {
    await handle.close();
  }
}

/**
 * Where to read from: on from the previous reading (its unfinished line is
 * read again, whole this time), or afresh: the tail, or the whole file.
 */
function startOf(
  size: number,
  previous: UsageReading | undefined,
  tail: boolean
): { offset: number; fromStart: boolean; totals: UsageTotals; continues: boolean } {
  if (previous && size >= previous.offset && !(tail && size - previous.offset > 4 * TAIL_BYTES)) {
    return { ...previous, continues: true };
  }
  const offset = tail ? Math.max(0, size - TAIL_BYTES) : 0;
  return { offset, fromStart: offset === 0, totals: emptyTotals(), continues: false };
}

/**
 * Every sample of the file, for the efficiency at the end when the running
 * totals do not go back to the start. A line the job left unfinished counts
 * when it is whole JSON.
 */
export async function finalUsage(jobDir: string, previous?: UsageReading): Promise<UsageReading> {
  const reading = await readUsage(jobDir, previous?.fromStart ? previous : undefined);
  const last = parsePoint(reading.rest);
  if (!last) {
    return reading;
  }
  return {
    ...reading,
    offset: reading.offset + Buffer.byteLength(reading.rest),
    rest: '',
    totals: foldUsage(reading.totals, [last])
  };
}

/** HPC_SUBMIT_GPU_IDLE_MINUTES: a positive number of minutes, else the default. */
export function gpuIdleMinutesFrom(value: string | undefined): number {
  if (value === undefined || value.trim() === '') {
    return DEFAULT_GPU_IDLE_MINUTES;
  }
  const minutes = Number(value);
  if (!(Number.isFinite(minutes) && minutes > 0)) {
    throw new Error(
      `HPC_SUBMIT_GPU_IDLE_MINUTES must be a positive number of minutes, not "${value}"`
    );
  }
  return minutes;
}
