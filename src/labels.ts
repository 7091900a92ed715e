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

/** The notification when a run ends: "b.ipynb finished: Completed". */
export function endedMessage(job: Pick<Job, 'notebook' | 'state' | 'node' | 'reason'>): string {
  return `${baseName(job.notebook)} finished: ${stateLabel(job)}`;
}
