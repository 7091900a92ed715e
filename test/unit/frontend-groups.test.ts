/**
 * The sidebar's groups and the model's long history, in jsdom: sweeps under
 * one row with their counts, notebooks on "All", the history read a page at
 * a time, a job event placed without sorting the list, and one signal when
 * a whole sweep has ended.
 */
import type { CompanionApi } from '../../src/api';
import { ListEntries, runEntries } from '../../src/jobGroups';
import { parametersLabel, runRowLabel } from '../../src/labels';
import { sweepName } from '../../src/sweepLabels';
import { sweepProgress } from '../../contract/rules';
import { HISTORY_PAGE, JobsModel, type SweepEnd } from '../../src/model';
import { compareNewestFirst, isLive, sortJobs } from '../../contract/rules';
import type { Job, JobList } from '../../contract/wire';
import { companionAnswering, testJob } from '../fixtures/wire';
import { StandInTracker } from '../fixtures/notebookTracker';

/** Job `i` of a history: a larger i is newer. */
function run(i: number, over: Partial<Job> = {}): Job {
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return testJob({
    id: `r${String(i).padStart(6, '0')}`,
    submittedAt: at,
    state: 'completed',
    ...over
  });
}

function task(sweepId: string, index: number, state: Job['state'], count = 4): Job {
  return run(1000, {
    id: `${sweepId}-${index}`,
    notebook: 'exp/train.ipynb',
    output: `exp/executed/train/lr=${index}.ipynb`,
    sweepId,
    taskIndex: index,
    taskCount: count,
    parameters: { lr: index / 10, opt: 'adam' },
    state
  });
}

/** A companion holding `history` and answering its pages as GET api/jobs?limit&cursor does. */
function pagedCompanion(history: Job[]): { api: CompanionApi; asked: string[] } {
  const asked: string[] = [];
  const sorted = sortJobs(history);
  const jobsPage = async (limit: number, cursor?: string): Promise<JobList> => {
    asked.push(`${limit}${cursor ? `@${cursor}` : ''}`);
    const from = cursor ? Number(cursor) : 0;
    const jobs = sorted.slice(from, from + limit);
    return from + limit < sorted.length ? { jobs, next: String(from + limit) } : { jobs };
  };
  return { api: companionAnswering({ jobsPage }), asked };
}

describe('groups', () => {
  it('a sweep is one entry at the place of its newest task, its tasks in task order', () => {
    const jobs = sortJobs([
      run(5),
      task('s1', 2, 'running'),
      task('s1', 0, 'completed'),
      task('s1', 1, 'failed'),
      run(1)
    ]);
    const entries = runEntries(jobs);
    expect(entries.map(e => e.key)).toStrictEqual(['sweep:s1', 'run:r000005', 'run:r000001']);
    const sweep = entries[0];
    expect(sweep.kind === 'sweep' && sweep.tasks.map(t => t.taskIndex)).toStrictEqual([0, 1, 2]);
    expect(sweep.kind === 'sweep' && sweep.taskCount).toBe(4);
  });

  it('"All" groups by notebook, the one with the newest run first, with counts', () => {
    const model = new JobsModel(companionAnswering({}));
    [
      run(1, { notebook: 'a.ipynb' }),
      run(2, { notebook: 'b.ipynb', state: 'running' }),
      run(3, { notebook: 'a.ipynb' }),
      run(4, { notebook: 'b.ipynb', outsideRoot: true })
    ].forEach(job => model.upsert(job));
    const groups = new ListEntries(isLive).notebookGroups(model.notebookLists);
    expect(groups.map(g => [g.key, g.runs, g.live])).toStrictEqual([
      ['notebook:elsewhere:b.ipynb', 1, 0],
      ['notebook:here:a.ipynb', 2, 0],
      ['notebook:here:b.ipynb', 1, 1]
    ]);
  });

  it("an event regroups its own notebook only: the others' entries stay the same objects", () => {
    const model = new JobsModel(companionAnswering({}));
    const history = Array.from({ length: 300 }, (_, i) =>
      run(i, { notebook: `nb${i % 30}.ipynb` })
    );
    history.forEach(job => model.upsert(job));
    const entries = new ListEntries(isLive);
    const before = entries.notebookGroups(model.notebookLists);
    expect(entries.notebookGroups(model.notebookLists)).toBe(before); // nothing changed: same array

    // nb7's newest run starts running again (a rerun's event): nb7 moves to the top.
    const changed = { ...history[277], state: 'running' as const };
    model.apply({ type: 'job', job: changed });
    const after = entries.notebookGroups(model.notebookLists);
    expect(after).toHaveLength(30);
    const byKey = new Map(before.map(g => [g.key, g]));
    const rebuilt = after.filter(g => byKey.get(g.key) !== g).map(g => g.key);
    expect(rebuilt).toStrictEqual(['notebook:here:nb7.ipynb']);
    expect(after.find(g => g.key === 'notebook:here:nb7.ipynb')?.live).toBe(1);

    // "This notebook": an event of another notebook leaves its runs, and their entries, as they were.
    const tracker = new StandInTracker();
    model.followCurrentNotebook(tracker);
    tracker.show('nb3.ipynb');
    const mine = model.visibleJobs;
    const mineEntries = entries.runEntries(mine);
    model.apply({ type: 'job', job: { ...changed, state: 'completed' } });
    expect(model.visibleJobs).toBe(mine);
    expect(entries.runEntries(model.visibleJobs)).toBe(mineEntries);
    expect(mine.map(j => j.notebook)).toStrictEqual(Array(10).fill('nb3.ipynb'));
  });

  it('a sweep reads as its counts, its tasks as their values', () => {
    const tasks = [
      task('s', 0, 'completed'),
      task('s', 1, 'failed'),
      task('s', 2, 'running'),
      task('s', 3, 'running')
    ];
    expect(sweepName('exp/train.ipynb')).toBe('train sweep');
    expect(sweepProgress(tasks, 12)).toBe('1 of 12 completed · 1 failed · 2 running');
    expect(parametersLabel({ lr: 0.01, opt: 'adam', layers: [1, 2] })).toBe(
      'lr=0.01, opt=adam, layers=[1,2]'
    );
    const ended = {
      ...tasks[1],
      startedAt: '2026-01-01T00:00:00Z',
      endedAt: '2026-01-01T00:00:30Z'
    };
    expect(runRowLabel(ended, 0)).toBe('task 2 (lr=0.1, opt=adam), Failed, 0:30');
  });
});

describe('a long history', () => {
  it('starts with the newest page and reads older pages on demand, in order', async () => {
    const history = Array.from({ length: 450 }, (_, i) => run(i));
    const { api, asked } = pagedCompanion(history);
    const model = new JobsModel(api);
    await model.refreshJobs();
    expect(model.jobs).toHaveLength(HISTORY_PAGE);
    expect(model.jobs[0].id).toBe('r000449');
    expect(model.hasMore).toBe(true);
    await model.loadMore();
    await model.loadMore();
    expect(model.hasMore).toBe(false);
    expect(model.jobs.map(j => j.id)).toStrictEqual(sortJobs(history).map(j => j.id));
    expect(asked).toStrictEqual(['200', '200@200', '200@400']);
    // A catch-up asks for as many as are loaded: the older pages stay.
    await model.refreshJobs();
    expect(asked[3]).toBe('450');
    expect(model.jobs).toHaveLength(450);
  });

  it('a catch-up drops what was forgotten among the newest, and keeps older pages', async () => {
    let history = Array.from({ length: 300 }, (_, i) => run(i));
    const companion = {
      jobsPage: async (limit: number, cursor?: string): Promise<JobList> => {
        const sorted = sortJobs(history);
        const from = cursor ? Number(cursor) : 0;
        const jobs = sorted.slice(from, from + limit);
        return from + limit < sorted.length ? { jobs, next: String(from + limit) } : { jobs };
      }
    };
    const model = new JobsModel(companionAnswering(companion));
    await model.refreshJobs();
    history = history.filter(j => j.id !== 'r000299' && j.id !== 'r000250');
    await model.refreshJobs();
    expect(model.job('r000299')).toBeUndefined();
    expect(model.job('r000250')).toBeUndefined();
    expect(model.jobs).toHaveLength(200);
    expect(model.jobs[0].id).toBe('r000298');
  });

  it('an event puts its job in place, newest first, and changes no other row', async () => {
    const { api } = pagedCompanion(Array.from({ length: 200 }, (_, i) => run(i * 2)));
    const model = new JobsModel(api);
    await model.refreshJobs();
    const before = model.jobs;
    model.apply({ type: 'job', job: run(101, { state: 'running' }) });
    model.apply({ type: 'job', job: run(1000, { state: 'queued' }) });
    model.apply({ type: 'job', job: { ...before[5], state: 'failed' } });
    const ids = model.jobs.map(j => j.id);
    expect([...model.jobs].sort(compareNewestFirst).map(j => j.id)).toStrictEqual(ids);
    expect(ids).toHaveLength(202);
    expect(ids[0]).toBe('r001000');
    expect(model.job('r000101')?.state).toBe('running');
    expect(model.jobs[6].state).toBe('failed');
    // Untouched rows are the same objects: a memoized row does not render again.
    expect(model.jobs[7]).toBe(before[6]);
    expect(before).toHaveLength(200);
  });
});

describe('a sweep ends', () => {
  it('is signalled once, when its last live task ends, with all its tasks', () => {
    const model = new JobsModel(companionAnswering({}));
    const ends: SweepEnd[] = [];
    const runEnds: string[] = [];
    model.sweepEnded.connect((_, end) => ends.push(end));
    model.jobEnded.connect((_, job) => runEnds.push(job.id));
    [0, 1, 2].forEach(i => model.apply({ type: 'job', job: task('s', i, 'running', 3) }));
    model.apply({ type: 'job', job: task('s', 0, 'completed', 3) });
    model.apply({ type: 'job', job: task('s', 1, 'failed', 3) });
    expect(ends).toHaveLength(0);
    model.apply({ type: 'job', job: task('s', 2, 'completed', 3) });
    expect(runEnds).toStrictEqual(['s-0', 's-1', 's-2']);
    expect(ends).toHaveLength(1);
    expect(ends[0].sweepId).toBe('s');
    expect(ends[0].tasks.map(t => t.state)).toStrictEqual(['completed', 'failed', 'completed']);
    expect(model.sweepTasks('s').map(t => t.id)).toStrictEqual(['s-0', 's-1', 's-2']);
    model.apply({ type: 'forget', id: 's-1' });
    expect(model.sweepTasks('s').map(t => t.id)).toStrictEqual(['s-0', 's-2']);
  });
});

test('a whole sweep read at once joins the history with one sort, its tasks all known', async () => {
  const tasks = Array.from({ length: 1000 }, (_, i) => task('big', i, 'completed', 1000));
  const model = new JobsModel(
    companionAnswering({
      sweep: async () => ({ sweep: {} as never, jobs: tasks }),
      jobsPage: async () => ({ jobs: tasks.slice(0, HISTORY_PAGE) })
    })
  );
  await model.refreshJobs();
  expect(model.sweepTasks('big')).toHaveLength(HISTORY_PAGE);
  await model.loadSweep('big');
  expect(model.sweepTasks('big')).toHaveLength(1000);
  expect(model.jobs).toHaveLength(1000);
  expect(model.notebookLists).toHaveLength(1);
});
