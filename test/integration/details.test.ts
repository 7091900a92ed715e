/**
 * GET /api/jobs/:id/details: the "Run details" of a run, through the real
 * companion with the local executor and the real nbconvert. While a run has
 * no run record of its own, what the companion knew at submission (run.json)
 * stands in, never the record of an earlier run of the same notebook, whose
 * executed notebook lies at the same path. A run that replaces an earlier
 * run's executed notebook keeps a copy of it in that run's job directory.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, JobDetails } from '../../contract/wire';
import { type Companion, jobEnded, startCompanion } from '../fixtures/companion';
import { notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';

describe('run details with the local executor', () => {
  let dir: string, root: string;
  let c: Companion;

  beforeAll(async () => {
    dir = tempDir('hpc-details-');
    root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(
      join(root, 'nb.ipynb'),
      notebookJson(["import time; time.sleep(1.5); print('done', flush=True)"])
    );
    c = await startCompanion({
      rootDir: root,
      stateDir: join(dir, 'state'),
      profiles: writeTestProfiles(join(dir, 'profiles.json'), {
        resources: { cpus: 1, time: '00:10:00' }
      })
    });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const details = async (id: string): Promise<JobDetails> => {
    const res = await c.api('GET', `api/jobs/${id}/details`);
    assert.equal(res.status, 200, res.text);
    return res.json;
  };
  const submit = async (): Promise<Job> => {
    const res = await c.api('POST', 'api/jobs', { notebook: 'nb.ipynb', profile: 'cpu' });
    assert.equal(res.status, 201, res.text);
    return res.json;
  };
  const ended = (id: string): Promise<Job> => jobEnded(c, id);

  it('shows the submission facts while a run has no record, then the executed notebook’s', async () => {
    const first = await submit();
    const early = await details(first.id);
    assert.equal(early.job.id, first.id);
    assert.equal(early.runSource, 'submission');
    assert.deepEqual(early.run, {
      jobId: first.id,
      executor: 'local',
      profile: 'cpu',
      resources: { cpus: 1, time: '00:10:00' },
      launcher: []
    });
    assert.match(early.note ?? '', /written into the executed notebook when the run ends/);

    const done = await ended(first.id);
    assert.equal(done.state, 'completed', JSON.stringify(done));
    const after = await details(first.id);
    assert.equal(after.runSource, 'notebook');
    assert.equal(after.note, undefined);
    assert.equal(after.run?.jobId, first.id);
    assert.equal(after.run?.state, 'completed');
    assert.equal(after.run?.profile, 'cpu');
    assert.ok((after.run?.durationSeconds ?? 0) >= 1, JSON.stringify(after.run));
    assert.equal(after.status?.phase, 'ended');
    assert.equal(after.status?.outcome, 'completed');
    assert.equal(after.status?.exitCode, 0);
    assert.equal(after.job.state, 'completed');
    assert.deepEqual(after.executed, { path: first.output, kept: false });
    const firstOutput = readFileSync(join(root, first.output), 'utf8');

    // A second run of the notebook: the executed notebook still holds the first run's record.
    const second = await submit();
    const meanwhile = await details(second.id);
    assert.equal(meanwhile.runSource, 'submission');
    assert.equal(meanwhile.run?.jobId, second.id);
    assert.equal(meanwhile.executed, null, 'no executed notebook of its own yet');
    // The second run replaced the output, and kept the first run's copy in the first run's directory.
    await ended(second.id);
    const firstAgain = await details(first.id);
    assert.equal(firstAgain.runSource, 'notebook');
    assert.equal(firstAgain.run?.jobId, first.id);
    const keptPath = join(dir, 'state', 'jobs', first.id, 'executed.ipynb');
    assert.deepEqual(firstAgain.executed, { path: keptPath, kept: true });
    assert.equal(readFileSync(keptPath, 'utf8'), firstOutput, 'a copy of what the first run wrote');
    const secondDone = await details(second.id);
    assert.equal(secondDone.runSource, 'notebook');
    assert.equal(secondDone.run?.jobId, second.id);
    assert.deepEqual(secondDone.executed, { path: second.output, kept: false });
    assert.equal(existsSync(join(dir, 'state', 'jobs', second.id, 'executed.ipynb')), false);

    // A record whose job id names another folder is not followed: nothing is written outside.
    const output = join(root, second.output);
    const forged = JSON.parse(readFileSync(output, 'utf8'));
    forged.metadata.hpc_submit.run.jobId = '../../escaped';
    writeFileSync(output, JSON.stringify(forged));
    const third = await submit();
    assert.equal((await ended(third.id)).state, 'completed');
    assert.equal(existsSync(join(dir, 'escaped')), false);
    assert.equal(existsSync(join(dir, 'state', 'escaped')), false);
    assert.deepEqual(
      readdirSync(join(dir, 'state', 'jobs', second.id)).includes('executed.ipynb'),
      false
    );

    // An executed notebook over 50 MB is not parsed.
    writeFileSync(
      join(root, third.output),
      JSON.stringify({ cells: [], metadata: {}, pad: 'x'.repeat(51 * 1024 * 1024) })
    );
    const huge = await details(third.id);
    assert.equal(huge.run, null);
    assert.equal(huge.runSource, null);
    assert.match(huge.note ?? '', /is 51 MB, more than 50 MB: its run record is not read/);
    assert.equal(huge.status?.phase, 'ended');
  });

  it('answers 404 for an unknown job and 400 for what is not a job id', async () => {
    const unknown = await c.api('GET', 'api/jobs/20260101-000000-abcdef/details');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json, { error: 'no job 20260101-000000-abcdef' });
    const bad = await c.api('GET', 'api/jobs/nope/details');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /is not a job id/);
  });
});
