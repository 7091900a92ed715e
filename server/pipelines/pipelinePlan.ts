/**
 * From a checked pipeline to what is submitted, pure: where each step's
 * notebook is under the Jupyter root, and which scheduler ids each step
 * waits for once the steps before it have been submitted.
 */
import type { Dependency } from '../executors/executor';
import { checkNotebookPath } from '../jobs/paths';
import { invalid } from '../jobs/refusal';
import type { PipelineStep } from './pipelineFile';

/**
 * A step's notebook, relative to the Jupyter root: written relative to the
 * pipeline file's folder, it may climb out of that folder ("../train.ipynb")
 * but never above the root. The path is then checked as any notebook path.
 */
export function stepNotebookPath(pipelineFile: string, stepName: string, notebook: string): string {
  if (notebook.startsWith('/')) {
    throw invalid(
      `step "${stepName}": the notebook is written relative to the pipeline file's folder, not absolute: ${JSON.stringify(notebook)}`
    );
  }
  const parts = pipelineFile.split('/').filter(p => p !== '' && p !== '.');
  parts.pop(); // the pipeline file's own name
  for (const part of notebook.split('/')) {
    if (part === '..') {
      if (parts.length === 0) {
        throw invalid(
          `step "${stepName}": ${JSON.stringify(notebook)} leads above the Jupyter root`
        );
      }
      parts.pop();
    } else if (part !== '' && part !== '.') {
      parts.push(part);
    }
  }
  return checkNotebookPath(parts.join('/'));
}

/**
 * What a step waits for, given the scheduler ids of the steps submitted
 * before it (a sweep's array id stands for every task); none for a first
 * step. Submission follows the file's start order, so every step it comes
 * after is there: one that is not is a defect, said as such.
 */
export function dependencyFor(
  step: PipelineStep,
  submitted: ReadonlyMap<string, string[]>
): Dependency | undefined {
  if (step.after.length === 0) {
    return undefined;
  }
  const schedulerIds = step.after.flatMap(name => {
    const ids = submitted.get(name);
    if (!ids || ids.length === 0) {
      throw new Error(
        `step "${step.name}" comes after "${name}", which has not been submitted yet`
      );
    }
    return ids;
  });
  return { schedulerIds: [...new Set(schedulerIds)], any: step.afterAny };
}

/**
 * The ids a later step waits for, given a step's runs: a Slurm job array's
 * tasks ("123_0", "123_1") as the array ("123"), which waits for every task;
 * other ids as they are.
 */
export function waitIdsOf(schedulerIds: readonly string[]): string[] {
  const arrays = new Set(schedulerIds.map(id => /^(\d+)_\d+$/.exec(id)?.[1] ?? null));
  if (arrays.size === 1 && !arrays.has(null)) {
    return [...arrays] as string[];
  }
  return [...new Set(schedulerIds)];
}
