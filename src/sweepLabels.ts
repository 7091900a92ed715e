/** How a sweep reads in the sidebar: its name, folder, progress and end notice. */
import type { Job, JobState } from '../contract/wire';
import { notebookStem } from '../contract/rules';

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

/** The one browser notification of a sweep that ended while the tab was hidden. */
export function sweepEndedNotice(
  notebook: string,
  tasks: Pick<Job, 'state'>[],
  taskCount?: number
): { title: string; body: string } {
  return { title: `${sweepName(notebook)} finished`, body: sweepProgressLabel(tasks, taskCount) };
}
