/** How jobs read in the sidebar; pure, so it is tested without a browser. */
import type { Job, JobState } from '../contract/wire';

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
