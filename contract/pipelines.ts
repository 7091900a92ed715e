/**
 * A pipeline as the sidebar, the CLI and the companion show it, from the runs
 * of its steps alone: each step's latest submission, its state, and the
 * pipeline's. Pure; like wire.ts, free of imports beyond the contract.
 */
import { isFinal } from './rules';
import type { Job, JobState, PipelineInfo, PipelineStepInfo } from './wire';

/** A run of a pipeline's step: one with its `pipeline` field. */
export type PipelineRun = Pick<
  Job,
  'id' | 'state' | 'notebook' | 'reason' | 'sweepId' | 'taskIndex'
> &
  Required<Pick<Job, 'pipeline'>>;

export function isPipelineRun<T extends Pick<Job, 'pipeline'>>(
  job: T
): job is T & Required<Pick<Job, 'pipeline'>> {
  return job.pipeline !== undefined;
}

/** A step's state from its runs: live while one is, completed when all are, else the worst end. */
export function stepState(runs: readonly Pick<Job, 'state'>[]): JobState {
  const has = (state: JobState) => runs.some(r => r.state === state);
  if (runs.some(r => !isFinal(r))) {
    return has('running') ? 'running' : has('unknown') ? 'unknown' : 'queued';
  }
  for (const state of ['failed', 'timeout', 'cancelled'] as JobState[]) {
    if (has(state)) {
      return state;
    }
  }
  return 'completed';
}

/**
 * A pipeline's state from its steps': live while a step is; completed when
 * every step is; failed (or timed out) when a step did, even where the steps
 * after it then never ran; else cancelled.
 */
export function pipelineState(steps: readonly Pick<PipelineStepInfo, 'state'>[]): JobState {
  return stepState(steps);
}

/** The pipeline the runs belong to (all of one pipeline, any order), or null for none. */
export function pipelineOf<T extends PipelineRun>(runs: readonly T[]): PipelineInfo | null {
  if (runs.length === 0) {
    return null;
  }
  const byStep = new Map<string, T[]>();
  for (const run of runs) {
    const { step, attempt } = run.pipeline;
    const kept = byStep.get(step);
    if (!kept || kept[0].pipeline.attempt < attempt) {
      byStep.set(step, [run]);
    } else if (kept[0].pipeline.attempt === attempt) {
      kept.push(run);
    }
  }
  const steps = [...byStep.values()]
    .sort((a, b) => a[0].pipeline.index - b[0].pipeline.index)
    .map(stepRuns => stepInfo(stepRuns));
  const newest = runs.reduce((a, b) => (b.pipeline.attempt > a.pipeline.attempt ? b : a));
  return {
    id: newest.pipeline.pipelineId,
    file: newest.pipeline.file,
    state: pipelineState(steps),
    steps
  };
}

function stepInfo(runs: PipelineRun[]): PipelineStepInfo {
  const ordered = [...runs].sort((a, b) => (a.taskIndex ?? 0) - (b.taskIndex ?? 0));
  const first = ordered[0];
  const reasons = new Set(ordered.map(r => r.reason));
  const reason = reasons.size === 1 ? first.reason : undefined;
  return {
    name: first.pipeline.step,
    notebook: first.notebook,
    after: first.pipeline.after,
    state: stepState(ordered),
    ...(first.sweepId ? { sweepId: first.sweepId } : {}),
    jobIds: ordered.map(r => r.id),
    ...(reason ? { reason } : {})
  };
}

/** What "re-run from the failed step" runs again: every step that did not complete, in start order. */
export function stepsToRerun(info: PipelineInfo): string[] {
  return isFinal(info) ? info.steps.filter(s => s.state !== 'completed').map(s => s.name) : [];
}

/** "2 of 3 steps completed · 1 failed", as the sidebar, the notification and the CLI say it. */
export function pipelineProgress(info: PipelineInfo): string {
  const count = (state: JobState) => info.steps.filter(s => s.state === state).length;
  const parts = [`${count('completed')} of ${info.steps.length} steps completed`];
  for (const [state, word] of [
    ['failed', 'failed'],
    ['timeout', 'timed out'],
    ['cancelled', 'not run or cancelled'],
    ['running', 'running'],
    ['queued', 'waiting']
  ] as [JobState, string][]) {
    const n = count(state);
    if (n > 0) {
      parts.push(`${n} ${word}`);
    }
  }
  return parts.join(' · ');
}

/** How every reason of a run that never ran begins (a step after one that failed). */
export const NOT_RUN = 'not run: ';

export function isNotRun(reason: string | undefined): boolean {
  return reason?.startsWith(NOT_RUN) ?? false;
}

/**
 * Why a step never ran, from the steps it comes after: "not run: train
 * failed". `states`: the state of each step by name.
 */
export function notRunReason(
  after: readonly string[],
  states: ReadonlyMap<string, JobState>
): string {
  const words: Partial<Record<JobState, string>> = {
    failed: 'failed',
    timeout: 'timed out',
    cancelled: 'did not complete'
  };
  const culprits = after.flatMap(name => {
    const word = words[states.get(name) as JobState];
    return word ? [`${name} ${word}`] : [];
  });
  return `${NOT_RUN}${culprits.length > 0 ? culprits.join(', ') : 'a step it comes after did not complete'}`;
}
