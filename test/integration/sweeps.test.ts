/**
 * Runs with parameters and sweeps through the companion's HTTP API, with the
 * local executor, real papermill and real nbconvert: a six-task sweep where
 * one task fails on purpose, its summary.csv, a rerun of the failed task, a
 * cancel, hostile values, refused requests, and the paged job list. Then the
 * same sweep on the real Slurm cluster as hpcuser: one job array.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { join } from 'node:path';
import { type Companion, startCompanion, until } from '../fixtures/companion';
import { PYTHON, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { SLURM_USER, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';
import { chownTree, unixUser } from '../fixtures/users';

const FINAL = ['completed', 'failed', 'cancelled', 'timeout'];

/** A notebook whose first code cell is tagged `parameters`, then the given cells. */
function parameterizedNotebook(defaults: string, cells: string[]): string {
  const nb = JSON.parse(notebookJson([defaults, ...cells]));
  nb.cells[1].metadata = { tags: ['parameters'] };
  return JSON.stringify(nb, null, 1) + '\n';
}

/** Fails for seed 3 until fixed.flag lies beside it; prints what it was given. */
const SEEDED = parameterizedNotebook(
  "seed: int = 0\nlr = 0.1  # learning rate\nlabel = 'default'",
  [
    "import os\nassert seed != 3 or os.path.exists('fixed.flag'), 'seed 3 fails on purpose'",
    "print('result', seed * lr, label)"
  ]
);

/** summary.csv as Python's csv module reads it: the header and the rows. */
function readCsv(path: string): { header: string[]; rows: Record<string, string>[] } {
  const script =
    'import csv, json, sys\n' +
    'rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))\n' +
    'print(json.dumps(rows))';
  const [header, ...rows] = JSON.parse(
    execFileSync(PYTHON, ['-c', script, path], { encoding: 'utf8' })
  ) as string[][];
  return { header, rows: rows.map(r => Object.fromEntries(header.map((h, i) => [h, r[i]]))) };
}

async function ended(c: Companion, ids: string[], timeoutMs: number): Promise<any[]> {
  return until(
    `${ids.length} job(s) to end`,
    async () => {
      const jobs = await Promise.all(
        ids.map(async id => (await c.api('GET', `api/jobs/${id}`)).json)
      );
      return jobs.every(j => FINAL.includes(j.state)) ? jobs : null;
    },
    timeoutMs
  );
}

describe('parameters and sweeps with the local executor', () => {
  let dir: string, root: string, state: string;
  let c: Companion;
  const jobDirs = () => (existsSync(join(state, 'jobs')) ? readdirSync(join(state, 'jobs')) : []);

  beforeAll(async () => {
    dir = tempDir('hpc-sweeps-');
    root = join(dir, 'root');
    state = join(dir, 'state');
    mkdirSync(join(root, 'study'), { recursive: true });
    writeFileSync(join(root, 'study', 'seeded.ipynb'), SEEDED);
    writeFileSync(
      join(root, 'study', 'slow.ipynb'),
      parameterizedNotebook('seed = 0', ['import time; time.sleep(120)'])
    );
    writeFileSync(
      join(root, 'study', 'echo.ipynb'),
      parameterizedNotebook("label = 'default'", [
        "open('label.txt', 'w', encoding='utf-8').write(label)"
      ])
    );
    writeFileSync(join(root, 'study', 'plain.ipynb'), notebookJson(["print('plain')"]));
    const profiles = writeTestProfiles(
      join(dir, 'profiles.json'),
      { resources: { cpus: 1, time: '00:10:00' } },
      { id: 'capped', resources: { cpus: 1, time: '00:10:00' }, maxParallel: 1 }
    );
    c = await startCompanion({
      rootDir: root,
      stateDir: state,
      profiles,
      env: { HPC_SUBMIT_PYTHON: PYTHON }
    });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lists a notebook's parameters as papermill reads them", async () => {
    const res = await c.api('GET', 'api/parameters?notebook=study/seeded.ipynb');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.notebook, 'study/seeded.ipynb');
    assert.equal(res.json.hasParametersCell, true);
    assert.deepEqual(
      res.json.parameters.map((p: any) => [p.name, p.inferredType, p.default, p.help]),
      [
        ['seed', 'int', '0', ''],
        ['lr', 'None', '0.1', 'learning rate'],
        ['label', 'None', "'default'", '']
      ]
    );
    const plain = await c.api('GET', 'api/parameters?notebook=study/plain.ipynb');
    assert.deepEqual(
      [plain.status, plain.json.hasParametersCell, plain.json.parameters],
      [200, false, []]
    );
    const outside = await c.api(
      'GET',
      `api/parameters?notebook=${encodeURIComponent('../x.ipynb')}`
    );
    assert.equal(outside.status, 400);
    assert.match(outside.json.error, /may not contain ".."/);
  });

  it('runs a six-task sweep: five complete, the failing one keeps its traceback, summary.csv says so', async () => {
    const res = await c.api('POST', 'api/jobs', {
      notebook: 'study/seeded.ipynb',
      profile: 'cpu',
      parameters: { label: 'fixed, "quoted"' },
      sweep: { parameters: { seed: [0, 1, 2, 3, 4, 5] }, maxParallel: 3 }
    });
    assert.equal(res.status, 201, res.text);
    const { sweep, jobs } = res.json;
    assert.deepEqual(
      [sweep.taskCount, sweep.mode, sweep.maxParallel, sweep.outputDir, sweep.notebook],
      [6, 'product', 3, 'study/executed/seeded', 'study/seeded.ipynb']
    );
    assert.deepEqual(
      jobs.map((j: any) => [j.id, j.taskIndex, j.taskCount, j.sweepId, j.parameters.seed]),
      [0, 1, 2, 3, 4, 5].map(i => [`${sweep.id}-${i}`, i, 6, sweep.id, i])
    );
    assert.deepEqual(
      jobs.map((j: any) => j.output),
      [0, 1, 2, 3, 4, 5].map(i => `study/executed/seeded/00${i}_seed=${i}.ipynb`)
    );

    const done = await ended(
      c,
      jobs.map((j: any) => j.id),
      180_000
    );
    assert.deepEqual(
      done.map(j => j.state),
      ['completed', 'completed', 'completed', 'failed', 'completed', 'completed']
    );
    for (const job of done.filter(j => j.state === 'completed')) {
      const out = readFileSync(join(root, job.output), 'utf8');
      assert.match(out, new RegExp(`result ${job.parameters.seed * 0.1}`.replace('.', '\\.')));
      assert.match(out, /fixed, \\"quoted\\"/);
    }
    const failed = readFileSync(join(root, done[3].output), 'utf8');
    assert.match(failed, /AssertionError/);
    assert.match(failed, /seed 3 fails on purpose/);
    assert.match(failed, /injected-parameters/);
    // The source notebook is never touched: the injected copy ran from the job's own folder.
    assert.equal(readFileSync(join(root, 'study', 'seeded.ipynb'), 'utf8'), SEEDED);

    const summaryPath = join(root, 'study', 'executed', 'seeded', 'summary.csv');
    await until('summary.csv with every end', () => {
      const states = readCsv(summaryPath).rows.map(r => r.state);
      return states.length === 6 && states.every(s => FINAL.includes(s));
    });
    const summary = readCsv(summaryPath);
    assert.deepEqual(summary.header, [
      'task',
      'label',
      'seed',
      'state',
      'reason',
      'duration_seconds',
      'node',
      'output'
    ]);
    assert.deepEqual(
      summary.rows.map(r => [r.task, r.seed, r.label, r.state, r.output]),
      done.map((j, i) => [String(i), String(i), 'fixed, "quoted"', j.state, j.output])
    );
    assert.match(summary.rows[3].reason, /AssertionError|seed 3 fails on purpose/);
    assert.ok(Number(summary.rows[0].duration_seconds) > 0);

    // Rerun the failed task, once the cause is fixed: one task, its values, its output file.
    writeFileSync(join(root, 'study', 'fixed.flag'), '');
    const rerun = await c.api('POST', `api/sweeps/${sweep.id}/rerun-failed`);
    assert.equal(rerun.status, 201, rerun.text);
    assert.equal(rerun.json.jobs.length, 1);
    const again = rerun.json.jobs[0];
    assert.notEqual(rerun.json.sweep.id, sweep.id);
    assert.deepEqual(
      [again.id, again.parameters, again.output],
      [`${rerun.json.sweep.id}-0`, { label: 'fixed, "quoted"', seed: 3 }, done[3].output]
    );
    const [rerunDone] = await ended(c, [again.id], 90_000);
    assert.equal(rerunDone.state, 'completed', JSON.stringify(rerunDone));
    assert.match(readFileSync(join(root, again.output), 'utf8'), /result 0\.30000000000000004/);
    await until('summary.csv with the rerun', () =>
      readCsv(summaryPath).rows.every(r => r.state === 'completed')
    );
    assert.deepEqual(
      readCsv(summaryPath).rows.map(r => r.task),
      ['0', '1', '2', '3', '4', '5']
    );
    const none = await c.api('POST', `api/sweeps/${sweep.id}/rerun-failed`);
    assert.equal(none.status, 409);
    assert.match(none.json.error, /nothing to rerun/);

    // One sweep and its tasks, without the history: the rerun's task fills the failed row.
    const one = await c.api('GET', `api/sweeps/${sweep.id}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.sweep.id, sweep.id);
    assert.deepEqual(
      one.json.jobs.map((j: any) => [j.id, j.summaryRow]),
      [0, 1, 2, 3, 4, 5].map(i => [`${sweep.id}-${i}`, { summaryOf: sweep.id, row: i }])
    );
    const ofRerun = await c.api('GET', `api/sweeps/${rerun.json.sweep.id}`);
    assert.deepEqual(ofRerun.json.jobs[0].summaryRow, { summaryOf: sweep.id, row: 3 });
    const unknown = await c.api('GET', 'api/sweeps/20200101-000000-abcdef');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /no sweep 20200101-000000-abcdef/);
    assert.equal((await c.api('GET', 'api/sweeps/..%2Fx')).status, 400);
  });

  it('replays a sweep for its idempotency key, and refuses a second one of a live notebook', async () => {
    const body = {
      notebook: 'study/slow.ipynb',
      idempotencyKey: 'sweep-key-1',
      profile: 'capped',
      sweep: { parameters: { seed: [1, 2, 3] }, maxParallel: 5 }
    };
    const first = await c.api('POST', 'api/jobs', body);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.sweep.maxParallel, 1, "the profile's limit wins over the request");
    const replay = await c.api('POST', 'api/jobs', body);
    assert.equal(replay.status, 200);
    assert.deepEqual(
      replay.json.jobs.map((j: any) => j.id),
      first.json.jobs.map((j: any) => j.id)
    );
    const { id } = first.json.sweep;
    const ids: string[] = first.json.jobs.map((j: any) => j.id);

    const second = await c.api('POST', 'api/jobs', { ...body, idempotencyKey: 'sweep-key-2' });
    assert.equal(second.status, 409);
    assert.match(second.json.error, new RegExp(`already running as sweep ${id}`));
    const single = await c.api('POST', 'api/jobs', {
      notebook: 'study/slow.ipynb',
      profile: 'cpu'
    });
    assert.equal(single.status, 409);

    // The profile's maxParallel 1: one task runs, the others wait although the executor has a free slot.
    await until(
      'the first task to run',
      async () => (await c.api('GET', `api/jobs/${ids[0]}`)).json.state === 'running'
    );
    await new Promise(r => setTimeout(r, 2000));
    const states = await Promise.all(
      ids.map(async i => (await c.api('GET', `api/jobs/${i}`)).json.state)
    );
    assert.deepEqual(states, ['running', 'queued', 'queued']);

    // A waiting task cancelled alone never started: it shows cancelled at the next look.
    assert.equal((await c.api('POST', `api/jobs/${ids[2]}/cancel`)).status, 200);
    await until(
      'the waiting task to show cancelled',
      async () => (await c.api('GET', `api/jobs/${ids[2]}`)).json.state === 'cancelled',
      5_000
    );
    const cancel = await c.api('POST', `api/sweeps/${id}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    assert.deepEqual(
      cancel.json.jobs.map((j: any) => j.id),
      ids
    );
    const done = await ended(c, ids, 60_000);
    assert.deepEqual(
      done.map(j => j.state),
      ['cancelled', 'cancelled', 'cancelled']
    );
    const twice = await c.api('POST', `api/sweeps/${id}/cancel`);
    assert.equal(twice.status, 409);
    assert.equal((await c.api('POST', 'api/sweeps/nonsense/cancel')).status, 400);
    assert.equal((await c.api('POST', 'api/sweeps/20200101-000000-abcdef/cancel')).status, 404);
  });

  it('injects a hostile string as that exact value, and runs nothing of it', async () => {
    const hostile =
      "'); import os; os.system('touch pwned') #\n\"$(touch pwned2)\" `touch pwned3` \\' é";
    const res = await c.api('POST', 'api/jobs', {
      notebook: 'study/echo.ipynb',
      profile: 'cpu',
      parameters: { label: hostile }
    });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.json.parameters, { label: hostile });
    assert.equal(res.json.output, 'study/executed/echo_executed.ipynb');
    const [done] = await ended(c, [res.json.id], 90_000);
    assert.equal(done.state, 'completed', JSON.stringify(done));
    assert.equal(readFileSync(join(root, 'study', 'label.txt'), 'utf8'), hostile);
    for (const where of [root, join(root, 'study'), join(state, 'jobs', res.json.id)]) {
      for (const name of ['pwned', 'pwned2', 'pwned3']) {
        assert.equal(existsSync(join(where, name)), false, `${where}/${name}`);
      }
    }
  });

  it('refuses bad parameters with a sentence, and writes nothing', async () => {
    const before = jobDirs().sort();
    const refused = async (body: object, status: number, pattern: RegExp) => {
      const res = await c.api('POST', 'api/jobs', {
        notebook: 'study/seeded.ipynb',
        profile: 'cpu',
        ...body
      });
      assert.equal(res.status, status, res.text);
      assert.match(res.json.error, pattern);
    };
    await refused(
      { parameters: { sede: 1 } },
      400,
      /does not define "sede"; it defines: "seed", "lr", "label"/
    );
    await refused(
      { sweep: { parameters: { seed: Array.from({ length: 1001 }, (_, i) => i) } } },
      400,
      /1,001 tasks; at most 1,000/
    );
    await refused({ sweep: { parameters: { seed: 3 } } }, 400, /must be a list/);
    await refused({ sweep: { parameters: { seed: [1] }, mode: 'all' } }, 400, /"product" or "zip"/);
    const plain = await c.api('POST', 'api/jobs', {
      notebook: 'study/plain.ipynb',
      profile: 'cpu',
      parameters: { seed: 1 }
    });
    assert.equal(plain.status, 400);
    assert.match(plain.json.error, /no cell tagged "parameters".*add the tag "parameters"/);
    assert.deepEqual(jobDirs().sort(), before);
  });

  it('pages the job list: every job exactly once, newest first', async () => {
    const all = (await c.api('GET', 'api/jobs')).json.jobs.map((j: any) => j.id);
    assert.ok(all.length >= 11, String(all.length));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await c.api('GET', `api/jobs?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.jobs.length <= 4);
      seen.push(...res.json.jobs.map((j: any) => j.id));
      cursor = res.json.next;
      pages++;
    } while (cursor);
    assert.deepEqual(seen, all);
    assert.equal(pages, Math.ceil(all.length / 4));
    for (const bad of ['limit=0', 'limit=1001', 'limit=x', 'limit=2&cursor=nope', 'cursor=abc']) {
      const res = await c.api('GET', `api/jobs?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.ok(res.json.error.length > 0);
    }
  });
});

describeUnless(slurmUsable())('a sweep on real Slurm, as hpcuser', () => {
  let dir: string;
  let c: Companion;

  beforeAll(async () => {
    dir = tempDir('hpc-sweep-slurm-');
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'root'));
    writeFileSync(join(dir, 'root', 'seeded.ipynb'), SEEDED);
    writeFileSync(
      join(dir, 'root', 'slow.ipynb'),
      parameterizedNotebook('seed = 0', ['import time; time.sleep(120)'])
    );
    writeTestProfiles(join(dir, 'profiles.json'), {
      resources: { partition: 'cpu', cpus: 1, memory: '500M', time: '00:10:00' }
    });
    const user = unixUser(SLURM_USER);
    chownTree(dir, user);
    c = await startCompanion({
      rootDir: join(dir, 'root'),
      stateDir: join(dir, 'state'),
      profiles: join(dir, 'profiles.json'),
      executor: 'slurm',
      user: { name: SLURM_USER, home: user.home },
      env: { HPC_SUBMIT_PYTHON: PYTHON },
      pollSeconds: 2
    });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the six tasks as one job array: five complete, one fails', async () => {
    const res = await c.api('POST', 'api/jobs', {
      notebook: 'seeded.ipynb',
      profile: 'cpu',
      sweep: { parameters: { seed: [0, 1, 2, 3, 4, 5] }, maxParallel: 2 }
    });
    assert.equal(res.status, 201, res.text);
    const ids: string[] = res.json.jobs.map((j: any) => j.id);
    const arrays = new Set(res.json.jobs.map((j: any) => j.schedulerId.split('_')[0]));
    assert.equal(arrays.size, 1, 'one job array');
    const [array] = [...arrays];
    assert.deepEqual(
      res.json.jobs.map((j: any) => j.schedulerId),
      [0, 1, 2, 3, 4, 5].map(i => `${array}_${i}`)
    );
    const done = await ended(c, ids, 240_000);
    assert.deepEqual(
      done.map(j => j.state),
      ['completed', 'completed', 'completed', 'failed', 'completed', 'completed']
    );
    assert.match(
      readFileSync(join(dir, 'root', done[3].output), 'utf8'),
      /seed 3 fails on purpose/
    );
    const summaryPath = join(dir, 'root', 'executed', 'seeded', 'summary.csv');
    await until('summary.csv with every end', () => {
      const states = existsSync(summaryPath) ? readCsv(summaryPath).rows.map(r => r.state) : [];
      return states.length === 6 && states.every(s => FINAL.includes(s));
    });

    // Re-run failed: exactly one task, the failed one, as a new one-task array
    // that writes the failed task's output again.
    const again = await c.api('POST', `api/sweeps/${res.json.sweep.id}/rerun-failed`);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.json.jobs.length, 1);
    assert.deepEqual(again.json.jobs[0].parameters, { seed: 3 });
    assert.match(again.json.jobs[0].schedulerId, /^\d+_0$/);
    assert.equal(again.json.jobs[0].output, done[3].output);
    const [rerun] = await ended(c, [again.json.jobs[0].id], 120_000);
    assert.equal(rerun.state, 'failed', 'seed 3 fails again, on purpose');
  });

  it('cancels a running array as a whole', async () => {
    const res = await c.api('POST', 'api/jobs', {
      notebook: 'slow.ipynb',
      profile: 'cpu',
      sweep: { parameters: { seed: [0, 1, 2, 3] }, maxParallel: 2 }
    });
    assert.equal(res.status, 201, res.text);
    const ids: string[] = res.json.jobs.map((j: any) => j.id);
    await until(
      'two tasks to run',
      async () => {
        const states = await Promise.all(
          ids.map(async i => (await c.api('GET', `api/jobs/${i}`)).json.state)
        );
        return states.filter(state => state === 'running').length === 2;
      },
      120_000
    );
    const cancel = await c.api('POST', `api/sweeps/${res.json.sweep.id}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    const done = await ended(c, ids, 120_000);
    assert.deepEqual(
      done.map(j => j.state),
      ['cancelled', 'cancelled', 'cancelled', 'cancelled']
    );
  });
});
