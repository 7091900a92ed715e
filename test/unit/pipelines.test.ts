/** A pipeline from its runs alone: step and pipeline states, the re-run's steps, the "not run" reason. */
import { notRunReason, pipelineOf, pipelineProgress, stepsToRerun } from '../../contract/pipelines';
import type { Job, JobState } from '../../contract/wire';
import type { PipelineRun } from '../../contract/pipelines';

let n = 0;
function run(step: string, index: number, state: JobState, over: Partial<Job> = {}): PipelineRun {
  n += 1;
  return {
    id: `20261204-000000-aaaa${String(n).padStart(2, '0')}`,
    notebook: `${step}.ipynb`,
    output: `executed/${step}_executed.ipynb`,
    profile: 'cpu',
    kernel: 'python3',
    resources: {},
    executor: 'local',
    schedulerId: String(n),
    state,
    submittedAt: '2026-12-04T00:00:00Z',
    pipeline: {
      pipelineId: 'P',
      file: 'study.pipeline.yaml',
      step,
      index,
      stepCount: 3,
      after: index === 0 ? [] : [['prep', 'train', 'eval'][index - 1]],
      attempt: 0
    },
    ...over
  };
}

describe('a pipeline from its runs', () => {
  it("orders the steps, groups a sweep step, and takes each step's latest attempt", () => {
    const runs = [
      run('eval', 2, 'cancelled', { reason: 'not run: train did not complete' }),
      run('train', 1, 'completed', { sweepId: 'S', taskIndex: 1 }),
      run('train', 1, 'failed', { sweepId: 'S', taskIndex: 0 }),
      run('prep', 0, 'completed')
    ];
    const info = pipelineOf(runs);
    expect(info?.steps.map(s => [s.name, s.state, s.jobIds.length, s.sweepId])).toEqual([
      ['prep', 'completed', 1, undefined],
      ['train', 'failed', 2, 'S'],
      ['eval', 'cancelled', 1, undefined]
    ]);
    expect(info?.steps[1].jobIds).toEqual([runs[2].id, runs[1].id]);
    expect(info?.steps[2].reason).toBe('not run: train did not complete');
    expect(info?.state).toBe('failed');
    expect(stepsToRerun(info!)).toEqual(['train', 'eval']);
    expect(pipelineProgress(info!)).toBe(
      '1 of 3 steps completed · 1 failed · 1 not run or cancelled'
    );

    const again = [
      ...runs,
      run('train', 1, 'running', {
        sweepId: 'S2',
        taskIndex: 0,
        pipeline: { ...runs[1].pipeline!, attempt: 1 }
      }),
      run('eval', 2, 'queued', { pipeline: { ...runs[0].pipeline!, attempt: 1 } })
    ];
    const rerun = pipelineOf(again)!;
    expect(rerun.steps.map(s => [s.name, s.state, s.sweepId])).toEqual([
      ['prep', 'completed', undefined],
      ['train', 'running', 'S2'],
      ['eval', 'queued', undefined]
    ]);
    expect(rerun.state).toBe('running');
    expect(stepsToRerun(rerun)).toEqual([]);
  });

  it('is completed only when every step is, and null without runs', () => {
    expect(pipelineOf([run('prep', 0, 'completed'), run('train', 1, 'completed')])?.state).toBe(
      'completed'
    );
    expect(pipelineOf([run('prep', 0, 'cancelled'), run('train', 1, 'cancelled')])?.state).toBe(
      'cancelled'
    );
    expect(pipelineOf([])).toBeNull();
  });

  it('says which earlier step kept a step from running', () => {
    const states = new Map<string, JobState>([
      ['prep', 'failed'],
      ['train', 'cancelled'],
      ['fit', 'timeout'],
      ['ok', 'completed']
    ]);
    expect(notRunReason(['prep'], states)).toBe('not run: prep failed');
    expect(notRunReason(['train', 'ok'], states)).toBe('not run: train did not complete');
    expect(notRunReason(['fit', 'prep'], states)).toBe('not run: fit timed out, prep failed');
    expect(notRunReason(['ok'], states)).toBe('not run: a step it comes after did not complete');
  });
});
