/**
 * Faults and load: a dead scheduler mid-run, 100 concurrent submissions, many
 * event streams and a long history. Real Slurm (as the ordinary user
 * hpcuser) where the test runs as root; the load part uses the local executor.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Companion, listen, startCompanion, until } from '../fixtures/companion';
import { REPO, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { SLURM_USER, companionAsSlurmUser, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';
import { chownTree, unixUser } from '../fixtures/users';

const USER = SLURM_USER;
const CTLD_PID = '/run/slurmctld.pid';

describeUnless(slurmUsable())('a scheduler that stops answering mid-run', () => {
  let dir: string, root: string;
  let c: Companion;
  beforeAll(async () => {
    dir = tempDir('hpc-rel-');
    chmodSync(dir, 0o755);
    root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(
      join(root, 'long.ipynb'),
      notebookJson(["print('start', flush=True)", 'import time; time.sleep(12)', "print('end')"])
    );
    writeFileSync(join(root, 'later.ipynb'), notebookJson(["print('later')"]));
    writeTestProfiles(join(dir, 'profiles.json'), {
      resources: { partition: 'cpu', cpus: 1, memory: '300M', time: '00:05:00' }
    });
    c = await companionAsSlurmUser(dir);
  });
  afterAll(async () => {
    execFileSync(join(REPO, 'scripts', 'slurm-cluster.sh'), ['up'], { stdio: 'ignore' });
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows "unreachable", refuses submissions with 503, marks nothing failed, and catches up', async () => {
    const stream = listen(c);
    const job = (await c.api('POST', 'api/jobs', { notebook: 'long.ipynb', profile: 'cpu' })).json;
    assert.match(job.schedulerId, /^\d+$/);
    await until(
      'running',
      async () => (await c.api('GET', `api/jobs/${job.id}`)).json.state === 'running',
      60_000
    );

    // TERM, not KILL: a controller killed with -9 forgets the job ids it handed
    // out since its last state save, gives the next submission an id that
    // slurmd still holds, and Slurm kills that job as a duplicate and drains
    // the node. The outage seen from the companion is the same.
    process.kill(Number(readFileSync(CTLD_PID, 'utf8')), 'SIGTERM');
    const down = await until(
      'the companion to notice',
      async () => {
        const h = (await c.api('GET', 'api/health')).json;
        return h.schedulerReachable === false ? h : null;
      },
      60_000
    );
    assert.ok(down.schedulerMessage, 'a reason is given');
    assert.ok(
      stream.events.some(e => e.type === 'scheduler' && e.data.reachable === false),
      'pushed to the browsers'
    );
    const refused = await c.api('POST', 'api/jobs', { notebook: 'later.ipynb', profile: 'cpu' });
    assert.equal(refused.status, 503);
    assert.match(refused.json.error, /scheduler is not answering.*nothing was submitted/);
    const during = (await c.api('GET', `api/jobs/${job.id}`)).json;
    assert.notEqual(during.state, 'failed');

    // The job's own status file still tells its end while the controller is away.
    const ended = await until(
      'the end, from the job itself',
      async () => {
        const j = (await c.api('GET', `api/jobs/${job.id}`)).json;
        return j.state !== 'running' && j.state !== 'queued' ? j : null;
      },
      60_000
    );
    assert.equal(ended.state, 'completed', JSON.stringify(ended));

    execFileSync(join(REPO, 'scripts', 'slurm-cluster.sh'), ['up'], { stdio: 'ignore' });
    // A submission asks the scheduler again rather than trusting the flag of the outage.
    const after = await c.api('POST', 'api/jobs', { notebook: 'later.ipynb', profile: 'cpu' });
    assert.equal(after.status, 201, after.text);
    assert.equal((await c.api('GET', 'api/health')).json.schedulerReachable, true);
    await until(
      'the reachable event',
      () => stream.events.some(e => e.type === 'scheduler' && e.data.reachable === true),
      10_000
    );
    const done = await until(
      'the later job to end',
      async () => {
        const j = (await c.api('GET', `api/jobs/${after.json.id}`)).json;
        return j.state === 'completed' || j.state === 'failed' ? j : null;
      },
      90_000
    ).catch(async e => {
      const j = (await c.api('GET', `api/jobs/${after.json.id}`)).json;
      const files = readdirSync(join(dir, 'state', 'jobs', after.json.id));
      throw new Error(
        `${e.message}\njob: ${JSON.stringify(j)}\nfiles: ${files}\ncompanion: ${c.output().slice(-2000)}`
      );
    });
    assert.equal(done.state, 'completed');
    stream.close();
  });
});

describe('load: concurrent submissions, many streams, a long history', () => {
  let dir: string, root: string, state: string;
  let c: Companion;
  beforeAll(async () => {
    dir = tempDir('hpc-load-');
    root = join(dir, 'root');
    state = join(dir, 'state');
    mkdirSync(root);
    for (let i = 0; i < 100; i++) {
      writeFileSync(join(root, `nb${i}.ipynb`), notebookJson(['import time; time.sleep(30)']));
    }
    // 1,000 ended jobs in the history.
    for (let i = 0; i < 1000; i++) {
      const id = `20250101-${String(100000 + i).slice(-6)}-${i.toString(36).padStart(6, '0')}`;
      mkdirSync(join(state, 'jobs', id), { recursive: true });
      writeFileSync(
        join(state, 'jobs', id, 'job.json'),
        JSON.stringify({
          id,
          notebook: `old${i}.ipynb`,
          output: 'x',
          profile: 'cpu',
          kernel: 'python3',
          resources: {},
          executor: 'local',
          schedulerId: id,
          state: 'completed',
          submittedAt: `2025-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`
        })
      );
    }
    c = await startCompanion({
      rootDir: root,
      stateDir: state,
      profiles: writeTestProfiles(join(dir, 'profiles.json'))
    });
  });
  afterAll(async () => {
    for (const j of (await c.api('GET', 'api/jobs')).json.jobs) {
      if (j.state === 'queued' || j.state === 'running') {
        await c.api('POST', `api/jobs/${j.id}/cancel`);
      }
    }
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('100 concurrent submissions give exactly 100 jobs; a repeated key gives the same job', async () => {
    const streams = Array.from({ length: 20 }, () => listen(c));
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        c.api('POST', 'api/jobs', {
          notebook: `nb${i}.ipynb`,
          profile: 'cpu',
          idempotencyKey: `load-${i}`
        })
      )
    );
    assert.deepEqual([...new Set(answers.map(a => a.status))], [201]);
    const ids = new Set(answers.map(a => a.json.id));
    assert.equal(ids.size, 100);
    const replays = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        c.api('POST', 'api/jobs', {
          notebook: `nb${i}.ipynb`,
          profile: 'cpu',
          idempotencyKey: `load-${i}`
        })
      )
    );
    replays.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.json.id, answers[i].json.id);
    });
    const list = (await c.api('GET', 'api/jobs')).json.jobs;
    assert.equal(list.length, 1100);
    assert.equal(readdirSync(join(state, 'jobs')).length, 1100);

    // Responsive with 20 streams open and 1,100 jobs known.
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      assert.equal((await c.api('GET', 'api/health')).status, 200);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    assert.ok(times[10] < 100, `health p50 ${times[10].toFixed(1)} ms`);
    await until(
      'every stream to hear of every job',
      () =>
        streams.every(
          s => new Set(s.events.filter(e => e.type === 'job').map(e => e.data.id)).size >= 100
        ),
      10_000
    );
    streams.forEach(s => s.close());
  });
});

describeUnless(process.getuid?.() !== 0 && 'needs root to run the companion as hpcuser')(
  'a state directory that cannot be written',
  () => {
    it('answers a clear 507 and keeps serving; works again once writable', async () => {
      execFileSync(join(REPO, 'scripts', 'slurm-cluster.sh'), ['up'], { stdio: 'ignore' }); // creates hpcuser
      const dir = tempDir('hpc-ro-');
      chmodSync(dir, 0o755);
      const root = join(dir, 'root');
      const jobs = join(dir, 'state', 'jobs');
      mkdirSync(root);
      mkdirSync(jobs, { recursive: true });
      writeFileSync(join(root, 'a.ipynb'), notebookJson(["print('a')"]));
      const profiles = writeTestProfiles(join(dir, 'profiles.json'));
      const user = unixUser(USER);
      chownTree(dir, user);
      chmodSync(jobs, 0o555);
      const c = await startCompanion({
        rootDir: root,
        stateDir: join(dir, 'state'),
        profiles,
        user: { name: USER, home: user.home }
      });
      try {
        const refused = await c.api('POST', 'api/jobs', { notebook: 'a.ipynb', profile: 'cpu' });
        assert.equal(refused.status, 507, refused.text);
        assert.match(refused.json.error, /no permission to write .*state directory/);
        assert.equal((await c.api('GET', 'api/health')).status, 200, 'still serving');
        assert.deepEqual(
          (await c.api('GET', 'api/jobs')).json.jobs,
          [],
          'nothing half-made is listed'
        );
        chmodSync(jobs, 0o755);
        const ok = await c.api('POST', 'api/jobs', { notebook: 'a.ipynb', profile: 'cpu' });
        assert.equal(ok.status, 201, ok.text);
        await until(
          'completion',
          async () => (await c.api('GET', `api/jobs/${ok.json.id}`)).json.state === 'completed',
          60_000
        );
      } finally {
        await c.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
);

const mountTmpfs = (at: string) =>
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', at], {
    stdio: 'ignore'
  });

/** Why no small filesystem can be mounted here, or null. */
function noTmpfs(): string | null {
  if (process.getuid?.() !== 0) {
    return 'needs root to mount a small filesystem';
  }
  const probe = tempDir('hpc-tmpfs-');
  try {
    mountTmpfs(probe);
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return null;
  } catch {
    return 'this machine does not allow mounting a tmpfs';
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describeUnless(noTmpfs())('a state directory on a full disk', () => {
  it('answers a clear 507 and keeps serving; works again once there is space', async () => {
    const dir = tempDir('hpc-full-');
    const state = join(dir, 'state');
    mkdirSync(state);
    mountTmpfs(state);
    let c: Companion | undefined;
    try {
      const root = join(dir, 'root');
      mkdirSync(root);
      writeFileSync(join(root, 'a.ipynb'), notebookJson(["print('a')"]));
      c = await startCompanion({
        rootDir: root,
        stateDir: state,
        profiles: writeTestProfiles(join(dir, 'profiles.json'))
      });
      // Fill what is left, to the last block.
      const filler = join(state, 'filler');
      try {
        for (;;) {
          execFileSync(
            'dd',
            ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'count=1', 'oflag=append', 'conv=notrunc'],
            { stdio: 'ignore' }
          );
        }
      } catch {
        // ENOSPC: full
      }
      const refused = await c.api('POST', 'api/jobs', { notebook: 'a.ipynb', profile: 'cpu' });
      assert.equal(refused.status, 507, refused.text);
      assert.match(refused.json.error, /full|ENOSPC/);
      assert.match(refused.json.error, /free (some )?space/);
      assert.equal((await c.api('GET', 'api/health')).status, 200, 'still serving');
      assert.deepEqual(
        (await c.api('GET', 'api/jobs')).json.jobs,
        [],
        'nothing half-made is listed'
      );
      // Copied into an array of this realm: jest runs the test in a sandbox of its own.
      assert.deepEqual([...readdirSync(join(state, 'jobs'))], [], 'nothing half-made is left');
      rmSync(filler);
      const ok = await c.api('POST', 'api/jobs', { notebook: 'a.ipynb', profile: 'cpu' });
      assert.equal(ok.status, 201, ok.text);
      await until(
        'completion',
        async () => (await c!.api('GET', `api/jobs/${ok.json.id}`)).json.state === 'completed',
        60_000
      );
    } finally {
      await c?.stop();
      execFileSync('umount', [state], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
