/**
 * The per-user cost on a hub (issue 20, item 4), through a real Jupyter server
 * with this extension: the companion jupyter-server-proxy starts exits once it
 * has been idle for HPC_SUBMIT_IDLE_EXIT_MINUTES, the next request through the
 * proxy is answered by a new one, and an open event stream (a sidebar) keeps
 * it running. The server imports this checkout's jupyterlab_hpc_submit
 * (PYTHONPATH), so proxy.py and the bundle `npm run build:companion` wrote
 * are the ones under test, whatever .venv has installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { until } from '../fixtures/companion';
import { describeUnless } from '../fixtures/skip';

const REPO = resolve(__dirname, '..', '..');
const VENV_BIN = join(REPO, '.venv', 'bin');
const BUNDLE = join(REPO, 'jupyterlab_hpc_submit', 'companion', 'hpc-submit.cjs');
const TOKEN = 'proxy-idle-test-token';
// 3 s: long enough for a request to come and go, short enough to wait for a few times over.
const IDLE_MINUTES = 0.05;
const IDLE_MS = IDLE_MINUTES * 60_000;
// The companion's keep-alive on an event stream (server/http/events.ts): the proxy learns of a
// browser that went away when it passes one on.
const HEARTBEAT_MS = 15_000;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

/** Alive and not a zombie: an exited companion the Jupyter server has not reaped yet is gone too. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function unavailable(): string | null {
  if (!existsSync(join(VENV_BIN, 'jupyter-server'))) {
    return 'jupyter-server is not in .venv (scripts/setup.sh)';
  }
  if (!existsSync(BUNDLE)) {
    return 'the companion bundle is missing (npm run build:companion)';
  }
  return null;
}

describeUnless(unavailable())(
  'idle exit of the proxied companion, through a real Jupyter server',
  () => {
    let dir: string;
    let state: string;
    let server: ChildProcess;
    let base: string;
    let serverLog = '';

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'hpc-submit-idle-'));
      state = join(dir, 'state');
      mkdirSync(join(dir, 'root'));
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${VENV_BIN}:${process.env.PATH}`,
        PYTHONPATH: [REPO, process.env.PYTHONPATH].filter(Boolean).join(':'),
        HPC_SUBMIT_IDLE_EXIT_MINUTES: String(IDLE_MINUTES),
        HPC_SUBMIT_EXECUTOR: 'local',
        HPC_SUBMIT_STATE_DIR: state,
        JUPYTER_CONFIG_DIR: join(dir, 'config'),
        JUPYTER_RUNTIME_DIR: join(dir, 'runtime')
      };
      delete env.HPC_SUBMIT_PROFILES;
      server = spawn(
        join(VENV_BIN, 'jupyter-server'),
        [
          `--port=${port}`,
          '--ip=127.0.0.1',
          `--IdentityProvider.token=${TOKEN}`,
          `--ServerApp.root_dir=${join(dir, 'root')}`,
          '--no-browser',
          '--allow-root'
        ],
        { env, stdio: ['ignore', 'ignore', 'pipe'] }
      );
      server.stderr!.on('data', chunk => (serverLog += String(chunk)));
      await until(
        'the Jupyter server',
        async () => {
          try {
            return (await fetch(`${base}/api/status?token=${TOKEN}`)).ok;
          } catch {
            return false;
          }
        },
        30_000
      );
    }, 60_000);

    afterAll(() => {
      server?.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });

    const health = () =>
      fetch(`${base}/hpc-submit/api/health`, { headers: { Authorization: `token ${TOKEN}` } });

    /** The pids of the companions whose files the state directory holds. */
    const companionPids = (): number[] =>
      existsSync(join(state, 'companions'))
        ? readdirSync(join(state, 'companions'))
            .map(name => /-(\d+)\.json$/.exec(name)?.[1])
            .filter((pid): pid is string => pid !== undefined)
            .map(Number)
        : [];

    /** The one running companion, once its file is written. */
    const theCompanion = () =>
      until('the companion file', () => {
        const pids = companionPids().filter(running);
        return pids.length === 1 ? pids[0] : null;
      });

    /** Waits for the companion to exit by itself; answers how long it took. */
    async function exitOf(pid: number): Promise<number> {
      const from = performance.now();
      await until(`companion ${pid} to exit`, () => !running(pid), IDLE_MS + 3 * HEARTBEAT_MS);
      return performance.now() - from;
    }

    it('exits once idle, and the next request through the proxy starts a new companion that answers it', async () => {
      // The first request starts the companion behind the proxy.
      const first = await until('the companion', async () => {
        const res = await health();
        return res.ok ? res : null;
      });
      expect(await first.json()).toMatchObject({ ok: true, executor: 'local' });
      const pid = await theCompanion();

      await exitOf(pid);
      expect(companionPids()).not.toContain(pid); // a clean exit: it removed its own file

      const t0 = performance.now();
      const again = await health();
      const restartMs = performance.now() - t0;
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ ok: true, executor: 'local' });
      const next = await theCompanion();
      expect(next).not.toBe(pid);
      expect(serverLog).toMatch(/hpc-submit: the companion exited \(code 0\); starting it again/);
      console.log(
        `first request after the idle exit, through jupyter-server-proxy: ${restartMs.toFixed(0)} ms (new companion pid ${next})`
      );

      // And again: the restart is not a one-off.
      await exitOf(next);
      const third = await health();
      expect(third.status).toBe(200);
      expect(await theCompanion()).not.toBe(next);
    }, 120_000);

    it('keeps running while an event stream is open, and exits once it closes', async () => {
      const pid = await theCompanion();
      const stream = new AbortController();
      // The proxy streams only what asks for text/event-stream; it buffers anything else to the end.
      const res = await fetch(`${base}/hpc-submit/api/events`, {
        headers: { Authorization: `token ${TOKEN}`, Accept: 'text/event-stream' },
        signal: stream.signal
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const read = reader.read().catch(() => null);
      await sleep(3 * IDLE_MS);
      expect(running(pid)).toBe(true);
      expect(await theCompanion()).toBe(pid);
      stream.abort();
      await read;
      // The proxy lets go of the companion's side at the next heartbeat: then the idle period starts.
      const tookMs = await exitOf(pid);
      expect(tookMs).toBeLessThan(IDLE_MS + 2 * HEARTBEAT_MS + 5_000);
    }, 120_000);
  }
);
