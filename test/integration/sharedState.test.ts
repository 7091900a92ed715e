/**
 * One state directory, several companions: two roots on one host, and two
 * hosts (each companion in a UTS namespace of its own, so `hostname` really
 * differs) with the real Slurm executor and with the local one. Every run is
 * listed once by each, with the same final state; nothing is marked failed
 * while it runs elsewhere; the survivor of a kill -9 catches up.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Companion, startCompanion, until } from '../fixtures/companion';
import { REPO, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { describeUnless } from '../fixtures/skip';
import { SLURM_USER, slurmUsable } from '../fixtures/slurm';
import { chownTree, unixUser } from '../fixtures/users';

const FINAL = ['completed', 'failed', 'cancelled', 'timeout'];

const writeProfiles = (path: string) =>
  writeTestProfiles(path, { resources: { time: '00:10:00' } });

const sleepy = (seconds: number) =>
  notebookJson([`import time, socket; time.sleep(${seconds}); print('on', socket.gethostname())`]);

async function jobsOf(c: Companion): Promise<any[]> {
  const res = await c.api('GET', 'api/jobs');
  assert.equal(res.status, 200, res.text);
  return res.json.jobs;
}

async function jobOf(c: Companion, id: string): Promise<any> {
  return (await jobsOf(c)).find(j => j.id === id);
}

/** Each companion lists every id exactly once, and all agree on each final state. */
async function assertSameFinalView(companions: Companion[], ids: string[]): Promise<void> {
  const views = await Promise.all(companions.map(jobsOf));
  for (const view of views) {
    const listed = view.map(j => j.id).filter(id => ids.includes(id));
    assert.deepEqual([...listed].sort(), [...ids].sort(), 'every run listed once');
  }
  for (const id of ids) {
    const states = views.map(v => v.find(j => j.id === id).state);
    assert.ok(FINAL.includes(states[0]), `${id} ended: ${states}`);
    assert.deepEqual(new Set(states).size, 1, `${id} ends the same everywhere: ${states}`);
  }
}

describe('two roots over one state directory (one host)', () => {
  let dir: string, home: string, state: string, profiles: string;
  const companions: Companion[] = [];
  const start = async (rootDir: string) => {
    const c = await startCompanion({ rootDir, stateDir: state, profiles, pollSeconds: 2 });
    companions.push(c);
    return c;
  };

  beforeAll(() => {
    dir = tempDir('hpc-roots-');
    home = join(dir, 'home', 'u');
    state = join(dir, 'state');
    profiles = join(dir, 'profiles.json');
    writeProfiles(profiles);
    mkdirSync(join(home, 'a'), { recursive: true });
    mkdirSync(join(dir, 'elsewhere'), { recursive: true });
    writeFileSync(join(home, 'a', 'x.ipynb'), sleepy(3));
    writeFileSync(join(home, 'x.ipynb'), sleepy(0));
    writeFileSync(join(dir, 'elsewhere', 'x.ipynb'), sleepy(0));
  });

  afterAll(async () => {
    await Promise.all(companions.map(c => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a/x.ipynb from /home/u and x.ipynb from /home/u/a are one notebook; x.ipynb of two roots are two', async () => {
    const [fromHome, fromA, fromElsewhere] = [
      await start(home),
      await start(join(home, 'a')),
      await start(join(dir, 'elsewhere'))
    ];
    const first = await fromHome.api('POST', 'api/jobs', { notebook: 'a/x.ipynb', profile: 'cpu' });
    assert.equal(first.status, 201, first.text);
    const id = first.json.id;

    // The other root sees the run as its own x.ipynb, and refuses a second live run of it.
    const seen = await until('the run in the list of the other root', () => jobOf(fromA, id), 5000);
    assert.equal(seen.notebook, 'x.ipynb');
    assert.equal(seen.output, 'executed/x_executed.ipynb');
    assert.equal(seen.outsideRoot, undefined);
    const again = await fromA.api('POST', 'api/jobs', { notebook: 'x.ipynb', profile: 'cpu' });
    assert.equal(again.status, 409, again.text);
    assert.match(again.json.error, new RegExp(id));

    // Another root's x.ipynb is another notebook: accepted, and never filed under this root's x.ipynb.
    const other = await fromElsewhere.api('POST', 'api/jobs', {
      notebook: 'x.ipynb',
      profile: 'cpu'
    });
    assert.equal(other.status, 201, other.text);
    const own = await fromHome.api('POST', 'api/jobs', { notebook: 'x.ipynb', profile: 'cpu' });
    assert.equal(own.status, 201, own.text);
    const foreign = await until(
      'the run of the other root in this list',
      () => jobOf(fromHome, other.json.id),
      5000
    );
    assert.equal(foreign.outsideRoot, true);
    assert.equal(foreign.notebook, join(dir, 'elsewhere', 'x.ipynb'));
    assert.equal(foreign.output, join(dir, 'elsewhere', 'executed', 'x_executed.ipynb'));
    const filtered = await fromHome.api('GET', 'api/jobs?notebook=x.ipynb');
    assert.deepEqual(
      filtered.json.jobs.map((j: any) => j.id),
      [own.json.id]
    );

    const ids = [id, other.json.id, own.json.id];
    await until(
      'every run to end in the view of every companion',
      async () => {
        const views = await Promise.all(companions.map(jobsOf));
        return views.every(v => ids.every(i => FINAL.includes(v.find(j => j.id === i)?.state)));
      },
      60_000
    );
    await assertSameFinalView(companions, ids);
    for (const i of ids) {
      assert.equal((await jobOf(fromA, i)).state, 'completed');
    }
    const output = JSON.parse(
      readFileSync(join(home, 'a', 'executed', 'x_executed.ipynb'), 'utf8')
    );
    assert.match(JSON.stringify(output.cells[1].outputs), /on /);
  });
});

const root = process.getuid?.() === 0 ? null : 'needs root for unshare --uts';

describeUnless(root)('two hosts over one state directory, local executor', () => {
  let dir: string, rootDir: string, state: string, profiles: string;
  const companions: Companion[] = [];
  const on = async (host: string) => {
    const c = await startCompanion({ rootDir, stateDir: state, profiles, host, pollSeconds: 2 });
    companions.push(c);
    return c;
  };

  beforeAll(() => {
    dir = tempDir('hpc-hosts-local-');
    rootDir = join(dir, 'root');
    state = join(dir, 'state');
    profiles = join(dir, 'profiles.json');
    writeProfiles(profiles);
    mkdirSync(rootDir, { recursive: true });
    writeFileSync(join(rootDir, 'hub.ipynb'), sleepy(6));
    writeFileSync(join(rootDir, 'login.ipynb'), sleepy(6));
  });

  afterAll(async () => {
    await Promise.all(companions.map(c => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a run is judged on its own host only; the survivor of a kill -9 catches up', async () => {
    const hub = await on('hub-node');
    const login = await on('login-node');
    const a = await hub.api('POST', 'api/jobs', { notebook: 'hub.ipynb', profile: 'cpu' });
    const b = await login.api('POST', 'api/jobs', { notebook: 'login.ipynb', profile: 'cpu' });
    assert.equal(a.status, 201, a.text);
    assert.equal(b.status, 201, b.text);
    assert.equal(a.json.host, 'hub-node');
    assert.equal(b.json.host, 'login-node');

    // Seen running on their own hosts by both companions, never as dead or failed.
    for (const c of [hub, login]) {
      for (const [job, host] of [
        [a.json, 'hub-node'],
        [b.json, 'login-node']
      ]) {
        const running = await until(
          'the run to be seen running on its own host',
          async () => {
            const j = await jobOf(c, job.id);
            if (!j) {
              return null; // not read from the other companion's files yet
            }
            assert.ok(!FINAL.includes(j.state) || j.state === 'completed', JSON.stringify(j));
            return j.state === 'running' ? j : null;
          },
          15_000
        );
        assert.equal(running.node, host);
      }
    }

    // The lease holder dies mid-run; the other takes over and follows both runs to their end.
    const holder = JSON.parse(readFileSync(join(state, 'owner.json'), 'utf8')).host;
    const [dead, survivor] = holder === 'hub-node' ? [hub, login] : [login, hub];
    await dead.stop('SIGKILL');
    await until(
      'every run to end, seen by the survivor',
      async () => {
        const jobs = await jobsOf(survivor);
        for (const j of jobs) {
          assert.notEqual(j.state, 'failed', JSON.stringify(j));
        }
        return jobs.every(j => j.state === 'completed');
      },
      60_000
    );
    const lease = JSON.parse(readFileSync(join(state, 'owner.json'), 'utf8'));
    assert.equal(lease.host, holder === 'hub-node' ? 'login-node' : 'hub-node');
    assert.match(survivor.output(), /took over the state directory/);
  });
});

const slurm = root ?? slurmUsable();

/**
 * `hpc-submit ARGS` as hpcuser on another host (a UTS namespace named `host`),
 * in `cwd`, over the state directory `state`: a terminal on the login node.
 */
function cliOn(
  host: string,
  cwd: string,
  state: string,
  profiles: string,
  args: string[]
): Promise<{ code: number | null; out: string }> {
  const user = unixUser(SLURM_USER);
  const loader = join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs');
  const command = [
    ...['unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', host],
    ...['setpriv', '--reuid', SLURM_USER, '--regid', SLURM_USER, '--init-groups', '--'],
    ...['env', `HOME=${user.home}`, `USER=${SLURM_USER}`, `HPC_SUBMIT_STATE_DIR=${state}`],
    ...[`HPC_SUBMIT_PROFILES=${profiles}`, 'HPC_SUBMIT_EXECUTOR=slurm', 'NODE_OPTIONS='],
    // The companion this CLI starts exits soon after the test, as on a clean login node.
    'HPC_SUBMIT_IDLE_EXIT_MINUTES=0.1',
    ...[process.execPath, '--import', `file://${loader}`, join(REPO, 'server', 'cli', 'main.ts')],
    ...args
  ];
  return new Promise(resolve => {
    const p = spawn(command[0], command.slice(1), { cwd });
    let out = '';
    p.stdout.on('data', d => (out += d));
    p.stderr.on('data', d => (out += d));
    p.on('exit', code => resolve({ code, out }));
  });
}

describeUnless(slurm)('two hosts over one state directory, real Slurm as hpcuser', () => {
  let dir: string, state: string;
  const companions: Companion[] = [];
  const on = async (host: string) => {
    const user = unixUser(SLURM_USER);
    const c = await startCompanion({
      rootDir: join(dir, 'root'),
      stateDir: state,
      profiles: join(dir, 'profiles.json'),
      executor: 'slurm',
      user: { name: SLURM_USER, home: user.home },
      host,
      pollSeconds: 2
    });
    companions.push(c);
    return c;
  };

  beforeAll(() => {
    dir = tempDir('hpc-hosts-slurm-');
    state = join(dir, 'state');
    writeProfiles(join(dir, 'profiles.json'));
    mkdirSync(join(dir, 'root'), { recursive: true });
    for (const name of ['one', 'two']) {
      writeFileSync(join(dir, 'root', `${name}.ipynb`), sleepy(8));
    }
    // The two that are cancelled run long: a cancel relayed through the lease holder
    // on a loaded machine must find them still running, not already completed.
    for (const name of ['three', 'four']) {
      writeFileSync(join(dir, 'root', `${name}.ipynb`), sleepy(90));
    }
    chownTree(dir, unixUser(SLURM_USER));
  });

  afterAll(async () => {
    await Promise.all(companions.map(c => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('both submit and read; a submission from the login node shows on the hub within 2 s; kill -9 of the holder loses nothing', async () => {
    const hub = await on('hub-node');
    const login = await on('login-node');
    const one = await hub.api('POST', 'api/jobs', { notebook: 'one.ipynb', profile: 'cpu' });
    assert.equal(one.status, 201, one.text);
    const submittedAt = Date.now();
    const two = await login.api('POST', 'api/jobs', { notebook: 'two.ipynb', profile: 'cpu' });
    assert.equal(two.status, 201, two.text);
    await until(
      'the run of the login node in the list of the hub',
      () => jobOf(hub, two.json.id),
      2000
    );
    const shownAfterMs = Date.now() - submittedAt;
    assert.ok(shownAfterMs <= 2000, `shown after ${shownAfterMs} ms`);

    // A cancel from the host without the lease reaches Slurm and ends as a cancel.
    const three = await hub.api('POST', 'api/jobs', { notebook: 'three.ipynb', profile: 'cpu' });
    assert.equal(three.status, 201, three.text);
    const holder = JSON.parse(readFileSync(join(state, 'owner.json'), 'utf8')).host;
    const follower = holder === 'hub-node' ? login : hub;
    await until('the run in the list of the companion without the lease', () =>
      jobOf(follower, three.json.id)
    );
    const cancel = await follower.api('POST', `api/jobs/${three.json.id}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);

    // The command line on the login node: list, status, logs --follow and cancel of the hub's runs.
    const cli = (args: string[]) =>
      cliOn('login-node', join(dir, 'root'), state, join(dir, 'profiles.json'), args);
    const listed = await cli(['list']);
    assert.equal(listed.code, 0, listed.out);
    assert.match(listed.out, new RegExp(`${one.json.id}.*one\\.ipynb.*from hub-node`));
    const status = await cli(['status', one.json.id]);
    assert.equal(status.code, 0, status.out);
    assert.equal(JSON.parse(status.out).host, 'hub-node');
    const followed = await cli(['logs', one.json.id, '--follow']);
    assert.equal(followed.code, 0, followed.out);
    assert.match(followed.out, /on /);
    const four = await hub.api('POST', 'api/jobs', { notebook: 'four.ipynb', profile: 'cpu' });
    assert.equal(four.status, 201, four.text);
    await until('the run in the list of the login node', async () =>
      (await cli(['status', four.json.id])).code === 0 ? true : null
    );
    const cancelled = await cli(['cancel', four.json.id]);
    assert.equal(cancelled.code, 0, cancelled.out);

    // The holder dies mid-run; the survivor takes over and catches up.
    const [dead, survivor] = holder === 'hub-node' ? [hub, login] : [login, hub];
    await dead.stop('SIGKILL');
    const ids = [one.json.id, two.json.id, three.json.id, four.json.id];
    await until(
      'every run to end, seen by the survivor',
      async () => {
        const jobs = await jobsOf(survivor);
        return ids.every(id => FINAL.includes(jobs.find(j => j.id === id)?.state));
      },
      120_000
    );
    const jobs = await jobsOf(survivor);
    assert.deepEqual(
      ids.map(id => jobs.find(j => j.id === id).state),
      ['completed', 'completed', 'cancelled', 'cancelled']
    );
    // Restarted, the dead host's companion agrees with the survivor.
    const back = await on(holder);
    await until(
      'the restarted companion to see every end',
      async () => {
        const view = await jobsOf(back);
        return ids.every(id => FINAL.includes(view.find(j => j.id === id)?.state));
      },
      10_000
    );
    await assertSameFinalView([survivor, back], ids);
  });
});
