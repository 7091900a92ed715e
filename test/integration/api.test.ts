/**
 * The companion end to end through its HTTP API, with the local executor and
 * real nbconvert: a run as a researcher would type it, live events, hostile input
 * refused with nothing written, no credential leaked, and nothing lost when
 * the companion is killed mid-run.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Companion, listen, startCompanion, until } from '../fixtures/companion';
import { notebookJson, outputsText, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';

const HUB_TOKEN = 'hub-secret-' + 'c0ffee1234567890';
const JPY_TOKEN = 'jpy-secret-' + 'abcdef0987654321';

describe('companion API with the local executor', () => {
  let dir: string, root: string, state: string, profiles: string;
  let c: Companion;
  const jobDirs = () => (existsSync(join(state, 'jobs')) ? readdirSync(join(state, 'jobs')) : []);

  beforeAll(async () => {
    dir = tempDir('hpc-api-');
    root = join(dir, 'root');
    state = join(dir, 'state');
    mkdirSync(join(root, 'project', 'data'), { recursive: true });
    writeFileSync(join(root, 'project', 'data', 'numbers.txt'), '1 2 3 4\n');
    profiles = writeTestProfiles(
      join(dir, 'profiles.json'),
      {
        resources: { cpus: 1, time: '00:10:00' },
        limits: { cpus: 2, time: '01:00:00' }
      },
      {
        id: 'gpu',
        label: 'GPU node',
        resources: { gpus: 1, time: '00:10:00' },
        requireGpu: true
      },
      { id: 'fresh', label: 'Fresh', kernel: 'no-such-kernel-here' }
    );
    c = await startCompanion({
      rootDir: root,
      stateDir: state,
      profiles,
      env: { JUPYTERHUB_API_TOKEN: HUB_TOKEN, JPY_API_TOKEN: JPY_TOKEN, JUPYTER_TOKEN: JPY_TOKEN }
    });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers health and the readiness probe; everything else needs the token', async () => {
    const health = await c.api('GET', 'api/health');
    assert.equal(health.status, 200);
    assert.deepEqual(
      {
        ok: health.json.ok,
        executor: health.json.executor,
        reachable: health.json.schedulerReachable
      },
      { ok: true, executor: 'local', reachable: true }
    );
    assert.equal((await fetch(c.url)).status, 200);
    for (const path of ['api/health', 'api/jobs', 'api/profiles', 'api/events']) {
      const res = await fetch(new URL(path, c.url));
      assert.equal(res.status, 401, path);
      assert.match(((await res.json()) as { error: string }).error, /authentication required/);
    }
    assert.equal(
      (await c.api('GET', 'api/jobs', undefined, { Authorization: 'token wrong' })).status,
      401
    );
  });

  it('reports a missing kernel with the command that creates it', async () => {
    const { json } = await c.api('GET', 'api/profiles');
    const fresh = json.profiles.find((p: any) => p.id === 'fresh');
    assert.equal(fresh.available, false);
    assert.equal(fresh.problems[0].code, 'kernel-missing');
    assert.match(fresh.problems[0].fix, /-m ipykernel install --user --name no-such-kernel-here$/);
    assert.equal(json.profiles.find((p: any) => p.id === 'cpu').available, true);
  });

  it('runs a notebook with an awkward name as a researcher would type it, with live events', async () => {
    const name = 'it\'s a "test" $(touch pwned) `x` été.ipynb';
    const source = notebookJson([
      "with open('data/numbers.txt') as f: print('sum', sum(int(x) for x in f.read().split()))",
      "import os, time; time.sleep(1); print('token' in ' '.join(os.environ.get(k, '') for k in os.environ).lower())",
      "import os; print(sorted(k for k in os.environ if 'TOKEN' in k))"
    ]);
    writeFileSync(join(root, 'project', name), source);
    const stream = listen(c);
    await new Promise(r => setTimeout(r, 300));
    const res = await c.api('POST', 'api/jobs', { notebook: `project/${name}`, profile: 'cpu' });
    assert.equal(res.status, 201, res.text);
    const job = res.json;
    assert.equal(job.state, 'queued');
    assert.equal(job.output, `project/executed/${name.replace(/\.ipynb$/, '')}_executed.ipynb`);
    assert.equal(job.kernel, 'python3');
    const done = await until(
      'completion',
      async () => {
        const j = (await c.api('GET', `api/jobs/${job.id}`)).json;
        return j.state === 'completed' || j.state === 'failed' ? j : null;
      },
      90_000
    );
    assert.equal(done.state, 'completed', JSON.stringify(done));
    assert.equal(done.exitCode, 0);
    assert.equal(done.node, hostname());
    assert.deepEqual(done.progress, { cell: 3, total: 3 });
    await until(
      'the final event',
      () =>
        stream.events.some(
          e => e.type === 'job' && e.data.id === job.id && e.data.state === 'completed'
        ),
      5000
    );
    stream.close();
    const states = stream.events.filter(e => e.data.id === job.id).map(e => e.data.state);
    assert.deepEqual([...new Set(states)], ['queued', 'running', 'completed'], states.join(','));

    const out = JSON.parse(readFileSync(join(root, job.output), 'utf8'));
    const text = outputsText(out);
    assert.match(text, /sum 10/);
    assert.match(text, /\[\]/, 'no variable with TOKEN in its name reached the job');
    assert.equal(
      readFileSync(join(root, 'project', name), 'utf8'),
      source,
      'the source notebook is never modified'
    );
    assert.equal(existsSync(join(root, 'project', 'pwned')), false);

    // No credential in the script, the log, the output or the companion's own output.
    const jobDir = join(state, 'jobs', job.id);
    for (const file of [
      join(jobDir, 'job.sh'),
      join(jobDir, 'log.txt'),
      join(jobDir, 'job.json'),
      join(root, job.output)
    ]) {
      const content = readFileSync(file, 'utf8');
      assert.ok(
        !content.includes(HUB_TOKEN) && !content.includes(JPY_TOKEN),
        `a token leaked into ${file}`
      );
    }
    assert.ok(!c.output().includes(HUB_TOKEN) && !c.output().includes(c.token));

    const log = await c.api('GET', `api/jobs/${job.id}/log`);
    assert.match(log.text, /job ended on .*: completed/);
    const tail = await c.api(
      'GET',
      `api/jobs/${job.id}/log?offset=${Buffer.byteLength(log.text) - 10}`
    );
    assert.equal(tail.text, log.text.slice(-10));
  });

  it('runs notebooks whose names look like options or hold a backslash', async () => {
    const folder = '-dir\\ {0}';
    mkdirSync(join(root, folder));
    const names = ['-x.ipynb', '--help.ipynb', '--to=html.ipynb', 'back\\slash.ipynb'];
    const jobs = [];
    for (const name of names) {
      writeFileSync(join(root, folder, name), notebookJson(["print('ran', 6 * 7)"]));
      const res = await c.api('POST', 'api/jobs', {
        notebook: `${folder}/${name}`,
        profile: 'cpu'
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.output, `${folder}/executed/${name.slice(0, -6)}_executed.ipynb`);
      jobs.push(res.json);
    }
    for (const job of jobs) {
      const done = await until(
        `the end of ${job.notebook}`,
        async () => {
          const j = (await c.api('GET', `api/jobs/${job.id}`)).json;
          return j.state !== 'queued' && j.state !== 'running' ? j : null;
        },
        90_000
      );
      assert.equal(done.state, 'completed', JSON.stringify(done));
      assert.match(
        outputsText(JSON.parse(readFileSync(join(root, done.output), 'utf8'))),
        /ran 42/
      );
    }
  });

  it('a failing cell fails the job with its reason and keeps the traceback', async () => {
    writeFileSync(
      join(root, 'project', 'fails.ipynb'),
      notebookJson(["print('before')", '1/0', "print('never')"])
    );
    const job = (
      await c.api('POST', 'api/jobs', { notebook: 'project/fails.ipynb', profile: 'cpu' })
    ).json;
    const done = await until(
      'failure',
      async () => {
        const j = (await c.api('GET', `api/jobs/${job.id}`)).json;
        return j.state !== 'queued' && j.state !== 'running' ? j : null;
      },
      90_000
    );
    assert.equal(done.state, 'failed');
    assert.match(done.reason, /ZeroDivisionError/);
    const text = outputsText(JSON.parse(readFileSync(join(root, done.output), 'utf8')));
    assert.match(text, /before/);
    assert.match(text, /ZeroDivisionError/);
    assert.doesNotMatch(text, /never/);
  });

  it('the GPU profile on a machine without a GPU fails fast, saying so', async () => {
    writeFileSync(join(root, 'project', 'gpu.ipynb'), notebookJson(["print('ran')"]));
    const job = (await c.api('POST', 'api/jobs', { notebook: 'project/gpu.ipynb', profile: 'gpu' }))
      .json;
    const done = await until(
      'the guard',
      async () => {
        const j = (await c.api('GET', `api/jobs/${job.id}`)).json;
        return j.state === 'failed' || j.state === 'completed' ? j : null;
      },
      30_000
    );
    assert.equal(done.state, 'failed');
    assert.equal(done.reason, `no GPU visible on ${hostname()}`);
    assert.equal(existsSync(join(root, done.output)), false, 'nbconvert never ran');
  });

  it('refuses hostile input with a clear 4xx and writes nothing', async () => {
    writeFileSync(join(dir, 'outside.ipynb'), notebookJson(["print('outside')"]));
    symlinkSync(join(dir, 'outside.ipynb'), join(root, 'link-out.ipynb'));
    writeFileSync(join(root, 'broken.ipynb'), '{not json');
    writeFileSync(join(root, 'notes.txt'), 'hello');
    mkdirSync(join(root, 'folder.ipynb'));
    const before = jobDirs().length;
    const cases: [unknown, number, RegExp][] = [
      [{ notebook: '/etc/passwd', profile: 'cpu' }, 400, /relative to the Jupyter root/],
      [{ notebook: '../outside.ipynb', profile: 'cpu' }, 400, /may not contain "\.\."/],
      [{ notebook: 'project/../../outside.ipynb', profile: 'cpu' }, 400, /"\.\."/],
      [{ notebook: 'link-out.ipynb', profile: 'cpu' }, 400, /outside the Jupyter root/],
      [{ notebook: 'folder.ipynb', profile: 'cpu' }, 400, /is a directory/],
      [{ notebook: 'notes.txt', profile: 'cpu' }, 400, /not a notebook/],
      [{ notebook: 'broken.ipynb', profile: 'cpu' }, 400, /not a valid notebook/],
      [{ notebook: 'missing.ipynb', profile: 'cpu' }, 404, /no notebook/],
      [{ notebook: 'project/gpu.ipynb', profile: 'tpu' }, 400, /unknown profile "tpu"/],
      [
        { notebook: 'project/gpu.ipynb', profile: 'cpu', resources: { cpus: 64 } },
        400,
        /at most 2 cpus/
      ],
      [
        { notebook: 'project/gpu.ipynb', profile: 'cpu', resources: { cpus: -1 } },
        400,
        /whole number/
      ],
      [
        { notebook: 'project/gpu.ipynb', profile: 'cpu', resources: { time: '99-00:00:00' } },
        400,
        /at most 01:00:00/
      ],
      [
        { notebook: 'project/gpu.ipynb', profile: 'cpu', resources: { memory: '1e9' } },
        400,
        /"memory" must look like/
      ],
      [
        { notebook: 'project/gpu.ipynb', profile: 'cpu', resources: { partition: 'gpu' } },
        400,
        /partition/
      ],
      [{ notebook: 'a\u0000b.ipynb', profile: 'cpu' }, 400, /NUL/],
      [[1, 2], 400, /JSON object/],
      [{ notebook: 'project/gpu.ipynb', profile: 'cpu', extra: 1 }, 400, /unknown field "extra"/]
    ];
    for (const [body, status, message] of cases) {
      const res = await c.api('POST', 'api/jobs', body);
      assert.equal(res.status, status, `${JSON.stringify(body)} -> ${res.text}`);
      assert.match(res.json.error, message, JSON.stringify(body));
    }
    const malformed = await c.api('POST', 'api/jobs', '{"notebook": ');
    assert.equal(malformed.status, 400);
    assert.match(malformed.json.error, /not valid JSON/);
    const huge = await c.api(
      'POST',
      'api/jobs',
      JSON.stringify({ notebook: 'x'.repeat(100_000), profile: 'cpu' })
    );
    assert.equal(huge.status, 413);
    for (const bad of ['..%2F..%2Fetc', 'not-an-id', '20261123-000000-ZZZZZZ']) {
      const res = await c.api('GET', `api/jobs/${bad}`);
      assert.equal(res.status, 400, bad);
      assert.match(res.json.error, /is not a job id/);
    }
    assert.equal((await c.api('GET', 'api/jobs/20261123-000000-abcdef')).status, 404);
    const unknown = await c.api('GET', 'api/nothing');
    assert.equal(unknown.status, 404);
    assert.doesNotMatch(unknown.text, /at .*\.ts:\d+/, 'no stack trace');
    assert.equal(jobDirs().length, before, 'no job directory was written');
  });

  it('an idempotency key gives the same job; a second live run of a notebook is refused', async () => {
    writeFileSync(
      join(root, 'project', 'slow.ipynb'),
      notebookJson(["print('first', flush=True)", 'import time; time.sleep(60)'])
    );
    const first = await c.api('POST', 'api/jobs', {
      notebook: 'project/slow.ipynb',
      profile: 'cpu',
      idempotencyKey: 'k-1'
    });
    assert.equal(first.status, 201);
    const replay = await c.api('POST', 'api/jobs', {
      notebook: 'project/slow.ipynb',
      profile: 'cpu',
      idempotencyKey: 'k-1'
    });
    assert.equal(replay.status, 200);
    assert.equal(replay.json.id, first.json.id);
    const second = await c.api('POST', 'api/jobs', {
      notebook: 'project/slow.ipynb',
      profile: 'cpu'
    });
    assert.equal(second.status, 409);
    assert.match(
      second.json.error,
      /already (queued|running) as job .* would overwrite its output/
    );

    // Cancel: the run stops, keeps what it did, and ends cancelled.
    await until(
      'the first cell',
      () =>
        existsSync(join(state, 'jobs', first.json.id, 'progress.json')) &&
        JSON.parse(readFileSync(join(state, 'jobs', first.json.id, 'progress.json'), 'utf8'))
          .cell >= 1,
      60_000
    );
    const cancel = await c.api('POST', `api/jobs/${first.json.id}/cancel`);
    assert.equal(cancel.status, 200);
    const ended = await until(
      'cancelled',
      async () => {
        const j = (await c.api('GET', `api/jobs/${first.json.id}`)).json;
        return j.state === 'cancelled' ? j : null;
      },
      30_000
    );
    assert.match(outputsText(JSON.parse(readFileSync(join(root, ended.output), 'utf8'))), /first/);
    assert.equal((await c.api('POST', `api/jobs/${first.json.id}/cancel`)).status, 409);
    assert.equal((await c.api('DELETE', `api/jobs/${first.json.id}`)).status, 204);
    assert.equal(existsSync(join(state, 'jobs', first.json.id)), false);
    assert.ok(existsSync(join(root, ended.output)), 'forgetting keeps the output notebook');
    assert.equal((await c.api('GET', `api/jobs/${first.json.id}`)).status, 404);
  });

  it('kill -9 of the companion mid-run loses nothing: the restarted one follows the run to its end', async () => {
    writeFileSync(
      join(root, 'project', 'long.ipynb'),
      notebookJson(["print('a', flush=True)", 'import time; time.sleep(4)', "print('b')"])
    );
    const job = (
      await c.api('POST', 'api/jobs', { notebook: 'project/long.ipynb', profile: 'cpu' })
    ).json;
    await until(
      'running',
      async () => (await c.api('GET', `api/jobs/${job.id}`)).json.state === 'running',
      30_000
    );
    await c.stop('SIGKILL');
    c = await startCompanion({ rootDir: root, stateDir: state, profiles, token: c.token });
    const found = (await c.api('GET', `api/jobs/${job.id}`)).json;
    assert.ok(['running', 'completed'].includes(found.state), found.state);
    const done = await until(
      'completion after restart',
      async () => {
        const j = (await c.api('GET', `api/jobs/${job.id}`)).json;
        return j.state !== 'running' && j.state !== 'queued' ? j : null;
      },
      60_000
    );
    assert.equal(done.state, 'completed', JSON.stringify(done));
    const list = (await c.api('GET', 'api/jobs')).json.jobs;
    assert.ok(list.length >= 4);
    assert.ok(
      list.every((j: any, i: number) => i === 0 || list[i - 1].submittedAt >= j.submittedAt),
      'newest first'
    );
    const filtered = (await c.api('GET', 'api/jobs?notebook=project/long.ipynb')).json.jobs;
    assert.deepEqual(
      filtered.map((j: any) => j.id),
      [job.id]
    );
  });
});
