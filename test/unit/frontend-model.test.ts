/**
 * The jobs model, in jsdom: events applied, transitions to a final state
 * signalled once, the filter, catch-up after a gap. The companion's HTTP API
 * is replaced by `listing`, a fixed answer of GET api/jobs?limit=N: what is tested is
 * the model's reconciliation, not the transport (the Galata tests run that).
 */
import type { CompanionApi } from '../../src/api';
import { JobsModel } from '../../src/model';
import { sortJobs } from '../../contract/rules';
import type { Job } from '../../contract/wire';
import { companionAnswering, testJob } from '../fixtures/wire';
import { StandInTracker } from '../fixtures/notebookTracker';

function listing(jobs: () => Job[]): CompanionApi {
  return companionAnswering({ jobsPage: async () => ({ jobs: sortJobs(jobs()) }) });
}

test('events update jobs newest first; a live job reaching a final state is signalled once', () => {
  const model = new JobsModel(listing(() => []));
  const ended: Job[] = [];
  let changes = 0;
  model.jobEnded.connect((_, j) => ended.push(j));
  model.changed.connect(() => changes++);

  // Inserted from the submit response, before any event.
  model.upsert(testJob({}));
  model.apply({
    type: 'job',
    job: testJob({ id: 'j2', notebook: 'exp/b.ipynb', submittedAt: '2026-11-23T12:05:00.000Z' })
  });
  expect(model.jobs.map(j => j.id)).toStrictEqual(['j2', 'j1']);
  expect(model.anyRunning).toBe(true);

  model.apply({
    type: 'job',
    job: testJob({ state: 'running', node: 'gpu01', progress: { cell: 1, total: 3 } })
  });
  expect(model.job('j1')?.node).toBe('gpu01');
  expect(ended.length).toBe(0);
  model.apply({
    type: 'job',
    job: testJob({ state: 'completed', endedAt: '2026-11-23T12:03:00.000Z' })
  });
  model.apply({
    type: 'job',
    job: testJob({ state: 'completed', endedAt: '2026-11-23T12:03:00.000Z' })
  });
  expect(ended.map(j => [j.id, j.state])).toStrictEqual([['j1', 'completed']]);

  model.apply({ type: 'forget', id: 'j1' });
  expect(model.job('j1')).toBeUndefined();
  model.apply({
    type: 'job',
    job: testJob({
      id: 'j2',
      notebook: 'exp/b.ipynb',
      state: 'cancelled',
      submittedAt: '2026-11-23T12:05:00.000Z'
    })
  });
  expect(model.anyRunning).toBe(false);
  expect(changes).toBeGreaterThanOrEqual(5);
});

test('a job first seen already ended is not announced as ending', () => {
  const model = new JobsModel(listing(() => []));
  const ended: Job[] = [];
  model.jobEnded.connect((_, j) => ended.push(j));
  model.apply({ type: 'job', job: testJob({ state: 'failed', reason: 'boom' }) });
  expect(ended).toStrictEqual([]);
});

test('scheduler reachability follows events', () => {
  const model = new JobsModel(listing(() => []));
  expect(model.schedulerReachable).toBe(true);
  model.apply({
    type: 'scheduler',
    reachable: false,
    message: 'squeue: Unable to contact slurm controller'
  });
  expect(model.schedulerReachable).toBe(false);
  expect(model.schedulerMessage ?? '').toMatch(/slurm controller/);
  model.apply({ type: 'scheduler', reachable: true });
  expect(model.schedulerReachable).toBe(true);
  expect(model.schedulerMessage).toBeUndefined();
});

test('the filter shows this notebook’s runs, and an executed notebook’s own run', () => {
  const model = new JobsModel(listing(() => []));
  const tracker = new StandInTracker();
  model.followCurrentNotebook(tracker);
  model.upsert(testJob({}));
  model.upsert(
    testJob({ id: 'j2', notebook: 'exp/b.ipynb', output: 'exp/executed/b_executed.ipynb' })
  );
  expect(model.filter).toBe('notebook');
  // No notebook open: all.
  expect(model.visibleJobs.length).toBe(2);
  tracker.show('exp/b.ipynb');
  expect(model.visibleJobs.map(j => j.id)).toStrictEqual(['j2']);
  tracker.show('exp/executed/a_executed.ipynb');
  expect(model.visibleJobs.map(j => j.id)).toStrictEqual(['j1']);
  // A rename of the notebook in front changes which runs are its own.
  tracker.show('exp/b.ipynb');
  tracker.rename('exp/c.ipynb');
  expect(model.currentNotebook).toBe('exp/c.ipynb');
  expect(model.visibleJobs).toHaveLength(0);
  model.filter = 'all';
  expect(model.visibleJobs.length).toBe(2);
});

test('catch-up after a gap: ends seen in the listing are signalled, forgotten jobs dropped', async () => {
  let answer = [testJob({ state: 'running' }), testJob({ id: 'gone', state: 'completed' })];
  const model = new JobsModel(listing(() => answer));
  const ended: string[] = [];
  model.jobEnded.connect((_, j) => ended.push(j.id));
  await model.refreshJobs();
  expect(model.jobs.map(j => j.id).sort()).toStrictEqual(['gone', 'j1']);
  answer = [testJob({ state: 'timeout', reason: 'time limit reached' })];
  await model.refreshJobs();
  expect(model.jobs.map(j => [j.id, j.state])).toStrictEqual([['j1', 'timeout']]);
  expect(ended).toStrictEqual(['j1']);
  expect(model.companionError).toBeUndefined();
});

test('a companion that cannot be reached is said in words, and the jobs stay', async () => {
  let fail = false;
  const api = listing(() => {
    if (fail) {
      throw new Error('the hpc-submit companion is not answering (HTTP 502)');
    }
    return [testJob({ state: 'running' })];
  });
  const model = new JobsModel(api);
  await model.refreshJobs();
  fail = true;
  await model.refreshJobs();
  expect(model.companionError).toBe('the hpc-submit companion is not answering (HTTP 502)');
  expect(model.job('j1')?.state).toBe('running');
  fail = false;
  await model.refreshJobs();
  expect(model.companionError).toBeUndefined();
});
