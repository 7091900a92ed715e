/**
 * The companion on the real test cluster, as the ordinary user hpcuser.
 * Awkward but legal file names (a newline included) run end to end.
 * The four ways the scheduler ends a run, produced for real on the test
 * cluster and followed through the companion (as hpcuser): the time limit,
 * an `scancel` from outside hpc-submit, a kill for going over --mem (the
 * cluster enforces memory: JobAcctGatherParams=OverMemoryKill), and the node
 * going down mid-run (`scontrol update state=down`, as a dead node is marked).
 * Each ends in its own state and reason. Then the companion is killed with
 * ten jobs in the queue and on the node, and the restarted one finds each.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Companion, until } from '../fixtures/companion';
import { notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import {
  CLUSTER,
  SLURM_USER,
  asSlurmUser,
  companionAsSlurmUser,
  slurmUsable
} from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';
import { chownTree, unixUser } from '../fixtures/users';

const FINAL = ['completed', 'failed', 'cancelled', 'timeout'];
/** One line per ended job (JobCompType=jobcomp/filetxt in scripts/slurm-cluster.sh). */
const JOB_RECORD = '/var/log/slurm/jobcomp.log';

describeUnless(slurmUsable())('the companion on real Slurm, as hpcuser', () => {
  let dir: string;
  let c: Companion;

  beforeAll(async () => {
    dir = tempDir('hpc-faults-');
    chmodSync(dir, 0o755);
    const root = join(dir, 'root');
    mkdirSync(root);
    // Three copies: two runs of one notebook cannot be live at once (both would write one output).
    for (const name of ['limited', 'outside', 'doomed']) {
      writeFileSync(
        join(root, `${name}.ipynb`),
        notebookJson(["print('started', flush=True)", 'import time; time.sleep(300)'])
      );
    }
    // Grows by 50 MB every tenth of a second, well past its 200M.
    writeFileSync(
      join(root, 'greedy.ipynb'),
      notebookJson([
        "print('started', flush=True)",
        "import time\nheld = []\nfor _ in range(40):\n    held.append(b'x' * (50 << 20))\n    time.sleep(0.1)\nprint('survived')"
      ])
    );
    writeTestProfiles(join(dir, 'profiles.json'), {
      resources: { partition: 'cpu', cpus: 1, memory: '2G', time: '00:10:00' }
    });
    c = await companionAsSlurmUser(dir);
  });

  afterAll(async () => {
    await c?.stop();
    // The node back up, whatever happened above (it resumes a down node).
    execFileSync(CLUSTER, ['up'], { stdio: 'ignore' });
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function submit(
    notebook: string,
    resources: Record<string, unknown>
  ): Promise<{ id: string; schedulerId: string; output: string }> {
    const res = await c.api('POST', 'api/jobs', { notebook, profile: 'cpu', resources });
    assert.equal(res.status, 201, res.text);
    return res.json;
  }

  const job = async (id: string) => (await c.api('GET', `api/jobs/${id}`)).json;
  const ended = (id: string, timeoutMs: number) =>
    until(
      `job ${id} to end`,
      async () => (j => (FINAL.includes(j.state) ? j : null))(await job(id)),
      timeoutMs
    );
  const running = (id: string) =>
    until(`job ${id} to run`, async () => (await job(id)).state === 'running', 60_000);

  it('runs notebooks with awkward names end to end: spaces, quotes, $(…), backticks, a newline, non-ASCII, leading dashes, a backslash', async () => {
    const folder = 'it\'s "here" $(touch PWNED) `touch PWNED`\nsecond line 数据';
    const name = "my nb 'q' $(touch PWNED)\n[1] été.ipynb";
    const more = ['-x.ipynb', '--help.ipynb', '--to=html.ipynb', 'back\\slash.ipynb'];
    mkdirSync(join(dir, 'root', folder));
    writeFileSync(join(dir, 'root', folder, 'données.txt'), 'read beside the notebook\n');
    for (const nb of [name, ...more]) {
      writeFileSync(
        join(dir, 'root', folder, nb),
        notebookJson(["print(open('données.txt', encoding='utf-8').read().strip())"])
      );
    }
    chownTree(join(dir, 'root', folder), unixUser(SLURM_USER));
    const submitted = await submit(`${folder}/${name}`, {});
    assert.equal(
      submitted.output,
      `${folder}/executed/my nb 'q' $(touch PWNED)\n[1] été_executed.ipynb`
    );
    const others = [];
    for (const nb of more) {
      others.push(await submit(`${folder}/${nb}`, {}));
    }
    assert.deepEqual(
      others.map(j => j.output),
      more.map(nb => `${folder}/executed/${nb.slice(0, -'.ipynb'.length)}_executed.ipynb`)
    );
    for (const run of [submitted, ...others]) {
      const done = await ended(run.id, 90_000);
      assert.equal(done.state, 'completed', JSON.stringify(done));
      const out = readFileSync(join(dir, 'root', run.output), 'utf8');
      assert.match(out, /read beside the notebook/);
    }
    for (const where of [join(dir, 'root'), join(dir, 'root', folder), unixUser(SLURM_USER).home]) {
      assert.equal(
        existsSync(join(where, 'PWNED')),
        false,
        `nothing in a name was executed (${where})`
      );
    }
  });

  it('time limit, scancel from outside, out of memory, node failure', async () => {
    const limited = await submit('limited.ipynb', { time: '00:01:00' });
    const greedy = await submit('greedy.ipynb', { memory: '200M' });
    const outside = await submit('outside.ipynb', {});
    await running(outside.id);
    asSlurmUser(['scancel', outside.schedulerId]);

    const oom = await ended(greedy.id, 60_000);
    assert.equal(oom.state, 'failed', JSON.stringify(oom));
    assert.match(oom.reason, /^out of memory: /);
    const cancelled = await ended(outside.id, 60_000);
    assert.deepEqual(
      [cancelled.state, cancelled.reason],
      ['cancelled', 'cancelled outside hpc-submit']
    );
    const timedOut = await ended(limited.id, 150_000);
    assert.deepEqual(
      [timedOut.state, timedOut.reason],
      ['timeout', 'time limit reached'],
      JSON.stringify(timedOut)
    );

    // The node goes down under a running job (the other runs have ended: a down node ends all its jobs).
    const doomed = await submit('doomed.ipynb', {});
    await running(doomed.id);
    execFileSync('scontrol', [
      'update',
      `nodename=${hostname()}`,
      'state=down',
      'reason=hpc-submit test: the node vanished'
    ]);
    const nodeFailed = await ended(doomed.id, 60_000);
    assert.equal(nodeFailed.state, 'failed', JSON.stringify(nodeFailed));
    assert.match(nodeFailed.reason, /^node failure: /);
    // Not requeued: the notebook did not start over behind the user's back.
    const squeue = execFileSync(
      'squeue',
      ['-h', '--states=all', '-j', doomed.schedulerId, '-o', '%T'],
      { encoding: 'utf8' }
    ).trim();
    assert.equal(squeue, 'NODE_FAIL');

    const outcomes = [oom, cancelled, timedOut, nodeFailed].map(j => `${j.state}: ${j.reason}`);
    assert.equal(new Set(outcomes).size, 4, outcomes.join(' | '));
  });

  it('kill -9 of the companion with 10 jobs queued and running: after the restart each has its right end', async () => {
    execFileSync(CLUSTER, ['up'], { stdio: 'ignore' }); // the node back from the test above
    const root = join(dir, 'root');
    const user = unixUser(SLURM_USER);
    const expected = new Map<string, string>();
    for (let i = 0; i < 10; i++) {
      const kind = i < 7 ? 'ok' : i < 9 ? 'bad' : 'outside';
      const name = `restart-${kind}-${i}.ipynb`;
      const cells =
        kind === 'bad'
          ? [
              "print('started', flush=True)",
              'import time; time.sleep(2)',
              "raise KeyError('wrong column')"
            ]
          : [
              "print('started', flush=True)",
              `import time; time.sleep(${kind === 'outside' ? 300 : 4})`
            ];
      writeFileSync(join(root, name), notebookJson(cells));
      chownTree(join(root, name), user);
      expected.set(name, kind);
    }
    const submitted = new Map<string, { id: string; schedulerId: string }>();
    for (const name of expected.keys()) {
      submitted.set(name, await submit(name, { memory: '300M' }));
    }
    const states = async () =>
      Promise.all([...submitted.values()].map(async j => (await job(j.id)).state));
    // The cluster runs 4 at a time: some are running and the rest still wait when the companion dies.
    await until(
      'some running, some queued',
      async () => (s => s.includes('running') && s.includes('queued'))(await states()),
      60_000
    );
    const token = c.token;
    const pid = c.proc.pid!;
    await c.stop('SIGKILL');
    assert.throws(() => process.kill(pid, 0), 'the companion itself is dead, not only a wrapper');

    // While it is away: runs end, one is cancelled from outside.
    const outside = [...submitted.entries()].find(([name]) => expected.get(name) === 'outside')![1];
    asSlurmUser(['scancel', outside.schedulerId]);
    await new Promise(ok => setTimeout(ok, 5000));

    c = await companionAsSlurmUser(dir, token);
    const listed = (await c.api('GET', 'api/jobs')).json.jobs.map((j: { id: string }) => j.id);
    for (const j of submitted.values()) {
      assert.ok(listed.includes(j.id), `job ${j.id} is listed after the restart`);
    }
    for (const [name, j] of submitted) {
      const end = await ended(j.id, 120_000);
      const kind = expected.get(name);
      if (kind === 'ok') {
        assert.equal(end.state, 'completed', `${name}: ${JSON.stringify(end)}`);
      }
      if (kind === 'bad') {
        assert.equal(end.state, 'failed', name);
        assert.match(end.reason, /KeyError/);
      }
      if (kind === 'outside') {
        assert.deepEqual([end.state, end.reason], ['cancelled', 'cancelled outside hpc-submit']);
      }
    }
    // Nothing submitted twice: the scheduler's record of ended jobs has exactly these 10 runs from this root.
    const names = await until(
      'the scheduler to record all 10',
      () => {
        const lines = readFileSync(JOB_RECORD, 'utf8')
          .split('\n')
          .filter(l => l.includes(` WorkDir=${root} `) && l.includes(' Name=restart-'));
        return lines.length >= 10 ? lines.map(l => /Name=(\S+)/.exec(l)![1]) : null;
      },
      30_000
    );
    assert.equal(names.length, 10, names.join(', '));
    assert.equal(new Set(names).size, 10);
  });
});
