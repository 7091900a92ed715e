import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  baseName,
  dirName,
  elapsed,
  endedMessage,
  formatDuration,
  isLive,
  runLabel,
  sortJobs,
  stateLabel
} from '../../src/labels';
import {
  chooseProfile,
  loadChoice,
  readSubmitMetadata,
  saveChoice,
  withProfile
} from '../../src/metadata';
import { readSettings } from '../../src/settings';
import type { Job, ProfileStatus } from '../../contract/wire';

const job = (over: Partial<Job>): Job => ({
  id: '20261123-120000-aaaaaa',
  notebook: 'a/b.ipynb',
  output: 'a/executed/b_executed.ipynb',
  profile: 'gpu',
  kernel: 'convcnp-gpu',
  resources: {},
  executor: 'slurm',
  schedulerId: '1',
  state: 'queued',
  submittedAt: '2026-11-23T12:00:00.000Z',
  ...over
});

const gpu: ProfileStatus = {
  id: 'gpu',
  label: 'GPU node',
  kernel: 'convcnp-gpu',
  launcher: ['pixi', 'run', '-e', 'gpu'],
  resources: { partition: 'gpu', gpus: 1 },
  available: true,
  problems: []
};
const cpu: ProfileStatus = {
  ...gpu,
  id: 'cpu',
  label: 'CPU node',
  kernel: 'convcnp-cpu',
  resources: { partition: 'cpu' }
};

test('state labels say where and why', () => {
  assert.equal(stateLabel(job({ state: 'running', node: 'gpu017' })), 'Running on gpu017');
  assert.equal(stateLabel(job({ state: 'running' })), 'Running');
  assert.equal(stateLabel(job({ state: 'queued', reason: 'Priority' })), 'Queued (Priority)');
  assert.equal(stateLabel(job({ state: 'queued', reason: 'None' })), 'Queued');
  assert.equal(
    stateLabel(job({ state: 'failed', reason: 'no GPU visible on node3' })),
    'Failed: no GPU visible on node3'
  );
  assert.equal(stateLabel(job({ state: 'timeout' })), 'Timed out');
  assert.equal(stateLabel(job({ state: 'cancelled' })), 'Cancelled');
  assert.equal(stateLabel(job({ state: 'completed' })), 'Completed');
  assert.equal(stateLabel(job({ state: 'unknown' })), 'Unknown');
  assert.equal(isLive(job({ state: 'unknown' })), true);
  assert.equal(isLive(job({ state: 'running' })), true);
  assert.equal(endedMessage(job({ state: 'completed' })), 'b.ipynb finished: Completed');
  assert.equal(
    endedMessage(job({ state: 'failed', reason: 'cell 3 raised ValueError' })),
    'b.ipynb finished: Failed: cell 3 raised ValueError'
  );
  assert.equal(isLive(job({ state: 'timeout' })), false);
});

test('durations and elapsed time', () => {
  assert.equal(formatDuration(7_000), '0:07');
  assert.equal(formatDuration(724_000), '12:04');
  assert.equal(formatDuration(3_723_000), '1:02:03');
  assert.equal(formatDuration(-5), '0:00');
  const started = job({ startedAt: '2026-11-23T12:00:10.000Z' });
  assert.equal(elapsed(started, Date.parse('2026-11-23T12:01:15.000Z')), '1:05');
  const ended = job({
    startedAt: '2026-11-23T12:00:10.000Z',
    endedAt: '2026-11-23T12:00:40.000Z',
    state: 'completed'
  });
  assert.equal(elapsed(ended, Date.parse('2026-11-23T15:00:00.000Z')), '0:30');
  assert.equal(elapsed(job({}), Date.parse('2026-11-23T12:00:03.000Z')), '0:03');
});

test('paths, labels and ordering', () => {
  assert.equal(runLabel('CPU node'), 'Run on CPU node');
  assert.equal(runLabel(undefined), 'Run on GPU node');
  assert.equal(baseName('x/y z.ipynb'), 'y z.ipynb');
  assert.equal(dirName('x/executed/y.ipynb'), 'x/executed');
  assert.equal(dirName('y.ipynb'), '');
  const older = job({ id: '20261123-110000-aaaaaa', submittedAt: '2026-11-23T11:00:00.000Z' });
  const newer = job({ id: '20261123-130000-bbbbbb', submittedAt: '2026-11-23T13:00:00.000Z' });
  assert.deepEqual(
    sortJobs([older, newer]).map(j => j.id),
    [newer.id, older.id]
  );
});

test('notebook metadata: read defensively, choose a profile the site still has', () => {
  assert.deepEqual(readSubmitMetadata(undefined), {});
  assert.deepEqual(readSubmitMetadata('gpu'), {});
  assert.deepEqual(readSubmitMetadata({ profile: 7 }), {});
  assert.deepEqual(readSubmitMetadata({ profile: 'cpu', resources: { gpus: 2 } }), {
    profile: 'cpu',
    resources: { gpus: 2 }
  });
  assert.equal(chooseProfile({ profile: 'cpu' }, [gpu, cpu], 'gpu')?.id, 'cpu');
  assert.equal(chooseProfile({ profile: 'gone' }, [gpu, cpu], 'cpu')?.id, 'cpu');
  assert.equal(chooseProfile({}, [gpu, cpu], 'nope')?.id, 'gpu');
  assert.equal(chooseProfile({}, [], 'gpu'), undefined);
  assert.deepEqual(withProfile({ resources: { gpus: 1 } }, 'cpu'), {
    profile: 'cpu',
    resources: { gpus: 1 }
  });
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
    this.values.set(key, structuredClone(value));
  }
}

test('notebook metadata: the choice is written under hpc_submit, keeping resources, and only when it changes', () => {
  const nb = new Metadata();
  assert.deepEqual(loadChoice(nb), {});
  assert.deepEqual(loadChoice(null), {});
  assert.equal(saveChoice(nb, 'cpu'), true);
  assert.deepEqual(nb.getMetadata('hpc_submit'), { profile: 'cpu' });
  assert.equal(saveChoice(nb, 'cpu'), false, 'the same choice again does not dirty the notebook');
  assert.equal(nb.writes, 1);
  nb.setMetadata('hpc_submit', { profile: 'cpu', resources: { time: '00:10:00' } });
  saveChoice(nb, 'gpu');
  assert.deepEqual(loadChoice(nb), { profile: 'gpu', resources: { time: '00:10:00' } });
  // A hand-edited, broken value reads as no choice and is replaced cleanly.
  nb.setMetadata('hpc_submit', ['gpu']);
  assert.deepEqual(loadChoice(nb), {});
  saveChoice(nb, 'gpu');
  assert.deepEqual(nb.getMetadata('hpc_submit'), { profile: 'gpu' });
  assert.equal(chooseProfile(loadChoice(nb), [cpu, gpu], 'cpu')?.id, 'gpu');
});

test('settings fall back to their defaults', () => {
  assert.deepEqual(readSettings({}), {
    defaultProfile: 'gpu',
    confirmBeforeSubmit: false,
    openOutputOnCompletion: false
  });
  assert.deepEqual(
    readSettings({
      defaultProfile: 'cpu',
      confirmBeforeSubmit: true,
      openOutputOnCompletion: 'yes'
    }),
    {
      defaultProfile: 'cpu',
      confirmBeforeSubmit: true,
      openOutputOnCompletion: false
    }
  );
});
