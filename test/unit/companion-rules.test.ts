import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frame } from '../../server/http/events';
import { isSecretName, jobEnvironment } from '../../server/env';
import { Refusal, type RefusalKind } from '../../server/jobs/refusal';
import { checkNotebookPath, resolveNotebook } from '../../server/jobs/paths';
import {
  DEFAULT_PROFILES,
  memoryMegabytes,
  resolveResources,
  validateProfiles
} from '../../server/jobs/profiles';
import { JOB_ID, JobStore, newJobId, toWire } from '../../server/jobs/store';
import { cookieValues, tokenMatches, xsrfAllows } from '../../server/http/auth';
import type { Profile, ServerEvent } from '../../contract/wire';
import { eventOf, SERVER_EVENT_TYPES } from '../../contract/rules';
import { testJob } from '../fixtures/wire';

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

const refused = (fn: () => unknown, kind: RefusalKind, message: RegExp) => {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(Refusal);
  expect(error).toMatchObject({ kind, message: expect.stringMatching(message) });
};

test('notebook paths: relative, inside, a notebook', () => {
  expect(checkNotebookPath('a//b/./c.ipynb')).toBe('a/b/c.ipynb');
  refused(() => checkNotebookPath('/etc/x.ipynb'), 'invalid', /not absolute/);
  refused(() => checkNotebookPath('a/../../x.ipynb'), 'invalid', /"\.\."/);
  refused(() => checkNotebookPath('x.py'), 'invalid', /not a notebook/);
  refused(() => checkNotebookPath(''), 'invalid', /relative to the Jupyter root/);
  refused(() => checkNotebookPath(42), 'invalid', /relative to the Jupyter root/);
  refused(() => checkNotebookPath('a\0.ipynb'), 'invalid', /NUL/);
});

test('notebook paths: "/" is the only separator; every other character is part of a name', () => {
  expect(checkNotebookPath('back\\slash.ipynb')).toBe('back\\slash.ipynb');
  expect(checkNotebookPath('a\\b/..\\c.ipynb')).toBe('a\\b/..\\c.ipynb');
  expect(checkNotebookPath('\\lead.ipynb')).toBe('\\lead.ipynb');
  expect(checkNotebookPath('C:drive.ipynb')).toBe('C:drive.ipynb');
  expect(checkNotebookPath('-x/--help.ipynb')).toBe('-x/--help.ipynb');
  expect(checkNotebookPath('--to=html.ipynb')).toBe('--to=html.ipynb');
  expect(checkNotebookPath('a #?%41 {b}.ipynb')).toBe('a #?%41 {b}.ipynb');
});

test('resolveNotebook follows symlinks only inside the root and checks the JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paths-'));
  const root = join(dir, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  const nb = JSON.stringify({ cells: [], nbformat: 4, metadata: {} });
  writeFileSync(join(root, 'sub', 'ok $(x).ipynb'), nb);
  mkdirSync(join(root, 'a\\b'));
  writeFileSync(join(root, 'a\\b', 'back\\slash.ipynb'), nb);
  writeFileSync(join(dir, 'out.ipynb'), nb);
  symlinkSync(join(dir, 'out.ipynb'), join(root, 'escape.ipynb'));
  symlinkSync(join(root, 'sub', 'ok $(x).ipynb'), join(root, 'inside.ipynb'));
  writeFileSync(join(root, 'nocells.ipynb'), '{"nbformat": 4}');
  mkdirSync(join(root, 'leaky'));
  writeFileSync(join(root, 'leaky', 'n.ipynb'), nb);
  symlinkSync(dir, join(root, 'leaky', 'executed'));
  try {
    const ok = await resolveNotebook(root, 'sub/ok $(x).ipynb');
    expect(ok.outputRelative).toBe('sub/executed/ok $(x)_executed.ipynb');
    expect(ok.dir).toBe(join(root, 'sub'));
    const backslash = await resolveNotebook(root, 'a\\b/back\\slash.ipynb');
    expect(backslash.absolute).toBe(join(root, 'a\\b', 'back\\slash.ipynb'));
    expect(backslash.outputRelative).toBe('a\\b/executed/back\\slash_executed.ipynb');
    await expect(resolveNotebook(root, 'sub\\ok $(x).ipynb')).rejects.toMatchObject({
      kind: 'not-found'
    });
    expect((await resolveNotebook(root, 'inside.ipynb')).outputRelative).toBe(
      'sub/executed/ok $(x)_executed.ipynb'
    );
    await expect(resolveNotebook(root, 'escape.ipynb')).rejects.toThrow(/outside the Jupyter root/);
    await expect(resolveNotebook(root, 'nocells.ipynb')).rejects.toThrow(/no "cells"/);
    await expect(resolveNotebook(root, 'leaky/n.ipynb')).rejects.toThrow(
      /output directory .* outside the Jupyter root/
    );
    await expect(resolveNotebook(root, 'none.ipynb')).rejects.toMatchObject({ kind: 'not-found' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resolveNotebook refuses a notebook with "<its name>.ipynb" beside it, which nbconvert would run too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paths-'));
  const nb = JSON.stringify({ cells: [], nbformat: 4, metadata: {} });
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'x.ipynb'), nb);
  writeFileSync(join(dir, 'sub', 'x.ipynb.ipynb'), nb);
  writeFileSync(join(dir, 'y.ipynb'), nb);
  symlinkSync(join(dir, 'gone'), join(dir, 'y.ipynb.ipynb'));
  symlinkSync(join(dir, 'sub', 'x.ipynb'), join(dir, 'link.ipynb'));
  try {
    await expect(resolveNotebook(dir, 'sub/x.ipynb')).rejects.toMatchObject({
      kind: 'invalid',
      message:
        'a file named "sub/x.ipynb.ipynb" lies beside "sub/x.ipynb": ' +
        'nbconvert would run it too and overwrite the output; rename one of them'
    });
    // A broken link is matched by nbconvert's glob all the same.
    await expect(resolveNotebook(dir, 'y.ipynb')).rejects.toThrow(
      /^a file named "y\.ipynb\.ipynb" lies beside "y\.ipynb"/
    );
    // The sibling that counts is the one beside the notebook a link leads to.
    await expect(resolveNotebook(dir, 'link.ipynb')).rejects.toThrow(
      /"sub\/x\.ipynb\.ipynb" lies beside "sub\/x\.ipynb"/
    );
    // The longer name alone is an ordinary notebook.
    expect((await resolveNotebook(dir, 'sub/x.ipynb.ipynb')).outputName).toBe(
      'x.ipynb_executed.ipynb'
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const gpu = DEFAULT_PROFILES.find(p => p.id === 'gpu') as Profile;

test('resources: defaults, overrides within limits, clear refusals', () => {
  expect(resolveResources(gpu, undefined)).toStrictEqual(gpu.resources);
  expect(resolveResources(gpu, { time: '01:00:00', memory: '16G' })).toStrictEqual({
    ...gpu.resources,
    time: '01:00:00',
    memory: '16G'
  });
  refused(() => resolveResources(gpu, { gpus: 2 }), 'invalid', /at most 1 gpus/);
  refused(() => resolveResources(gpu, { memory: '64G' }), 'invalid', /at most 32G/);
  refused(() => resolveResources(gpu, { time: '1-00:00:00' }), 'invalid', /at most 04:00:00/);
  refused(() => resolveResources(gpu, { cpus: 1.5 }), 'invalid', /whole number/);
  refused(() => resolveResources(gpu, { partition: 'cpu' }), 'invalid', /runs on partition gpu/);
  refused(() => resolveResources(gpu, { nodes: 4 }), 'invalid', /unknown resource "nodes"/);
  refused(() => resolveResources(gpu, 'lots'), 'invalid', /must be an object/);
  const roomy: Profile = { ...gpu, limits: { gpus: 4, memory: '128G', time: '2-00:00:00' } };
  expect(resolveResources(roomy, { gpus: 4 }).gpus).toBe(4);
  expect(memoryMegabytes('1T')).toBe(1024 * 1024);
  expect(memoryMegabytes('512')).toBe(512);
  expect(memoryMegabytes('12X')).toBe(null);
});

test('profiles are checked against the schema, ids unique; defaults are the two pixi environments, gpu and default', () => {
  expect(DEFAULT_PROFILES.map(p => [p.id, p.kernel, p.launcher.join(' ')])).toStrictEqual([
    ['gpu', 'convcnp-gpu', 'pixi run -e gpu'],
    ['cpu', 'convcnp-cpu', 'pixi run -e default']
  ]);
  expect(gpu.requireGpu).toBe(true);
  expect(validateProfiles({ profiles: DEFAULT_PROFILES }).length).toBe(2);
  expect(() => validateProfiles({ profiles: [{ id: 'x' }] })).toThrow(
    /does not match the profiles schema: .*required property 'label'/
  );
  expect(() => validateProfiles({ profiles: [{ ...gpu, resources: { gpus: -1 } }] })).toThrow(
    /gpus must be >= 0/
  );
  expect(() => validateProfiles({ profiles: [gpu, gpu] })).toThrow(/used twice/);
  expect(() => validateProfiles({ profiles: [{ ...gpu, kernel: 'a b' }] })).toThrow(
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
  expect(Object.keys(env).sort()).toStrictEqual([
    'HOME',
    'HPC_SUBMIT_JOB_ID',
    'JUPYTERHUB_USER',
    'PATH'
  ]);
  expect(isSecretName('GITHUB_TOKEN')).toBe(true);
  expect(isSecretName('HPC_SUBMIT_WEBHOOK_URL')).toBe(true);
  expect(isSecretName('CUDA_VISIBLE_DEVICES')).toBe(false);
});

test('the store: ids sort by time, writes are atomic, the index survives a restart and a corrupt record', async () => {
  const state = mkdtempSync(join(tmpdir(), 'store-'));
  try {
    const a = newJobId(new Date('2026-01-01T00:00:00Z'));
    const b = newJobId(new Date('2026-01-02T00:00:00Z'));
    expect(a).toMatch(JOB_ID);
    expect(a < b).toBe(true);
    const store = new JobStore(state, '/home/u');
    store.load();
    const base = {
      notebook: 'n.ipynb',
      output: 'executed/n_executed.ipynb',
      notebookPath: '/home/u/n.ipynb',
      outputPath: '/home/u/executed/n_executed.ipynb',
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
    const again = new JobStore(state, '/home/u');
    const { loaded, skipped } = again.load();
    expect(loaded).toBe(2);
    expect(skipped).toStrictEqual(['20260103-000000-badbad']);
    expect(again.list().map(j => j.id)).toStrictEqual([b, a]);
    expect(again.live().map(j => j.id)).toStrictEqual([b]);
    expect(again.byIdempotencyKey('key')?.id).toBe(a);
    expect('cancelRequested' in toWire(again.get(b)!, '/home/u')).toBe(false);
    expect('notebookPath' in toWire(again.get(b)!, '/home/u')).toBe(false);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});

test('events are framed as SSE; tokens compare exactly', () => {
  expect(frame({ type: 'forget', id: 'x' })).toBe('event: forget\ndata: {"id":"x"}\n\n');
  expect(frame({ type: 'scheduler', reachable: false, message: 'down' })).toMatch(
    /^event: scheduler\ndata: \{"reachable":false,"message":"down"\}\n\n$/
  );
  expect(tokenMatches('abc', 'abc')).toBe(true);
  expect(tokenMatches('abc', 'abcd')).toBe(false);
  expect(tokenMatches('abc', undefined)).toBe(false);
});

test('what the companion frames, the browser reads back as the same event, for every event type', () => {
  const events: ServerEvent[] = [
    { type: 'job', job: testJob({ id: 'j9', state: 'running' }) },
    { type: 'forget', id: 'j9' },
    { type: 'scheduler', reachable: false, message: 'slurmctld down' }
  ];
  expect(events.map(e => e.type)).toStrictEqual([...SERVER_EVENT_TYPES]);
  for (const event of events) {
    const [, type, data] = /^event: (\w+)\ndata: (.*)\n\n$/.exec(frame(event)) ?? [];
    expect(eventOf(type as ServerEvent['type'], JSON.parse(data))).toStrictEqual(event);
  }
});

test('a browser write needs X-XSRFToken equal to its _xsrf cookie; reads and cookieless clients do not', () => {
  const cookies = 'jupyterhub-user-alice=s3cret; _xsrf=2|abc|def|1; other=x';
  expect(cookieValues(cookies, '_xsrf')).toStrictEqual(['2|abc|def|1']);
  expect(cookieValues('_xsrf=one; a=b; _xsrf=two', '_xsrf')).toStrictEqual(['one', 'two']);
  expect(cookieValues(undefined, '_xsrf')).toStrictEqual([]);
  // What another site can make the browser send: the cookies, no header.
  expect(xsrfAllows('POST', cookies, undefined)).toBe(false);
  expect(xsrfAllows('DELETE', cookies, undefined)).toBe(false);
  expect(xsrfAllows('POST', cookies, 'guess')).toBe(false);
  // No _xsrf cookie to match.
  expect(xsrfAllows('POST', 'jupyterhub-user-alice=s3cret', 'anything')).toBe(false);
  // Empty is not a token.
  expect(xsrfAllows('POST', '_xsrf=', '')).toBe(false);
  // What JupyterLab sends.
  expect(xsrfAllows('POST', cookies, '2|abc|def|1')).toBe(true);
  expect(xsrfAllows('DELETE', '_xsrf=one; _xsrf=two', 'two')).toBe(true);
  // Reads change nothing; a client without cookies (CLI, token) cannot be forged.
  expect(xsrfAllows('GET', cookies, undefined)).toBe(true);
  expect(xsrfAllows('POST', undefined, undefined)).toBe(true);
});
