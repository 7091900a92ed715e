/**
 * What the CLI prints of jobs, sweeps and pipelines, one line each: a sweep
 * and a pipeline are one line in `list`, however many runs they have. Pure.
 */
import { byTaskIndex, runsAndSweeps, sweepProgress } from '../../contract/rules';
import { isPipelineRun, pipelineOf, pipelineProgress } from '../../contract/pipelines';
import type { Job, Parameters, PipelineInfo, SweepInfo } from '../../contract/wire';

/**
 * One line per job. A run submitted from another root shows its absolute
 * path; `from HOST` names the host whose companion submitted it.
 */
export function describeJob(job: Job): string {
  const from = job.host ? ` from ${job.host}` : '';
  return `${job.id}  ${job.state.padEnd(9)} ${job.profile.padEnd(6)} ${job.notebook}${from}${whereAndWhy(job)}`;
}

function whereAndWhy(job: Job): string {
  const where = job.node ? ` on ${job.node}` : '';
  const progress = job.progress ? ` cell ${job.progress.cell}/${job.progress.total}` : '';
  return `${where}${progress}${job.reason ? `  (${job.reason})` : ''}`;
}

/** `lr=0.1 opt="adam"` (parameters or recorded values): each value as JSON, so a string shows as one. */
function formatParameters(parameters: Parameters | undefined): string {
  return Object.entries(parameters ?? {})
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(' ');
}

/** A task of a sweep: its state and the values it runs with (the notebook is the sweep's). */
export function describeTask(job: Job): string {
  const recorded = job.results ? `  → ${formatParameters(job.results)}` : '';
  return `${job.id}  ${job.state.padEnd(9)} ${formatParameters(job.parameters)}${whereAndWhy(job)}${recorded}`;
}

// The order the states other than completed are counted in.
/** "<id>  nb.ipynb sweep · 9 of 12 completed · 1 failed · 2 running", from its tasks. */
export function describeSweep(tasks: Job[]): string {
  const [first] = tasks;
  return `${first.sweepId}  ${first.notebook} sweep · ${sweepProgress(tasks, first.taskCount)}`;
}

/** Just submitted: "<id>  nb.ipynb sweep · 12 tasks, at most 4 at once · outputs in nbs/executed/nb/". */
export function describeNewSweep(sweep: SweepInfo): string {
  const tasks = sweep.taskCount === 1 ? '1 task' : `${sweep.taskCount} tasks`;
  return `${sweep.id}  ${sweep.notebook} sweep · ${tasks}, at most ${sweep.maxParallel} at once · outputs in ${sweep.outputDir}`;
}

/** The tasks of one sweep, in task order. */
export function tasksOf(jobs: Job[], sweepId: string): Job[] {
  return jobs.filter(j => j.sweepId === sweepId).sort(byTaskIndex);
}

/**
 * The lines of `list`, in the jobs' order (newest first): a sweep where its
 * newest task is, as one line, followed by its tasks only when asked.
 */
export function listLines(jobs: Job[], withTasks: boolean): string[] {
  const shown = new Set<string>();
  const pipelineRuns = new Map<string, Job[]>();
  for (const job of jobs) {
    if (job.pipeline) {
      const runs = pipelineRuns.get(job.pipeline.pipelineId) ?? [];
      pipelineRuns.set(job.pipeline.pipelineId, [...runs, job]);
    }
  }
  const lines: string[] = [];
  const plain: Job[] = [];
  const flush = () => {
    lines.push(...sweepLines(plain.splice(0), withTasks));
  };
  for (const job of jobs) {
    const id = job.pipeline?.pipelineId;
    if (id === undefined) {
      plain.push(job);
      continue;
    }
    if (shown.has(id)) {
      continue;
    }
    shown.add(id);
    flush();
    const info = pipelineOf((pipelineRuns.get(id) ?? []).filter(isPipelineRun));
    if (info) {
      lines.push(...describePipeline(info, withTasks));
    }
  }
  flush();
  return lines;
}

function sweepLines(jobs: Job[], withTasks: boolean): string[] {
  return runsAndSweeps(jobs).flatMap(entry => {
    if ('run' in entry) {
      return [describeJob(entry.run)];
    }
    const tasks = withTasks ? entry.tasks.map(t => `  ${describeTask(t)}`) : [];
    return [describeSweep(entry.tasks), ...tasks];
  });
}

/**
 * "<id>  study.pipeline.yaml pipeline · 1 of 3 steps completed · 1 running",
 * then, with `withSteps`, each step: "  train     running   (sweep S) after prep".
 */
export function describePipeline(info: PipelineInfo, withSteps: boolean): string[] {
  const head = `${info.id}  ${info.file} pipeline · ${pipelineProgress(info)}`;
  if (!withSteps) {
    return [head];
  }
  const width = Math.max(...info.steps.map(s => s.name.length));
  return [
    head,
    ...info.steps.map(step => {
      const runs = step.sweepId ? `sweep ${step.sweepId}` : step.jobIds[0];
      const after = step.after.length ? ` after ${step.after.join(', ')}` : '';
      const why = step.reason ? `  (${step.reason})` : '';
      return `  ${step.name.padEnd(width)}  ${step.state.padEnd(9)} ${runs}  ${step.notebook}${after}${why}`;
    })
  ];
}
