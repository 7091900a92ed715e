import {
  baseName,
  elapsed,
  endedMessage,
  formatDuration,
  hostLabel,
  isRunOf,
  jobName,
  runLabel,
  stateLabel
} from '../../src/labels';
import { JobsModel } from '../../src/model';
import { isLive, sortJobs } from '../../contract/rules';
import {
  chooseProfile,
  loadChoice,
  readSubmitMetadata,
  saveChoice,
  withChoice
} from '../../src/metadata';
import { readSettings } from '../../src/settings';
import type { Job, ProfileStatus } from '../../contract/wire';
import { companionAnswering, gpuProfile, testJob } from '../fixtures/wire';
import { StandInTracker } from '../fixtures/notebookTracker';

/** A queued Slurm run of a/b.ipynb. */
const job = (over: Partial<Job>): Job =>
  testJob({
    id: '20261123-120000-aaaaaa',
    notebook: 'a/b.ipynb',
    output: 'a/executed/b_executed.ipynb',
    executor: 'slurm',
    ...over
  });

const gpu = gpuProfile();
const cpu: ProfileStatus = {
  ...gpu,
  id: 'cpu',
  label: 'CPU node',
  kernel: 'convcnp-cpu',
  resources: { partition: 'cpu' }
};

test('state labels say where and why', () => {
  expect(stateLabel(job({ state: 'running', node: 'gpu017' }))).toBe('Running on gpu017');
  expect(stateLabel(job({ state: 'running' }))).toBe('Running');
  expect(stateLabel(job({ state: 'queued', reason: 'Priority' }))).toBe('Queued (Priority)');
  expect(stateLabel(job({ state: 'queued', reason: 'None' }))).toBe('Queued');
  expect(stateLabel(job({ state: 'failed', reason: 'no GPU visible on node3' }))).toBe(
    'Failed: no GPU visible on node3'
  );
  expect(stateLabel(job({ state: 'timeout' }))).toBe('Timed out');
  expect(stateLabel(job({ state: 'cancelled' }))).toBe('Cancelled');
  expect(stateLabel(job({ state: 'completed' }))).toBe('Completed');
  expect(stateLabel(job({ state: 'unknown' }))).toBe('Unknown');
  expect(isLive(job({ state: 'unknown' }))).toBe(true);
  expect(isLive(job({ state: 'running' }))).toBe(true);
  expect(endedMessage(job({ state: 'completed' }))).toBe('b.ipynb finished: Completed');
  expect(endedMessage(job({ state: 'failed', reason: 'cell 3 raised ValueError' }))).toBe(
    'b.ipynb finished: Failed: cell 3 raised ValueError'
  );
  expect(isLive(job({ state: 'timeout' }))).toBe(false);
});

test('durations and elapsed time', () => {
  expect(formatDuration(7_000)).toBe('0:07');
  expect(formatDuration(724_000)).toBe('12:04');
  expect(formatDuration(3_723_000)).toBe('1:02:03');
  expect(formatDuration(-5)).toBe('0:00');
  const started = job({ startedAt: '2026-11-23T12:00:10.000Z' });
  expect(elapsed(started, Date.parse('2026-11-23T12:01:15.000Z'))).toBe('1:05');
  const ended = job({
    startedAt: '2026-11-23T12:00:10.000Z',
    endedAt: '2026-11-23T12:00:40.000Z',
    state: 'completed'
  });
  expect(elapsed(ended, Date.parse('2026-11-23T15:00:00.000Z'))).toBe('0:30');
  expect(elapsed(job({}), Date.parse('2026-11-23T12:00:03.000Z'))).toBe('0:03');
});

test('paths, labels and ordering', () => {
  expect(runLabel('CPU node')).toBe('Run on CPU node');
  expect(runLabel(undefined)).toBe('Run on GPU node');
  expect(baseName('x/y z.ipynb')).toBe('y z.ipynb');
  const older = job({ id: '20261123-110000-aaaaaa', submittedAt: '2026-11-23T11:00:00.000Z' });
  const newer = job({ id: '20261123-130000-bbbbbb', submittedAt: '2026-11-23T13:00:00.000Z' });
  expect(sortJobs([older, newer]).map(j => j.id)).toStrictEqual([newer.id, older.id]);
});

/** Another root's x.ipynb, as this companion answers it: its absolute path. */
const elsewhere = job({
  id: '20261123-130000-cccccc',
  notebook: '/home/ada/other/x.ipynb',
  output: '/home/ada/other/executed/x_executed.ipynb',
  outsideRoot: true,
  executor: 'local',
  host: 'login2',
  submittedAt: '2026-11-23T13:00:00.000Z'
});
const here = job({ notebook: 'x.ipynb', output: 'executed/x_executed.ipynb' });

test('a run is of the open notebook only when it lies under this root', () => {
  expect(isRunOf(here, 'x.ipynb')).toBe(true);
  // The executed notebook open in front shows the run that made it.
  expect(isRunOf(here, 'executed/x_executed.ipynb')).toBe(true);
  expect(isRunOf(here, 'y.ipynb')).toBe(false);
  expect(isRunOf(elsewhere, 'x.ipynb')).toBe(false);
  // Not even when its absolute path is what this root calls the open file.
  expect(isRunOf(elsewhere, '/home/ada/other/x.ipynb')).toBe(false);
  expect(isRunOf(elsewhere, '/home/ada/other/executed/x_executed.ipynb')).toBe(false);
});

test('the sidebar lists another root’s run under All, not under This notebook', () => {
  const api = companionAnswering({});
  const model = new JobsModel(api);
  const tracker = new StandInTracker();
  model.followCurrentNotebook(tracker);
  model.upsert(here);
  model.upsert(elsewhere);
  tracker.show('x.ipynb');
  expect(model.visibleJobs.map(j => j.id)).toStrictEqual([here.id]);
  expect(model.latestFor('x.ipynb')?.id).toBe(here.id);
  model.filter = 'all';
  expect(model.visibleJobs.map(j => j.id)).toStrictEqual([elsewhere.id, here.id]);
});

test('a run from another root reads with its whole path; a local run says its host', () => {
  expect(jobName(here)).toBe('x.ipynb');
  expect(jobName(elsewhere)).toBe('/home/ada/other/x.ipynb');
  expect(endedMessage({ ...elsewhere, state: 'completed' })).toBe(
    '/home/ada/other/x.ipynb finished: Completed'
  );
  expect(hostLabel(elsewhere)).toBe('on login2');
  expect(hostLabel({ host: 'login2', executor: 'slurm' })).toBeUndefined();
  expect(hostLabel({ executor: 'local' })).toBeUndefined();
  // Said once: a local run's node is its host.
  expect(hostLabel({ ...elsewhere, node: 'login2' })).toBeUndefined();
});

test('notebook metadata: read defensively, choose a profile the site still has', () => {
  expect(readSubmitMetadata(undefined)).toStrictEqual({});
  expect(readSubmitMetadata('gpu')).toStrictEqual({});
  expect(readSubmitMetadata({ profile: 7 })).toStrictEqual({});
  expect(readSubmitMetadata({ profile: 'cpu', resources: { gpus: 2 } })).toStrictEqual({
    profile: 'cpu',
    resources: { gpus: 2 }
  });
  expect(chooseProfile({ profile: 'cpu' }, [gpu, cpu], 'gpu')?.id).toBe('cpu');
  expect(chooseProfile({ profile: 'gone' }, [gpu, cpu], 'cpu')?.id).toBe('cpu');
  expect(chooseProfile({}, [gpu, cpu], 'nope')?.id).toBe('gpu');
  expect(chooseProfile({}, [], 'gpu')).toBeUndefined();
  expect(withChoice({ resources: { gpus: 1 } }, { profile: 'cpu' })).toStrictEqual({
    profile: 'cpu',
    resources: { gpus: 1 }
  });
});

test("notebook metadata: a project's environment on the hardware is chosen by both, and the default prefers the project's", () => {
  const env = (name: string) => ({
    name,
    project: 'myproj',
    manifest: 'myproj/pixi.toml',
    installed: true
  });
  const gpuGpu = { ...gpu, environment: env('gpu') };
  const gpuDefault = { ...gpu, environment: env('default') };
  const choices = [gpuGpu, gpuDefault, gpu, cpu];
  expect(chooseProfile({ profile: 'gpu', environment: 'default' }, choices, 'gpu')).toBe(
    gpuDefault
  );
  // A saved site profile stays the site's, though the project offers the same hardware.
  expect(chooseProfile({ profile: 'gpu' }, choices, 'gpu')).toBe(gpu);
  // Nothing saved: the default hardware, in the project's best-fitting environment.
  expect(chooseProfile({}, choices, 'gpu')).toBe(gpuGpu);
  // An environment the project no longer offers: the default.
  expect(chooseProfile({ profile: 'cpu', environment: 'gone' }, choices, 'gpu')).toBe(gpuGpu);
  expect(
    withChoice({ profile: 'gpu', environment: 'gpu', resources: { gpus: 1 } }, { profile: 'cpu' })
  ).toStrictEqual({ profile: 'cpu', resources: { gpus: 1 } });
  const nb = new Metadata();
  expect(saveChoice(nb, { profile: 'gpu', environment: 'gpu' })).toBe(true);
  expect(saveChoice(nb, { profile: 'gpu', environment: 'gpu' })).toBe(false);
  expect(saveChoice(nb, { profile: 'gpu' })).toBe(true);
  expect(nb.getMetadata('hpc_submit')).toStrictEqual({ profile: 'gpu' });
});

/** A stand-in with the two metadata methods of JupyterLab 4's notebook model, counting writes. */
class Metadata {
  values = new Map<string, unknown>();
  writes = 0;
  getMetadata(key: string): unknown {
    return this.values.get(key);
  }
  setMetadata(key: string, value: unknown): void {
    this.writes++;
    // The model keeps a copy of the JSON (jsdom has no structuredClone).
    this.values.set(key, JSON.parse(JSON.stringify(value)));
  }
}

test('notebook metadata: the choice is written under hpc_submit, keeping resources, and only when it changes', () => {
  const nb = new Metadata();
  expect(loadChoice(nb)).toStrictEqual({});
  expect(loadChoice(null)).toStrictEqual({});
  expect(saveChoice(nb, { profile: 'cpu' })).toBe(true);
  expect(nb.getMetadata('hpc_submit')).toStrictEqual({ profile: 'cpu' });
  // The same choice again does not dirty the notebook.
  expect(saveChoice(nb, { profile: 'cpu' })).toBe(false);
  expect(nb.writes).toBe(1);
  nb.setMetadata('hpc_submit', { profile: 'cpu', resources: { time: '00:10:00' } });
  saveChoice(nb, { profile: 'gpu' });
  expect(loadChoice(nb)).toStrictEqual({ profile: 'gpu', resources: { time: '00:10:00' } });
  // A hand-edited, broken value reads as no choice and is replaced cleanly.
  nb.setMetadata('hpc_submit', ['gpu']);
  expect(loadChoice(nb)).toStrictEqual({});
  saveChoice(nb, { profile: 'gpu' });
  expect(nb.getMetadata('hpc_submit')).toStrictEqual({ profile: 'gpu' });
  expect(chooseProfile(loadChoice(nb), [cpu, gpu], 'cpu')?.id).toBe('gpu');
});

test('settings fall back to their defaults', () => {
  expect(readSettings({})).toStrictEqual({
    defaultProfile: 'gpu',
    confirmBeforeSubmit: false,
    openOutputOnCompletion: false,
    notifyWhenHidden: false,
    maxParallel: 4
  });
  expect(
    readSettings({
      defaultProfile: 'cpu',
      confirmBeforeSubmit: true,
      openOutputOnCompletion: 'yes',
      notifyWhenHidden: true,
      maxParallel: 8
    })
  ).toStrictEqual({
    defaultProfile: 'cpu',
    confirmBeforeSubmit: true,
    openOutputOnCompletion: false,
    notifyWhenHidden: true,
    maxParallel: 8
  });
  // A "max at once" that is not a positive whole number falls back to the default.
  expect(readSettings({ maxParallel: 0 }).maxParallel).toBe(4);
  expect(readSettings({ maxParallel: 2.5 }).maxParallel).toBe(4);
});
