/**
 * When a run would start: GET /api/profiles/:id/estimate before a submission
 * (the local executor's queue; sbatch --test-only on the real cluster), and
 * the expectedStart of a queued Slurm job, from the one batched squeue of the
 * poller. On the cluster the node is filled by a job of hpcuser's asking all
 * its CPUs, so Slurm must place what comes next behind it: sbatch --test-only
 * answers at once, squeue shows the queued job's start time once the
 * backfill scheduler has passed over it (bf_interval, 30 s by default; the
 * cluster's configuration is left as it is).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EstimateAnswer, Job } from '../../contract/wire';
import { localQueueMessage } from '../../server/executors/localQueue';
import { type Companion, startCompanion, until } from '../fixtures/companion';
import { notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { asSlurmUser, companionAsSlurmUser, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';

test('the local queue in words', () => {
  expect(localQueueMessage(0, 0, 2)).toBe('runs here at once');
  expect(localQueueMessage(1, 0, 2)).toBe('runs here at once');
  expect(localQueueMessage(2, 0, 2)).toBe('after 1 run ahead');
  expect(localQueueMessage(2, 3, 2)).toBe('after 4 runs ahead');
});

/** GET api/profiles/:id/estimate of companion `c`, which must answer 200. */
async function estimateOf(c: Companion, profile: string): Promise<EstimateAnswer> {
  const res = await c.api('GET', `api/profiles/${profile}/estimate`);
  assert.equal(res.status, 200, res.text);
  return res.json;
}

describe('estimates with the local executor', () => {
  let dir: string;
  let c: Companion;

  beforeAll(async () => {
    dir = tempDir('hpc-estimate-local-');
    const root = join(dir, 'root');
    mkdirSync(root);
    for (const name of ['a', 'b', 'c']) {
      writeFileSync(join(root, `${name}.ipynb`), notebookJson(['import time; time.sleep(60)']));
    }
    c = await startCompanion({
      rootDir: root,
      stateDir: join(dir, 'state'),
      profiles: writeTestProfiles(join(dir, 'profiles.json'))
    });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const estimate = (profile: string) => estimateOf(c, profile);

  it('answers from the queue of this companion, at once', async () => {
    assert.deepEqual(await estimate('cpu'), { expectedStart: null, message: 'runs here at once' });
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const res = await c.api('POST', 'api/jobs', { notebook: `${name}.ipynb`, profile: 'cpu' });
      assert.equal(res.status, 201, res.text);
      ids.push(res.json.id);
    }
    // Two slots (the default), both taken, and one run waiting.
    assert.deepEqual(await estimate('cpu'), { expectedStart: null, message: 'after 2 runs ahead' });
    for (const id of ids) {
      await c.api('POST', `api/jobs/${id}/cancel`);
    }
    const unknown = await c.api('GET', 'api/profiles/nope/estimate');
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error, /unknown profile "nope"/);
  });
});

describeUnless(slurmUsable())('estimates on the real Slurm cluster, as hpcuser', () => {
  let dir: string;
  let c: Companion;
  let filler: string | null = null;

  beforeAll(async () => {
    dir = tempDir('hpc-estimate-slurm-');
    chmodSync(dir, 0o755);
    const root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'later.ipynb'), notebookJson(["print('ran')"]));
    // Sleeps until cancelled; asks every CPU of the node for 3 minutes at most.
    writeFileSync(join(dir, 'fill.sh'), '#!/bin/sh\nsleep 170\n', { mode: 0o755 });
    const resources = { cpus: 1, memory: '1G', time: '00:05:00' };
    writeTestProfiles(
      join(dir, 'profiles.json'),
      { id: 'cpu', resources: { partition: 'cpu', ...resources } },
      { id: 'gpu', label: 'GPU node', resources: { partition: 'gpu', ...resources } }
    );
    c = await companionAsSlurmUser(dir);
  });

  afterAll(async () => {
    if (filler) {
      execFileSync('scancel', [filler]);
    }
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const estimate = (profile: string) => estimateOf(c, profile);
  const job = async (id: string): Promise<Job> => (await c.api('GET', `api/jobs/${id}`)).json;
  const nodeIdle = (): boolean =>
    execFileSync('squeue', ['-h', '-t', 'RUNNING,PENDING'], { encoding: 'utf8' }).trim() === '';

  it("gives Slurm's estimate before a submission and while the job waits", async () => {
    const idle = nodeIdle();
    const first = await estimate('cpu');
    assert.ok(first.expectedStart, JSON.stringify(first));
    if (idle) {
      assert.equal(first.message, 'starts now');
    }

    filler = asSlurmUser(
      ['sbatch', '--parsable', '-p', 'cpu', '-c', '4', '-t', '3'] // the node's 4 CPUs
        .concat(['-o', '/dev/null', '--chdir', dir, join(dir, 'fill.sh')])
    ).trim();
    await until('the filler to run', () =>
      execFileSync('squeue', ['-h', '-j', filler as string, '-o', '%T'], {
        encoding: 'utf8'
      }).includes('RUNNING')
    );

    // Within 30 s the profile's estimate is the cached one: one sbatch for every tab.
    assert.deepEqual(await estimate('cpu'), first);
    const behind = await estimate('gpu');
    assert.ok(behind.expectedStart, JSON.stringify(behind));
    assert.ok(Date.parse(behind.expectedStart) > Date.now() + 30_000, JSON.stringify(behind));
    assert.match(
      behind.message,
      /^expected to start ~(\d{4}-\d\d-\d\d )?\d\d:\d\d \(Slurm's estimate\)$/
    );

    const res = await c.api('POST', 'api/jobs', { notebook: 'later.ipynb', profile: 'cpu' });
    assert.equal(res.status, 201, res.text);
    // The backfill scheduler gives a waiting job its start time at its next pass (every 30 s here).
    const waiting = await until(
      'the queued job to carry an expected start',
      async () => (j => (j.expectedStart ? j : null))(await job(res.json.id)),
      90_000
    );
    assert.equal(waiting.state, 'queued');
    assert.ok(Date.parse(waiting.expectedStart as string) > Date.now(), JSON.stringify(waiting));

    execFileSync('scancel', [filler]);
    filler = null;
    const started = await until(
      'the job to leave the queue',
      async () => (j => (j.state !== 'queued' ? j : null))(await job(res.json.id)),
      60_000
    );
    assert.equal(started.expectedStart, undefined, JSON.stringify(started));
    await until(
      'the job to end',
      async () => ['completed', 'failed'].includes((await job(res.json.id)).state),
      90_000
    );
  });
});
