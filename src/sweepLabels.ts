/** How a sweep and a pipeline read in the sidebar: names, folder, progress and end notices. */
import type { Job, PipelineInfo } from '../contract/wire';
import { pipelineProgress } from '../contract/pipelines';
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

/** The one notice of a pipeline's end: "study.pipeline.yaml finished: 2 of 3 steps completed · 1 failed". */
export function pipelineEndedNotice(info: PipelineInfo): { title: string; body: string } {
  const name = info.file.split('/').pop() ?? info.file;
  const failed = info.steps.find(s => s.state === 'failed' || s.state === 'timeout');
  const progress = pipelineProgress(info);
  return {
    title: `Pipeline ${name} ${info.state === 'completed' ? 'completed' : 'ended'}`,
    body: failed
      ? `${progress} (${failed.name} ${failed.state === 'timeout' ? 'timed out' : 'failed'})`
      : progress
  };
}
