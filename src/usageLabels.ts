/** How a run's use of the machine reads: live figures, the history line, and its efficiency. */
import type { Efficiency, GpuUse, UsagePoint, UsageSummary } from '../contract/wire';
import { type DetailRow, detailRow, formatDuration } from './labels';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A figure with the digits that matter at its size: "80", "12.1", "0.31". */
function figure(value: number): string {
  const digits = value >= 100 ? 0 : value >= 1 ? 1 : 2;
  return String(Number(value.toFixed(digits)));
}

/** "3.2/32 GiB", "310/500 MiB": both in the unit of the total, so they compare at a glance. */
export function usedOfTotal(usedBytes: number, totalBytes: number): string {
  const unit = totalBytes >= GiB ? GiB : MiB;
  return `${figure(usedBytes / unit)}/${figure(totalBytes / unit)} ${unit === GiB ? 'GiB' : 'MiB'}`;
}

/** "3.2 GiB", "310 MiB". */
export function formatBytes(bytes: number): string {
  return bytes >= GiB ? `${figure(bytes / GiB)} GiB` : `${figure(bytes / MiB)} MiB`;
}

function percent(value: number): string {
  return `${Math.round(value)}%`;
}

/** The mean utilization of a sample's GPUs; undefined without GPUs. */
function meanUtil(gpus: GpuUse[] | undefined): number | undefined {
  return gpus && gpus.length > 0
    ? gpus.reduce((sum, g) => sum + g.util, 0) / gpus.length
    : undefined;
}

/**
 * The row's live figures: "GPU 87% · 12.1/80 GiB · RAM 3.2/32 GiB". Several
 * GPUs read as their mean utilization and summed memory ("2 GPUs 80% · …");
 * without GPUs the CPU stands in ("CPU 98% · RAM …"). Unknown parts are left
 * out; undefined when nothing is known yet.
 */
export function usageLine(usage: UsageSummary | undefined): string | undefined {
  const latest = usage?.latest;
  if (!usage || !latest) {
    return undefined;
  }
  const parts: string[] = [];
  const gpus = latest.gpus ?? [];
  const util = meanUtil(gpus);
  if (util !== undefined) {
    const name = gpus.length === 1 ? 'GPU' : `${gpus.length} GPUs`;
    parts.push(`${name} ${percent(util)}`);
    const used = gpus.reduce((sum, g) => sum + g.memUsedMiB, 0);
    const total = gpus.reduce((sum, g) => sum + g.memTotalMiB, 0);
    if (total > 0) {
      parts.push(usedOfTotal(used * MiB, total * MiB));
    }
  } else if (Number.isFinite(latest.cpuPercent)) {
    parts.push(`CPU ${percent(latest.cpuPercent)}`);
  }
  if (Number.isFinite(latest.rssBytes)) {
    parts.push(
      usage.memoryAskedBytes
        ? `RAM ${usedOfTotal(latest.rssBytes, usage.memoryAskedBytes)}`
        : `RAM ${formatBytes(latest.rssBytes)}`
    );
  }
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** A history line's drawing: what it plots, the SVG polyline points and its words for screen readers. */
export interface Sparkline {
  kind: 'GPU' | 'CPU';
  points: string;
  label: string;
}

/**
 * The small history line of the row: the GPUs' mean utilization per sample,
 * else the CPU (its scale grows past 100% for several cores). Undefined with
 * fewer than two samples: one point draws no line.
 */
export function sparkline(
  history: UsagePoint[] | undefined,
  width: number,
  height: number
): Sparkline | undefined {
  if (!history || history.length < 2) {
    return undefined;
  }
  const gpu = history.some(p => (p.gpus?.length ?? 0) > 0);
  const values = history.map(p => (gpu ? (meanUtil(p.gpus) ?? 0) : Math.max(0, p.cpuPercent)));
  const top = Math.max(100, ...values);
  const step = width / (values.length - 1);
  const points = values
    .map((v, i) => `${round1(i * step)},${round1(height - (v / top) * height)}`)
    .join(' ');
  const kind = gpu ? 'GPU' : 'CPU';
  const low = percent(Math.min(...values));
  const high = percent(Math.max(...values));
  const now = percent(values[values.length - 1]);
  return {
    kind,
    points,
    label: `${kind} utilization over the last ${values.length} samples: ${low} to ${high}, now ${now}`
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** " (45%)" of a whole; nothing without one. */
function shareOf(part: number, whole: number | undefined): string {
  return whole ? ` (${percent((part / whole) * 100)})` : '';
}

const MEASURED_FROM: Record<Efficiency['source'], string> = {
  samples: "the job's own samples",
  'samples+sacct': "the job's own samples and Slurm's accounting (sacct)",
  sacct: "Slurm's accounting (sacct)"
};

/** How the run used what it asked for, as rows of the details dialog. */
export function efficiencyRows(e: Efficiency): DetailRow[] {
  const wall = formatDuration(e.wallSeconds * 1000);
  const limit = e.timeLimitSeconds
    ? ` of ${formatDuration(e.timeLimitSeconds * 1000)} asked${shareOf(e.wallSeconds, e.timeLimitSeconds)}`
    : '';
  const peak = e.peakRssBytes;
  const asked = e.memoryAskedBytes;
  return [
    ...detailRow('Wall time', `${wall}${limit}`),
    ...detailRow(
      'Peak memory',
      peak !== undefined
        ? asked
          ? `${formatBytes(peak)} of ${formatBytes(asked)} asked${shareOf(peak, asked)}`
          : formatBytes(peak)
        : undefined
    ),
    ...detailRow(
      'Mean GPU utilization',
      e.meanGpuUtil !== undefined ? percent(e.meanGpuUtil) : undefined
    ),
    ...detailRow(
      'CPU efficiency',
      e.cpuEfficiency !== undefined ? percent(e.cpuEfficiency) : undefined
    ),
    ...detailRow('Measured from', MEASURED_FROM[e.source])
  ];
}
