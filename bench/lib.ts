/** Shared pieces of the benchmark: the test user, temp trees, the companion, sdiag. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Profile } from '../contract/wire';
import { readEvents } from '../test/fixtures/companion';
import { writeTestProfiles } from '../test/fixtures/profiles';

/** The benchmark's notebooks: code cells after a markdown one. */
export { notebookJson as notebook } from '../test/fixtures/jobRuntime';

export const REPO = resolve(__dirname, '..');
export const PYTHON = join(REPO, '.venv', 'bin', 'python');
export const BUNDLE = join(REPO, 'jupyterlab_hpc_submit', 'companion', 'hpc-submit.cjs');
export const USER = 'hpcuser';

export function userIds(name = USER): { uid: number; gid: number; home: string } {
  const [uid] = execFileSync('id', ['-u', name], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map(Number);
  const g = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  const home = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':')[5];
  return { uid, gid: g, home };
}

export function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) {
    for (const e of readdirSync(path)) {
      chownTree(join(path, e), uid, gid);
    }
  }
}

export function tempTree(prefix: string): string {
  const dir = mkdtempSync(join('/tmp', prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** The CPU profile (as the test profiles, on the partition cpu; `extra` changes it) and a GPU one. */
export function writeProfiles(path: string, extra: Partial<Profile> = {}): void {
  writeTestProfiles(
    path,
    {
      python: PYTHON,
      resources: { partition: 'cpu', cpus: 1, memory: '200M', time: '00:10:00' },
      ...extra
    },
    {
      id: 'gpu',
      label: 'GPU node',
      python: PYTHON,
      resources: { partition: 'gpu', gpus: 1, cpus: 1, memory: '200M', time: '00:10:00' },
      requireGpu: true
    }
  );
}

export interface Running {
  url: string;
  token: string;
  proc: ChildProcess;
  startedMs: number;
  get(path: string): Promise<{ status: number; body: any; ms: number }>;
  post(path: string, body?: unknown): Promise<{ status: number; body: any; ms: number }>;
  stop(): Promise<void>;
}

/** The bundled companion, as `user` when given. Resolves once it answers /api/health. */
export async function companion(opts: {
  root: string;
  state: string;
  profiles: string;
  executor: 'slurm' | 'local';
  pollSeconds?: number;
  user?: string;
}): Promise<Running> {
  const token = 'bench-' + Math.random().toString(36).slice(2);
  const args = [
    BUNDLE,
    'serve',
    '--executor',
    opts.executor,
    '--port',
    '0',
    '--token',
    token,
    '--root-dir',
    opts.root,
    '--state-dir',
    opts.state,
    '--profiles',
    opts.profiles
  ];
  if (opts.pollSeconds) {
    args.push('--poll-interval', String(opts.pollSeconds));
  }
  const t0 = performance.now();
  const proc = opts.user
    ? spawn(
        'runuser',
        [
          '-u',
          opts.user,
          '--',
          'env',
          `HOME=${userIds(opts.user).home}`,
          process.execPath,
          ...args
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] }
      )
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', d => (out += d));
  proc.stderr!.on('data', d => (out += d));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`companion did not start: ${out}`)), 20_000);
    proc.stdout!.on('data', () => {
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const s = performance.now();
    const res = await fetch(new URL(path, url), {
      method,
      headers: {
        Authorization: `token ${token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {})
      },
      body: body ? JSON.stringify(body) : undefined
    });
    const text = await res.text();
    const ms = performance.now() - s;
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // text
    }
    return { status: res.status, body: parsed, ms };
  };
  return {
    url,
    token,
    proc,
    startedMs: performance.now() - t0,
    get: p => call('GET', p),
    post: (p, b) => call('POST', p, b),
    stop: async () => {
      if (proc.exitCode !== null) {
        return;
      }
      const done = new Promise(r => proc.once('exit', r));
      proc.kill('SIGTERM');
      await done;
    }
  };
}

/** Slurm RPCs made by one user since the last reset (sdiag's per-user section). */
export function sdiagUserCount(user = USER): number {
  const text = execFileSync('sdiag', { encoding: 'utf8' });
  const section = text.split('Remote Procedure Call statistics by user')[1] ?? '';
  const m = new RegExp(`^\\s*${user}\\s*\\(\\s*\\d+\\)\\s*count:(\\d+)`, 'm').exec(section);
  return m ? Number(m[1]) : 0;
}

/** Job-information RPCs (what squeue asks for), from sdiag's per-message-type section. */
export function sdiagJobInfoCount(): number {
  const text = execFileSync('sdiag', { encoding: 'utf8' });
  const section = (text.split('Remote Procedure Call statistics by message type')[1] ?? '').split(
    'Remote Procedure Call statistics by user'
  )[0];
  let n = 0;
  for (const m of section.matchAll(/^\s*REQUEST_JOB_INFO\w*\s*\(\s*\d+\)\s*count:(\d+)/gm)) {
    n += Number(m[1]);
  }
  return n;
}

export function sdiagReset(): void {
  execFileSync('sdiag', ['--reset']);
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function mkdirs(...paths: string[]): void {
  for (const p of paths) {
    mkdirSync(p, { recursive: true });
  }
}

/** Opens n SSE streams; answers a closer and the arrival log of `job` events. */
export function streams(
  c: Running,
  n: number
): { close(): void; events: { at: number; job: any }[] } {
  const events: { at: number; job: any }[] = [];
  const controllers: AbortController[] = [];
  for (let i = 0; i < n; i++) {
    const ac = new AbortController();
    controllers.push(ac);
    void readEvents(c, ac.signal, (type, data) => {
      if (type === 'job' && i === 0) {
        events.push({ at: Date.now(), job: JSON.parse(data) });
      }
    });
  }
  return { close: () => controllers.forEach(c => c.abort()), events };
}
