/** How jobs read in the sidebar; pure, so it is tested without a browser. */
import { NOT_RUN, isNotRun } from '../contract/pipelines';
import { startsNow } from '../contract/rules';
import type {
  EstimateAnswer,
  Job,
  JobState,
  Parameters,
  ProfileStatus,
  Resources,
  RunGpu,
  RunRecord
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
    case 'cancelled':
      // A pipeline's step that an earlier step kept from running: "Not run: prep failed".
      return isNotRun(job.reason)
        ? `Not run: ${job.reason?.slice(NOT_RUN.length)}`
        : WORDS.cancelled;
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

/** "GPU node · myproj gpu" for a project's environment on the hardware, else the profile's label. */
export function choiceLabel(choice: Pick<ProfileStatus, 'label' | 'environment'>): string {
  const env = choice.environment;
  return env ? `${choice.label} · ${env.project} ${env.name}` : choice.label;
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
  const later = at !== undefined && !startsNow(Date.parse(at), now);
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

export function detailRow(label: string, value: string | undefined): DetailRow[] {
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
    ...detailRow('Notebook', job.notebook),
    ...detailRow('State', reason ? `${state}: ${reason}` : state),
    ...detailRow('Profile', r.profile ?? job.profile),
    ...detailRow('Kernel', r.kernel ?? job.kernel),
    ...detailRow(
      'Scheduler',
      schedulerLabel(r.executor ?? job.executor, r.schedulerId ?? job.schedulerId)
    ),
    ...detailRow('Node', r.node ?? job.node),
    ...detailRow('GPUs', gpusLabel(r.gpus, job.gpus)),
    ...detailRow('Started', localDateTime(r.startedAt ?? job.startedAt)),
    ...detailRow('Ended', localDateTime(r.endedAt ?? job.endedAt)),
    ...detailRow('Duration', seconds !== undefined ? formatDuration(seconds * 1000) : undefined),
    ...detailRow('Resources asked', resourcesLabel(r.resources ?? job.resources)),
    ...detailRow('Launcher', r.launcher ? r.launcher.join(' ') || '(none)' : undefined),
    ...detailRow('Python', r.pythonVersion),
    ...detailRow('Git', gitLabel(r)),
    ...detailRow('Environment', environmentLabel(r.environment)),
    ...Object.entries(job.results ?? {}).flatMap(([name, value]) =>
      detailRow(`Recorded: ${name}`, typeof value === 'string' ? value : JSON.stringify(value))
    ),
    ...detailRow('Not recorded', job.resultNotes?.join('; '))
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

/** A task's values: "lr=0.01, depth=3" (strings bare, other values as JSON). */
export function parametersLabel(parameters: Parameters | undefined): string {
  return Object.entries(parameters ?? {})
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

/** The toolbar's record entry: "record: loss, accuracy", or "Record…" when nothing is named. */
export function recordLabel(names: string[]): string {
  return names.length ? `record: ${names.join(', ')}` : 'Record…';
}

/** A sweep's task by its values: "lr=0.1, seed=0", else "task 3" (counted from 1). */
export function taskName(job: Pick<Job, 'parameters' | 'taskIndex'>): string {
  return parametersLabel(job.parameters) || `task ${(job.taskIndex ?? 0) + 1}`;
}

/** What a screen reader says of a run's row: "train.ipynb, Completed, 0:30". */
export function runRowLabel(job: Job, now: number): string {
  const what = job.sweepId
    ? `task ${(job.taskIndex ?? 0) + 1}${job.parameters ? ` (${parametersLabel(job.parameters)})` : ''}`
    : jobName(job);
  return [what, stateLabel(job), elapsed(job, now)].filter(Boolean).join(', ');
}
