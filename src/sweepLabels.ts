/** How a sweep reads in the sidebar: its name, folder, progress and end notice. */
import type { Job } from '../contract/wire';
import { notebookStem, sweepProgress } from '../contract/rules';

/** A sweep's row: "train sweep". */
export function sweepName(notebook: string): string {
  return `${notebookStem(notebook)} sweep`;
}

/** The folder of a path: "a/b/c.ipynb" -> "a/b" ("" at the top). */
export function folderOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
}

/** The one browser notification of a sweep that ended while the tab was hidden. */
export function sweepEndedNotice(
  notebook: string,
  tasks: Pick<Job, 'state'>[],
  taskCount?: number
): { title: string; body: string } {
  return { title: `${sweepName(notebook)} finished`, body: sweepProgress(tasks, taskCount) };
}
