/**
 * A sweep's records: one per task, `<sweepId>-<taskIndex>`, each with its own
 * job directory and its output in executed/<stem>/ beside the notebook. Pure
 * but for the check of that folder; the job service writes and launches.
 */
import { promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Job, Parameters, SweepAnswer, SweepRequest, SweepRow } from '../../contract/wire';
import { notebookStem, tasksToRerun as sharedTasksToRerun } from '../../contract/rules';
import { invalid } from './refusal';
import { taskOutputName } from './parameters';
import type { ResolvedNotebook } from './paths';
import { type JobRecord, type SweepFacts, taskJobId } from './store';

/** Tasks running at once when the request does not say. */
export const DEFAULT_MAX_PARALLEL = 4;

/** Tasks one sweep may have when the companion's environment does not say (HPC_SUBMIT_MAX_TASKS). */
const DEFAULT_MAX_TASKS = 1000;

/** The injected copy a parameterized run executes, in its job directory. */
export const INPUT_NOTEBOOK = 'input.ipynb';

/** HPC_SUBMIT_MAX_TASKS when it is a whole number of at least 1, else the default. */
export function maxTasksFrom(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n >= 1 ? n : DEFAULT_MAX_TASKS;
}

/**
 * executed/<stem>/ beside the notebook, refused when it exists as something
 * other than a folder or leads out of the root (a run would write there).
 */
export async function sweepOutputDir(rootDir: string, nb: ResolvedNotebook): Promise<string> {
  const dir = join(nb.outputDir, notebookStem(nb.absolute));
  const named = JSON.stringify(relative(rootDir, dir).split(sep).join('/'));
  const stat = await fs.stat(dir).catch(() => null);
  if (stat && !stat.isDirectory()) {
    throw invalid(`${named} exists and is not a folder: the sweep's outputs go there`);
  }
  if (stat) {
    const [root, real] = await Promise.all([fs.realpath(rootDir), fs.realpath(dir)]);
    if (real !== root && !real.startsWith(root + sep)) {
      throw invalid(`the sweep's output folder ${named} leads outside the Jupyter root`);
    }
  }
  return dir;
}

/** What every task of a new sweep shares. */
export interface SweepPlan {
  sweepId: string;
  /** A record of the sweep's notebook, profile and resources, without its task fields. */
  base: JobRecord;
  outputDir: string;
  facts: Omit<SweepFacts, 'summaryOf' | 'row'>;
}

/** The records of a new sweep, in task order; each is its own row of the sweep's summary. */
export function sweepRecords(
  plan: SweepPlan,
  tasks: Parameters[],
  sweep: SweepRequest
): JobRecord[] {
  const swept = Object.keys(sweep.parameters);
  const width = Math.max(3, String(tasks.length - 1).length);
  const stem = notebookStem(plan.base.notebookPath);
  return tasks.map((parameters, i) =>
    taskRecord(plan, i, tasks.length, parameters, {
      outputPath: join(plan.outputDir, taskOutputName(stem, i, parameters, swept, width)),
      summaryOf: plan.sweepId,
      row: i
    })
  );
}

/**
 * The records of a rerun: the given tasks again, with their values and output
 * files, as rows of the summary they belong to.
 */
export function rerunRecords(plan: SweepPlan, failed: JobRecord[]): JobRecord[] {
  return failed.map((task, i) =>
    taskRecord(plan, i, failed.length, task.parameters ?? {}, {
      outputPath: task.outputPath,
      summaryOf: task.sweepFacts?.summaryOf ?? (task.sweepId as string),
      row: task.sweepFacts?.row ?? (task.taskIndex as number)
    })
  );
}

function taskRecord(
  plan: SweepPlan,
  taskIndex: number,
  taskCount: number,
  parameters: Parameters,
  where: { outputPath: string; summaryOf: string; row: number }
): JobRecord {
  const { base } = plan;
  const inFolder = relative(dirname(base.outputPath), where.outputPath).split(sep).join('/');
  return {
    ...base,
    id: taskJobId(plan.sweepId, taskIndex),
    output: `${dirname(base.output)}/${inFolder}`,
    outputPath: where.outputPath,
    sweepId: plan.sweepId,
    taskIndex,
    taskCount,
    parameters,
    sweepFacts: { ...plan.facts, summaryOf: where.summaryOf, row: where.row }
  };
}

/** The answer to a sweep's submission, from its records in task order. */
export function sweepAnswer(tasks: JobRecord[], wire: (r: JobRecord) => Job): SweepAnswer {
  const jobs = tasks.map(wire);
  const first = tasks[0];
  const facts = first.sweepFacts;
  return {
    sweep: {
      id: first.sweepId as string,
      notebook: jobs[0].notebook,
      profile: first.profile,
      mode: facts?.mode ?? 'product',
      taskCount: tasks.length,
      maxParallel: facts?.maxParallel ?? DEFAULT_MAX_PARALLEL,
      outputDir: dirname(jobs[0].output)
    },
    jobs
  };
}

/**
 * Each row of one summary.csv and the newest task that ran it (a rerun
 * replaces the failed run). `newestFirst`: the store's list.
 */
function latestOfRows(
  newestFirst: readonly JobRecord[],
  summaryOf: string
): Map<number, JobRecord> {
  const rows = new Map<number, JobRecord>();
  for (const record of newestFirst) {
    const facts = record.sweepFacts;
    if (facts?.summaryOf === summaryOf && !rows.has(facts.row)) {
      rows.set(facts.row, record);
    }
  }
  return rows;
}

/** The tasks of one summary.csv in row order, each shown as its row. */
export function summaryTasks(newestFirst: readonly JobRecord[], summaryOf: string): JobRecord[] {
  const rows = latestOfRows(newestFirst, summaryOf);
  return [...rows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([row, record]) => ({ ...record, taskIndex: row, taskCount: rows.size }));
}

/** The summary row a record fills: what "re-run failed" and summary.csv go by. */
function recordRow(record: JobRecord): SweepRow | undefined {
  if (record.sweepFacts) {
    return { summaryOf: record.sweepFacts.summaryOf, row: record.sweepFacts.row };
  }
  return record.sweepId ? { summaryOf: record.sweepId, row: record.taskIndex ?? 0 } : undefined;
}

/** What "re-run failed" of a sweep runs (contract/rules.ts holds the rule the sidebar shares). */
export function tasksToRerun(newestFirst: readonly JobRecord[], tasks: JobRecord[]): JobRecord[] {
  return sharedTasksToRerun(newestFirst, tasks, recordRow);
}
