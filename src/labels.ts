/** How jobs read in the sidebar; pure, so it is tested without a browser. */
import type {
  Efficiency,
  EstimateAnswer,
  GpuUse,
  Job,
  JobState,
  Parameters,
  Resources,
  RunGpu,
  RunRecord,
  UsagePoint,
  UsageSummary
} from '../contract/wire';

const WORDS: Record<JobState, string> = {
  queued: 'Queued',
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  timeout: 'Timed out',
  unknown: 'Unknown'
};

export function stateLabel(job: Pick<Job, 'state' | 'node' | 'reason'>): string {
  switch (job.state) {
    case 'running':
      return job.node ? `Running on ${job.node}` : 'Running';
    case 'queued':
      return job.reason && job.reason !== 'None' ? `Queued (${job.reason})` : 'Queued';
    case 'failed':
      return job.reason ? `Failed: ${job.reason}` : 'Failed';
    default:
      return WORDS[job.state] ?? job.state;
  }
}

/** "0:07", "12:04", "1:02:03". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Time since the job started (or was submitted, while queued), up to its end. */
export function elapsed(
  job: Pick<Job, 'submittedAt' | 'startedAt' | 'endedAt' | 'state'>,
  now: number
): string {
  const from = Date.parse(job.startedAt ?? job.submittedAt);
  const to = job.endedAt ? Date.parse(job.endedAt) : now;
  if (Number.isNaN(from) || Number.isNaN(to)) {
    return '';
  }
  return formatDuration(to - from);
}

export function runLabel(profileLabel: string | undefined): string {
  return `Run on ${profileLabel ?? 'GPU node'}`;
}

/** The file name of a path: "a/b/c.ipynb" -> "c.ipynb". */
export function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

/** Why a run from another root cannot be opened or run again from here. */
export const OUTSIDE_ROOT_REASON =
  'The file is not under this Jupyter root; open it from where it was submitted.';

/**
 * Whether a run is of the notebook at `path` (from this Jupyter root), or
 * made the executed notebook at `path`. A run from another root never is,
 * even when its relative path would read the same.
 */
export function isRunOf(
  job: Pick<Job, 'notebook' | 'output' | 'outsideRoot'>,
  path: string
): boolean {
  return !job.outsideRoot && (job.notebook === path || job.output === path);
}

/** The row's name: the file name, or the whole path of a run from another root. */
export function jobName(job: Pick<Job, 'notebook' | 'outsideRoot'>): string {
  return job.outsideRoot ? job.notebook : baseName(job.notebook);
}

/**
 * "on login2": the host a local run runs on, where the row does not already
 * name it as the node. A Slurm run's host only submitted it: its node says where.
 */
export function hostLabel(job: Pick<Job, 'host' | 'executor' | 'node'>): string | undefined {
  return job.host && job.executor === 'local' && job.host !== job.node
    ? `on ${job.host}`
    : undefined;
}

/** The notification when a run ends: "b.ipynb finished: Completed" (a whole path from another root). */
export function endedMessage(
  job: Pick<Job, 'notebook' | 'outsideRoot' | 'state' | 'node' | 'reason'>
): string {
  return `${jobName(job)} finished: ${stateLabel(job)}`;
}

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
export function meanUtil(gpus: GpuUse[] | undefined): number | undefined {
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

const pad = (n: number) => String(n).padStart(2, '0');

/** Local "14:32", with the date ("2026-11-24 14:32") when it is not the day of `now`. */
export function localTime(iso: string, now: number): string | undefined {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) {
    return undefined;
  }
  const today = new Date(now);
  const hhmm = `${pad(t.getHours())}:${pad(t.getMinutes())}`;
  const sameDay =
    t.getFullYear() === today.getFullYear() &&
    t.getMonth() === today.getMonth() &&
    t.getDate() === today.getDate();
  return sameDay ? hhmm : `${localDate(t)} ${hhmm}`;
}

function localDate(t: Date): string {
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
}

/** Local "2026-11-24 14:32:05": a run's start and end in the details. */
export function localDateTime(iso: string | undefined): string | undefined {
  const t = iso ? new Date(iso) : undefined;
  if (!t || Number.isNaN(t.getTime())) {
    return undefined;
  }
  return `${localDate(t)} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

/** A queued run: "expected to start ~14:32 (Slurm's estimate)"; undefined without an estimate. */
export function expectedStartLabel(iso: string | undefined, now: number): string | undefined {
  const when = iso ? localTime(iso, now) : undefined;
  return when ? `expected to start ~${when} (Slurm's estimate)` : undefined;
}

/** Closer than this, a start is "now": the companion's own words say so. */
const STARTS_NOW_MS = 60_000;

/**
 * The run button's line about when a run would start: "GPU node: expected
 * to start ~14:32 (Slurm's estimate)" in this browser's time, else the
 * companion's own sentence ("starts now", "no estimate").
 */
export function estimateLabel(
  profileLabel: string,
  estimate: EstimateAnswer | undefined,
  now: number
): string | undefined {
  if (!estimate) {
    return undefined;
  }
  const at = estimate.expectedStart ?? undefined;
  const later = at !== undefined && Date.parse(at) - now > STARTS_NOW_MS;
  const text = (later ? expectedStartLabel(at, now) : undefined) ?? estimate.message;
  return text ? `${profileLabel}: ${text}` : undefined;
}

/** "partition gpu · 1 GPU · 4 CPUs · 32G · 04:00:00". */
export function resourcesLabel(resources: Resources | undefined): string {
  const r = resources ?? {};
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  const parts = [
    r.partition ? `partition ${r.partition}` : undefined,
    r.gpus !== undefined ? plural(r.gpus, 'GPU') : undefined,
    r.cpus !== undefined ? plural(r.cpus, 'CPU') : undefined,
    r.memory ? `${r.memory} memory` : undefined,
    r.time ? `${r.time} time limit` : undefined
  ].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(' · ') : "the profile's defaults";
}

/** One line of the run details: what, and its value. */
export type DetailRow = [label: string, value: string];

function row(label: string, value: string | undefined): DetailRow[] {
  return value ? [[label, value]] : [];
}

/**
 * The run record as rows of the "Run details" dialog. Before the executed
 * notebook has a record (the run is live, or failed before writing it), what
 * the companion knows of the job stands in.
 */
export function runDetailRows(job: Job, run: Partial<RunRecord> | null): DetailRow[] {
  const r = run ?? {};
  const state = r.state ?? job.state;
  const reason = r.reason ?? job.reason;
  const seconds = r.durationSeconds;
  return [
    ...row('Notebook', job.notebook),
    ...row('State', reason ? `${state}: ${reason}` : state),
    ...row('Profile', r.profile ?? job.profile),
    ...row('Kernel', r.kernel ?? job.kernel),
    ...row(
      'Scheduler',
      schedulerLabel(r.executor ?? job.executor, r.schedulerId ?? job.schedulerId)
    ),
    ...row('Node', r.node ?? job.node),
    ...row('GPUs', gpusLabel(r.gpus, job.gpus)),
    ...row('Started', localDateTime(r.startedAt ?? job.startedAt)),
    ...row('Ended', localDateTime(r.endedAt ?? job.endedAt)),
    ...row('Duration', seconds !== undefined ? formatDuration(seconds * 1000) : undefined),
    ...row('Resources asked', resourcesLabel(r.resources ?? job.resources)),
    ...row('Launcher', r.launcher ? r.launcher.join(' ') || '(none)' : undefined),
    ...row('Python', r.pythonVersion),
    ...row('Git', gitLabel(r)),
    ...row('Environment', environmentLabel(r.environment))
  ];
}

function schedulerLabel(executor: string, id: string | null | undefined): string | undefined {
  if (!id) {
    return executor === 'slurm' ? 'Slurm' : executor;
  }
  return executor === 'slurm' ? `Slurm job ${id}` : `${executor} run ${id}`;
}

/** "0: NVIDIA A100 (GPU-1234…), 1: …", else the job's own list; "none visible" when the record saw none. */
function gpusLabel(gpus: RunGpu[] | undefined, fromJob: string[] | undefined): string | undefined {
  if (gpus && gpus.length > 0) {
    return gpus.map(gpuName).join(', ');
  }
  if (fromJob && fromJob.length > 0) {
    return fromJob.join(', ');
  }
  return gpus ? 'none visible' : undefined;
}

function gpuName(gpu: RunGpu): string {
  const name = [gpu.index !== undefined ? `${gpu.index}:` : '', gpu.name ?? ''].join(' ').trim();
  return gpu.uuid ? `${name || 'GPU'} (${gpu.uuid})` : name || 'GPU';
}

function gitLabel(run: Partial<RunRecord>): string | undefined {
  if (!run.git) {
    return run.pythonVersion ? 'not in a git work tree' : undefined;
  }
  const commit = run.git.commit.slice(0, 12);
  return run.git.dirty ? `${commit} with uncommitted changes` : `${commit} (clean)`;
}

/** "pixi.lock sha256 0123456789ab". */
function environmentLabel(env: RunRecord['environment'] | undefined): string | undefined {
  if (!env?.sha256) {
    return undefined;
  }
  return `${env.source} sha256 ${env.sha256.slice(0, 12)}`;
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
    ...row('Wall time', `${wall}${limit}`),
    ...row(
      'Peak memory',
      peak !== undefined
        ? asked
          ? `${formatBytes(peak)} of ${formatBytes(asked)} asked${shareOf(peak, asked)}`
          : formatBytes(peak)
        : undefined
    ),
    ...row(
      'Mean GPU utilization',
      e.meanGpuUtil !== undefined ? percent(e.meanGpuUtil) : undefined
    ),
    ...row('CPU efficiency', e.cpuEfficiency !== undefined ? percent(e.cpuEfficiency) : undefined),
    ...row('Measured from', MEASURED_FROM[e.source])
  ];
}

/** The browser notification of a run that ended while the tab was hidden. */
export function hiddenTabNotice(
  job: Pick<Job, 'notebook' | 'outsideRoot' | 'state' | 'node' | 'reason'>
): { title: string; body: string } {
  return { title: `${jobName(job)} finished`, body: stateLabel(job) };
}

/** What decides whether the browser's own notification is shown; no DOM types, so it is tested anywhere. */
export interface NoticeConditions {
  /** The setting notifyWhenHidden. */
  enabled: boolean;
  /** document.hidden */
  hidden: boolean;
  /** Notification.permission, or 'unsupported' where the browser has no Notification. */
  permission: 'default' | 'denied' | 'granted' | 'unsupported';
}

export function shouldNotifyInBrowser(c: NoticeConditions): boolean {
  return c.enabled && c.hidden && c.permission === 'granted';
}

/** "train" of "a/train.ipynb". */
export function notebookStem(path: string): string {
  return baseName(path).replace(/\.ipynb$/, '');
}

/** A sweep's row: "train sweep". */
export function sweepName(notebook: string): string {
  return `${notebookStem(notebook)} sweep`;
}

/** The folder of a path: "a/b/c.ipynb" -> "a/b" ("" at the top). */
export function folderOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

const SWEEP_COUNTED: [JobState, string][] = [
  ['failed', 'failed'],
  ['timeout', 'timed out'],
  ['cancelled', 'cancelled'],
  ['running', 'running'],
  ['queued', 'queued'],
  ['unknown', 'unknown']
];

/**
 * "9 of 12 completed · 1 failed · 2 running": of the sweep's task count, or
 * of the tasks known when a task count is missing; states with no task are left out.
 */
export function sweepProgressLabel(tasks: Pick<Job, 'state'>[], taskCount?: number): string {
  const count = (state: JobState) => tasks.filter(t => t.state === state).length;
  const total = Math.max(taskCount ?? 0, tasks.length);
  const parts = [`${count('completed')} of ${total} completed`];
  for (const [state, word] of SWEEP_COUNTED) {
    const n = count(state);
    if (n > 0) {
      parts.push(`${n} ${word}`);
    }
  }
  return parts.join(' · ');
}

/** A task's values: "lr=0.01, depth=3" (strings bare, other values as JSON). */
export function parametersLabel(parameters: Parameters | undefined): string {
  return Object.entries(parameters ?? {})
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

/** What a screen reader says of a run's row: "train.ipynb, Completed, 0:30". */
export function runRowLabel(job: Job, now: number): string {
  const what = job.sweepId
    ? `task ${(job.taskIndex ?? 0) + 1}${job.parameters ? ` (${parametersLabel(job.parameters)})` : ''}`
    : jobName(job);
  return [what, stateLabel(job), elapsed(job, now)].filter(Boolean).join(', ');
}

/** The one browser notification of a sweep that ended while the tab was hidden. */
export function sweepEndedNotice(
  notebook: string,
  tasks: Pick<Job, 'state'>[],
  taskCount?: number
): { title: string; body: string } {
  return { title: `${sweepName(notebook)} finished`, body: sweepProgressLabel(tasks, taskCount) };
}
