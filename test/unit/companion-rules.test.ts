import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frame } from '../../server/http/events';
import { isSecretName, jobEnvironment } from '../../server/env';
import { HttpError } from '../../server/http/httpError';
import { checkNotebookPath, resolveNotebook } from '../../server/jobs/paths';
import {
  DEFAULT_PROFILES,
  memoryMegabytes,
  resolveResources,
  validateProfiles
} from '../../server/jobs/profiles';
import { JOB_ID, JobStore, newJobId, toWire } from '../../server/jobs/store';
import { cookieValues, tokenMatches, xsrfAllows } from '../../server/http/auth';
import type { Profile } from '../../contract/wire';

const refused = (fn: () => unknown, status: number, message: RegExp) =>
  assert.throws(
    fn,
    (e: unknown) => e instanceof HttpError && e.status === status && message.test(e.message)
  );

test('notebook paths: relative, inside, a notebook', () => {
  assert.equal(checkNotebookPath('a//b/./c.ipynb'), 'a/b/c.ipynb');
  refused(() => checkNotebookPath('/etc/x.ipynb'), 400, /not absolute/);
  refused(() => checkNotebookPath('a/../../x.ipynb'), 400, /"\.\."/);
  refused(() => checkNotebookPath('x.py'), 400, /not a notebook/);
  refused(() => checkNotebookPath(''), 400, /relative to the Jupyter root/);
  refused(() => checkNotebookPath(42), 400, /relative to the Jupyter root/);
  refused(() => checkNotebookPath('a\0.ipynb'), 400, /NUL/);
});

test('resolveNotebook follows symlinks only inside the root and checks the JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paths-'));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  const nb = JSON.stringify({ cells: [], nbformat: 4, metadata: {} });
  writeFileSync(join(root, 'sub', 'ok $(x).ipynb'), nb);
  writeFileSync(join(dir, 'out.ipynb'), nb);
  symlinkSync(join(dir, 'out.ipynb'), join(root, 'escape.ipynb'));
  symlinkSync(join(root, 'sub', 'ok $(x).ipynb'), join(root, 'inside.ipynb'));
  writeFileSync(join(root, 'nocells.ipynb'), '{"nbformat": 4}');
  mkdirSync(join(root, 'leaky'));
  writeFileSync(join(root, 'leaky', 'n.ipynb'), nb);
  symlinkSync(dir, join(root, 'leaky', 'executed'));
  try {
    const ok = await resolveNotebook(root, 'sub/ok $(x).ipynb');
    assert.equal(ok.outputRelative, 'sub/executed/ok $(x)_executed.ipynb');
    assert.equal(ok.dir, join(root, 'sub'));
    assert.equal(
      (await resolveNotebook(root, 'inside.ipynb')).outputRelative,
      'sub/executed/ok $(x)_executed.ipynb'
    );
    await assert.rejects(resolveNotebook(root, 'escape.ipynb'), /outside the Jupyter root/);
    await assert.rejects(resolveNotebook(root, 'nocells.ipynb'), /no "cells"/);
    await assert.rejects(
      resolveNotebook(root, 'leaky/n.ipynb'),
      /output directory .* outside the Jupyter root/
    );
    await assert.rejects(
      resolveNotebook(root, 'none.ipynb'),
      (e: unknown) => (e as HttpError).status === 404
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const gpu = DEFAULT_PROFILES.find(p => p.id === 'gpu') as Profile;

test('resources: defaults, overrides within limits, clear refusals', () => {
  assert.deepEqual(resolveResources(gpu, undefined), gpu.resources);
  assert.deepEqual(resolveResources(gpu, { time: '01:00:00', memory: '16G' }), {
    ...gpu.resources,
    time: '01:00:00',
    memory: '16G'
  });
  refused(() => resolveResources(gpu, { gpus: 2 }), 400, /at most 1 gpus/);
  refused(() => resolveResources(gpu, { memory: '64G' }), 400, /at most 32G/);
  refused(() => resolveResources(gpu, { time: '1-00:00:00' }), 400, /at most 04:00:00/);
  refused(() => resolveResources(gpu, { cpus: 1.5 }), 400, /whole number/);
  refused(() => resolveResources(gpu, { partition: 'cpu' }), 400, /runs on partition gpu/);
  refused(() => resolveResources(gpu, { nodes: 4 }), 400, /unknown resource "nodes"/);
  refused(() => resolveResources(gpu, 'lots'), 400, /must be an object/);
  const roomy: Profile = { ...gpu, limits: { gpus: 4, memory: '128G', time: '2-00:00:00' } };
  assert.equal(resolveResources(roomy, { gpus: 4 }).gpus, 4);
  assert.equal(memoryMegabytes('1T'), 1024 * 1024);
  assert.equal(memoryMegabytes('512'), 512);
  assert.equal(memoryMegabytes('12X'), null);
});

test('profiles are checked against the schema, ids unique; defaults follow the seed', () => {
  assert.deepEqual(
    DEFAULT_PROFILES.map(p => [p.id, p.kernel, p.launcher.join(' ')]),
    [
      ['gpu', 'convcnp-gpu', 'pixi run -e gpu'],
      ['cpu', 'convcnp-cpu', 'pixi run -e default']
    ]
  );
  assert.equal(gpu.requireGpu, true);
  assert.equal(validateProfiles({ profiles: DEFAULT_PROFILES }).length, 2);
  assert.throws(
    () => validateProfiles({ profiles: [{ id: 'x' }] }),
    /does not match the profiles schema: .*required property 'label'/
  );
  assert.throws(
    () => validateProfiles({ profiles: [{ ...gpu, resources: { gpus: -1 } }] }),
    /gpus must be >= 0/
  );
  assert.throws(() => validateProfiles({ profiles: [gpu, gpu] }), /used twice/);
  assert.throws(
    () => validateProfiles({ profiles: [{ ...gpu, kernel: 'a b' }] }),
    /kernel must match pattern/
  );
});

test('the job environment carries no credential', () => {
  const env = jobEnvironment(
    {
      PATH: '/usr/bin',
      HOME: '/home/a',
      JUPYTERHUB_API_TOKEN: 'x',
      JPY_API_TOKEN: 'y',
      JUPYTER_TOKEN: 'z',
      MY_SECRET: 's',
      DB_PASSWORD: 'p',
      AWS_SECRET_ACCESS_KEY: 'k',
      JUPYTERHUB_USER: 'alice'
    },
    { HPC_SUBMIT_JOB_ID: '1' }
  );
  assert.deepEqual(Object.keys(env).sort(), [
    'HOME',
    'HPC_SUBMIT_JOB_ID',
    'JUPYTERHUB_USER',
    'PATH'
  ]);
  assert.equal(isSecretName('GITHUB_TOKEN'), true);
  assert.equal(isSecretName('CUDA_VISIBLE_DEVICES'), false);
});

test('the store: ids sort by time, writes are atomic, the index survives a restart and a corrupt record', async () => {
  const state = mkdtempSync(join(tmpdir(), 'store-'));
  try {
    const a = newJobId(new Date('2026-01-01T00:00:00Z'));
    const b = newJobId(new Date('2026-01-02T00:00:00Z'));
    assert.match(a, JOB_ID);
    assert.ok(a < b);
    const store = new JobStore(state);
    store.load();
    const base = {
      notebook: 'n.ipynb',
      output: 'executed/n_executed.ipynb',
      profile: 'cpu',
      kernel: 'k',
      resources: {},
      executor: 'local' as const,
      schedulerId: null
    };
    await store.create({
      ...base,
      id: a,
      state: 'completed',
      submittedAt: '2026-01-01T00:00:00Z',
      idempotencyKey: 'key'
    });
    await store.create({
      ...base,
      id: b,
      state: 'queued',
      submittedAt: '2026-01-02T00:00:00Z',
      cancelRequested: true
    });
    mkdirSync(join(state, 'jobs', '20260103-000000-badbad'));
    writeFileSync(join(state, 'jobs', '20260103-000000-badbad', 'job.json'), '{"id": "20260103-0');
    const again = new JobStore(state);
    const { loaded, skipped } = again.load();
    assert.equal(loaded, 2);
    assert.deepEqual(skipped, ['20260103-000000-badbad']);
    assert.deepEqual(
      again.list().map(j => j.id),
      [b, a]
    );
    assert.deepEqual(
      again.live().map(j => j.id),
      [b]
    );
    assert.equal(again.byIdempotencyKey('key')?.id, a);
    assert.equal('cancelRequested' in toWire(again.get(b)!), false);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('events are framed as SSE; tokens compare exactly', () => {
  assert.equal(frame({ type: 'forget', id: 'x' }), 'event: forget\ndata: {"id":"x"}\n\n');
  assert.match(
    frame({ type: 'scheduler', reachable: false, message: 'down' }),
    /^event: scheduler\ndata: \{"reachable":false,"message":"down"\}\n\n$/
  );
  assert.equal(tokenMatches('abc', 'abc'), true);
  assert.equal(tokenMatches('abc', 'abcd'), false);
  assert.equal(tokenMatches('abc', undefined), false);
});

test('a browser write needs X-XSRFToken equal to its _xsrf cookie; reads and cookieless clients do not', () => {
  const cookies = 'jupyterhub-user-alice=s3cret; _xsrf=2|abc|def|1; other=x';
  assert.deepEqual(cookieValues(cookies, '_xsrf'), ['2|abc|def|1']);
  assert.deepEqual(cookieValues('_xsrf=one; a=b; _xsrf=two', '_xsrf'), ['one', 'two']);
  assert.deepEqual(cookieValues(undefined, '_xsrf'), []);
  // What another site can make the browser send: the cookies, no header.
  assert.equal(xsrfAllows('POST', cookies, undefined), false);
  assert.equal(xsrfAllows('DELETE', cookies, undefined), false);
  assert.equal(xsrfAllows('POST', cookies, 'guess'), false);
  assert.equal(
    xsrfAllows('POST', 'jupyterhub-user-alice=s3cret', 'anything'),
    false,
    'no _xsrf cookie to match'
  );
  assert.equal(xsrfAllows('POST', '_xsrf=', ''), false, 'empty is not a token');
  // What JupyterLab sends.
  assert.equal(xsrfAllows('POST', cookies, '2|abc|def|1'), true);
  assert.equal(xsrfAllows('DELETE', '_xsrf=one; _xsrf=two', 'two'), true);
  // Reads change nothing; a client without cookies (CLI, token) cannot be forged.
  assert.equal(xsrfAllows('GET', cookies, undefined), true);
  assert.equal(xsrfAllows('POST', undefined, undefined), true);
});
