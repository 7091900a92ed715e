/**
 * A sweep's records: task ids and output files, a rerun's rows, the rows of
 * summary.csv, and which tasks "rerun failed" runs again.
 */
import type { JobState } from '../../contract/wire';
import { notebookStem, sortJobs } from '../../contract/rules';
import { sweepName } from '../../src/sweepLabels';
import { JOB_ID, type JobRecord, SWEEP_ID, toWire } from '../../server/jobs/store';
import { runEntries } from '../../src/jobGroups';
import {
  type SweepPlan,
  maxTasksFrom,
  rerunRecords,
  summaryTasks,
  sweepRecords,
  tasksToRerun
} from '../../server/jobs/sweeps';

const base: JobRecord = {
  id: '20260101-000000-aaaaaa',
  notebook: 'study/seeded.ipynb',
  output: 'study/executed/seeded_executed.ipynb',
  notebookPath: '/home/u/study/seeded.ipynb',
  outputPath: '/home/u/study/executed/seeded_executed.ipynb',
  profile: 'cpu',
  kernel: 'python3',
  resources: {},
  executor: 'local',
  schedulerId: null,
  state: 'queued',
  submittedAt: '2026-01-01T00:00:00.000Z'
};

const plan = (sweepId: string, submittedAt = base.submittedAt): SweepPlan => ({
  sweepId,
  base: { ...base, id: sweepId, submittedAt },
  outputDir: '/home/u/study/executed/seeded',
  facts: { mode: 'product', maxParallel: 2 }
});

const seeds = [0, 1, 2, 3].map(seed => ({ seed, label: 'x' }));
const first = sweepRecords(plan('20260101-000000-aaaaaa'), seeds, {
  parameters: { seed: [0, 1, 2, 3] }
});

const ended = (records: JobRecord[], states: JobState[]) =>
  records.map((r, i) => ({ ...r, state: states[i] }));

test('task ids are <sweepId>-<taskIndex>, outputs named by their swept values', () => {
  expect(first.map(r => r.id)).toEqual([0, 1, 2, 3].map(i => `20260101-000000-aaaaaa-${i}`));
  expect(first.every(r => JOB_ID.test(r.id) && !SWEEP_ID.test(r.id))).toBe(true);
  expect(JOB_ID.test('20260101-000000-aaaaaa-01')).toBe(false);
  expect(first.map(r => toWire(r, '/home/u').output)).toEqual(
    [0, 1, 2, 3].map(i => `study/executed/seeded/00${i}_seed=${i}.ipynb`)
  );
  expect(first.map(r => r.output)).toEqual(first.map(r => toWire(r, '/home/u').output));
  expect(first[2]).toMatchObject({
    sweepId: '20260101-000000-aaaaaa',
    taskIndex: 2,
    taskCount: 4,
    parameters: { seed: 2, label: 'x' },
    sweepFacts: { summaryOf: '20260101-000000-aaaaaa', row: 2, maxParallel: 2 }
  });
  expect(toWire(first[2], '/home/u')).not.toHaveProperty('sweepFacts');
});

test('a rerun keeps the values, output file and summary row of what it reruns', () => {
  const failed = ended(first, ['completed', 'failed', 'completed', 'timeout']);
  const rerun = rerunRecords(plan('20260101-000100-bbbbbb'), [failed[1], failed[3]]);
  expect(
    rerun.map(r => [r.id, r.taskIndex, r.taskCount, r.parameters?.seed, r.outputPath])
  ).toEqual([
    ['20260101-000100-bbbbbb-0', 0, 2, 1, first[1].outputPath],
    ['20260101-000100-bbbbbb-1', 1, 2, 3, first[3].outputPath]
  ]);
  expect(rerun.map(r => [r.sweepFacts?.summaryOf, r.sweepFacts?.row])).toEqual([
    ['20260101-000000-aaaaaa', 1],
    ['20260101-000000-aaaaaa', 3]
  ]);
});

test("summary.csv's rows: the newest run of each row, shown as that row", () => {
  const firstEnded = ended(first, ['completed', 'failed', 'completed', 'failed']);
  const rerun = ended(
    rerunRecords(plan('20260101-000100-bbbbbb', '2026-01-01T00:01:00.000Z'), [firstEnded[1]]),
    ['completed']
  );
  const rows = summaryTasks(sortJobs([...firstEnded, ...rerun]), '20260101-000000-aaaaaa');
  expect(rows.map(r => [r.id, r.taskIndex, r.taskCount, r.state])).toEqual([
    ['20260101-000000-aaaaaa-0', 0, 4, 'completed'],
    ['20260101-000100-bbbbbb-0', 1, 4, 'completed'],
    ['20260101-000000-aaaaaa-2', 2, 4, 'completed'],
    ['20260101-000000-aaaaaa-3', 3, 4, 'failed']
  ]);
});

test('"rerun failed" runs the rows whose newest run did not complete, from either sweep', () => {
  const firstEnded = ended(first, ['completed', 'failed', 'cancelled', 'timeout']);
  const rerun = ended(
    rerunRecords(plan('20260101-000100-bbbbbb', '2026-01-01T00:01:00.000Z'), firstEnded.slice(1)),
    ['completed', 'failed', 'queued']
  );
  const all = sortJobs([...firstEnded, ...rerun]);
  expect(tasksToRerun(all, firstEnded).map(r => r.id)).toEqual(['20260101-000100-bbbbbb-1']);
  expect(tasksToRerun(all, rerun).map(r => r.id)).toEqual(['20260101-000100-bbbbbb-1']);
  expect(tasksToRerun(firstEnded, firstEnded).map(r => r.taskIndex)).toEqual([1, 2, 3]);
});

test('HPC_SUBMIT_MAX_TASKS: a whole number of at least 1, else 1000', () => {
  expect(maxTasksFrom('50')).toBe(50);
  for (const bad of [undefined, '', '0', '-3', '2.5', 'many']) {
    expect(maxTasksFrom(bad)).toBe(1000);
  }
});

test('the sidebar offers "re-run failed" exactly where the companion would rerun something', () => {
  const firstEnded = ended(first, ['completed', 'failed', 'completed', 'completed']);
  const rerun = ended(
    rerunRecords(plan('20260101-000100-bbbbbb', '2026-01-01T00:01:00.000Z'), [firstEnded[1]]),
    ['completed']
  );
  const groupsOf = (records: JobRecord[]) =>
    new Map(
      runEntries(sortJobs(records).map(r => toWire(r, '/'))).map(e => [
        e.kind === 'sweep' ? e.sweepId : e.key,
        e.kind === 'sweep' ? e.rerunnable : -1
      ])
    );
  // Before the rerun: the failed task's row is offered, and the companion reruns it.
  expect(groupsOf(firstEnded).get('20260101-000000-aaaaaa')).toBe(1);
  expect(tasksToRerun(sortJobs(firstEnded), firstEnded)).toHaveLength(1);
  // After a rerun that completed, neither sweep offers it: the companion would answer 409.
  const all = [...firstEnded, ...rerun];
  expect(tasksToRerun(sortJobs(all), firstEnded)).toHaveLength(0);
  expect(groupsOf(all).get('20260101-000000-aaaaaa')).toBe(0);
  expect(groupsOf(all).get('20260101-000100-bbbbbb')).toBe(0);
});

test("a notebook's stem is one rule: the sweep's folder and its name in the sidebar", () => {
  expect(notebookStem('/home/u/exp/Train.IPYNB')).toBe('Train');
  expect(sweepName('exp/Train.IPYNB')).toBe('Train sweep');
  expect(notebookStem('a b.ipynb')).toBe('a b');
  expect(notebookStem('notes.txt')).toBe('notes.txt');
});
