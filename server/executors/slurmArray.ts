/**
 * The pure pieces of a sweep as ONE Slurm job array: which task indices the
 * specs are, the --array value, the dispatcher script that turns
 * SLURM_ARRAY_TASK_ID into the task's own job.sh, the environment all tasks
 * share, and what one scancel is given.
 */
import { basename, dirname, join } from 'node:path';
import { shellQuote } from '../runtime/shellQuote';
import type { LaunchSpec } from './executor';

/** The dispatcher's file name inside the sweep's directory. */
export const DISPATCHER = 'array.sh';

/**
 * The jobs directory and each spec's task index, read from its jobDir
 * (`<jobs>/<sweepId>-<index>`); throws a clear error when the specs are not
 * the tasks of one sweep laid out that way. Pure.
 */
export function arrayTasks(
  specs: LaunchSpec[],
  sweepId: string
): { jobsDir: string; indices: number[] } {
  if (specs.length === 0) {
    throw new Error(`sweep ${sweepId} has no tasks to submit`);
  }
  const jobsDir = dirname(specs[0].jobDir);
  const prefix = `${sweepId}-`;
  const indices = specs.map(spec => {
    const name = basename(spec.jobDir);
    const index = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (!/^(0|[1-9]\d*)$/.test(index) || dirname(spec.jobDir) !== jobsDir) {
      throw new Error(
        `the task directory ${spec.jobDir} is not ${join(jobsDir, `${prefix}<task index>`)}`
      );
    }
    if (
      spec.scriptPath !== join(spec.jobDir, 'job.sh') ||
      spec.logPath !== join(spec.jobDir, 'log.txt')
    ) {
      throw new Error(`task ${name} must have job.sh and log.txt in ${spec.jobDir}`);
    }
    return Number(index);
  });
  if (new Set(indices).size !== indices.length) {
    throw new Error(`sweep ${sweepId} names a task index twice`);
  }
  sameForAll(specs, 'working directory', s => s.cwd);
  sameForAll(specs, 'resources', s => JSON.stringify(s.resources ?? {}));
  sameForAll(specs, 'mail request', s => JSON.stringify(s.mail ?? null));
  sameForAll(specs, 'name', s => s.name);
  return { jobsDir, indices };
}

/** One submission carries one set of these: tasks that differ cannot share it. */
function sameForAll(specs: LaunchSpec[], what: string, of: (s: LaunchSpec) => string): void {
  const first = of(specs[0]);
  const other = specs.find(s => of(s) !== first);
  if (other) {
    throw new Error(
      `the tasks of one array share one ${what}: ${basename(other.jobDir)} differs from ${basename(specs[0].jobDir)}`
    );
  }
}

/** `--array`'s value: the indices as ranges ("0-5", "2,5,7-9") and "%K" for the parallel limit. Pure. */
export function arraySpec(indices: number[], maxParallel: number): string {
  if (!Number.isInteger(maxParallel) || maxParallel < 1) {
    throw new Error(`at most ${maxParallel} tasks at once: it must be a whole number, 1 or more`);
  }
  const sorted = [...indices].sort((a, b) => a - b);
  const ranges: string[] = [];
  let start = sorted[0];
  for (let i = 1; i <= sorted.length; i++) {
    if (sorted[i] !== sorted[i - 1] + 1) {
      const end = sorted[i - 1];
      ranges.push(start === end ? String(start) : `${start}-${end}`);
      start = sorted[i];
    }
  }
  return `${ranges.join(',')}%${maxParallel}`;
}

/**
 * The array's batch script: it runs the task's own job.sh with exec, so the
 * batch shell IS job.sh's shell and receives the time-limit USR1 and
 * scancel's TERM as a single job's would. The task id is checked to be
 * digits before it becomes part of a path. Pure.
 */
export function dispatcherScript(jobsDir: string, sweepId: string): string {
  const taskDir = `${shellQuote(join(jobsDir, `${sweepId}-`))}"$SLURM_ARRAY_TASK_ID"`;
  return [
    '#!/bin/bash',
    `# Sweep ${sweepId.replace(/[\r\n]/g, ' ')}: Slurm runs this once per task of the array.`,
    'case "${SLURM_ARRAY_TASK_ID:-}" in',
    "  '' | *[!0-9]*)",
    '    echo "array.sh: SLURM_ARRAY_TASK_ID is not a task index: \'${SLURM_ARRAY_TASK_ID:-}\'" >&2',
    '    exit 2',
    '    ;;',
    'esac',
    `exec /bin/bash ${taskDir}/job.sh`,
    ''
  ].join('\n');
}

/**
 * The environment every task has in common: one sbatch carries one, and
 * job.sh exports each task's own (job id, directory, output) itself. Pure.
 */
export function sharedEnv(specs: LaunchSpec[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(specs[0]?.env ?? {})) {
    if (specs.every(s => s.env[key] === value)) {
      out[key] = value;
    }
  }
  return out;
}

const TASK_ID = /^(\d+)_\d+$/;

/**
 * What one scancel is given for these ids: the array's id once when every id
 * is a task of that array (a sweep's tasks are one array), else the ids. Pure.
 */
export function cancelTargets(schedulerIds: string[]): string[] {
  const ids = [...new Set(schedulerIds)];
  const arrays = new Set(ids.map(id => TASK_ID.exec(id)?.[1] ?? null));
  const [only] = arrays;
  return arrays.size === 1 && only !== null ? [only] : ids;
}
