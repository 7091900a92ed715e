/** What the CLI prints of jobs and sweeps: a sweep is one line in `list`. */
import type { Job, JobState } from '../../contract/wire';
import { sweepProgress } from '../../contract/rules';
import {
  describeNewSweep,
  describeSweep,
  describeTask,
  listLines
} from '../../server/cli/jobLines';
import { runEntries } from '../../src/jobGroups';

const SWEEP = '20250101-120000-abc123';

const job = (id: string, state: JobState, over: Partial<Job> = {}): Job => ({
  id,
  notebook: 'nbs/train.ipynb',
  output: 'nbs/executed/train_executed.ipynb',
  profile: 'cpu',
  kernel: 'python3',
  resources: {},
  executor: 'local',
  schedulerId: null,
  state,
  submittedAt: '2025-01-01T12:00:00Z',
  ...over
});

const task = (i: number, state: JobState, over: Partial<Job> = {}): Job =>
  job(`${SWEEP}-${i}`, state, {
    sweepId: SWEEP,
    taskIndex: i,
    taskCount: 12,
    parameters: { lr: 0.1 * (i + 1), opt: 'adam' },
    ...over
  });

// 9 completed, 1 failed, 2 running, listed newest first as the companion answers.
const TASKS = [
  ...Array.from({ length: 9 }, (_, i) => task(i, 'completed')),
  task(9, 'failed'),
  task(10, 'running', { node: 'node1' }),
  task(11, 'running')
].reverse();

describe('a sweep in list', () => {
  const older = job('20241231-090000-zzz999', 'completed');
  const newer = job('20250102-090000-yyy888', 'queued');

  it('is one line where its newest task is, and nothing else', () => {
    expect(listLines([newer, ...TASKS, older], false)).toEqual([
      expect.stringMatching(/^20250102-090000-yyy888 {2}queued/),
      `${SWEEP}  nbs/train.ipynb sweep · 9 of 12 completed · 1 failed · 2 running`,
      expect.stringMatching(/^20241231-090000-zzz999 {2}completed/)
    ]);
  });

  it('with --tasks, is followed by its tasks in task order', () => {
    const lines = listLines(TASKS, true);
    expect(lines).toHaveLength(13);
    expect(lines[1]).toBe(`  ${SWEEP}-0  completed lr=0.1 opt="adam"`);
    expect(lines[12]).toBe(`  ${SWEEP}-11  running   lr=1.2000000000000002 opt="adam"`);
  });

  it('stands where the sidebar shows it: the same order, from the same rule', () => {
    const jobs = [newer, ...TASKS, older];
    const cli = listLines(jobs, false).map(line => line.split(' ')[0]);
    const sidebar = runEntries(jobs).map(e => (e.kind === 'run' ? e.job.id : e.sweepId));
    expect(cli).toEqual([newer.id, SWEEP, older.id]);
    expect(sidebar).toEqual(cli);
  });
});

it('a task shows its parameters, node and reason', () => {
  expect(describeTask(task(3, 'failed', { node: 'n2', reason: 'cell 4 raised' }))).toBe(
    `${SWEEP}-3  failed    lr=0.4 opt="adam" on n2  (cell 4 raised)`
  );
});

it('a sweep counts only the states it has, completed first', () => {
  expect(describeSweep([task(0, 'queued'), task(1, 'cancelled'), task(2, 'queued')])).toBe(
    `${SWEEP}  nbs/train.ipynb sweep · 0 of 12 completed · 1 cancelled · 2 queued`
  );
});

it('a new sweep says how many tasks, how many at once, and where the outputs go', () => {
  const sweep = {
    id: SWEEP,
    notebook: 'nbs/train.ipynb',
    profile: 'cpu',
    mode: 'product' as const,
    taskCount: 12,
    maxParallel: 4,
    outputDir: 'nbs/executed/train/'
  };
  expect(describeNewSweep(sweep)).toBe(
    `${SWEEP}  nbs/train.ipynb sweep · 12 tasks, at most 4 at once · outputs in nbs/executed/train/`
  );
  expect(describeNewSweep({ ...sweep, taskCount: 1 })).toMatch(/ · 1 task, at most 4 at once/);
});

it('a sweep reads the same in the terminal as in the sidebar: a time limit is "timed out"', () => {
  const tasks = [task(0, 'completed'), task(1, 'timeout')];
  expect(describeSweep(tasks)).toBe(
    `${SWEEP}  nbs/train.ipynb sweep · 1 of 12 completed · 1 timed out`
  );
  expect(describeSweep(tasks)).toBe(
    `${SWEEP}  nbs/train.ipynb sweep · ${sweepProgress(tasks, 12)}`
  );
});
