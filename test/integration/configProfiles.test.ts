/**
 * Profiles where Jupyter keeps configuration (issue 20, item 1), through a real
 * Jupyter server with this extension: its jupyter-server-proxy starts the
 * companion, whose profiles come only from hpc_submit/profiles.json in the
 * directories jupyter_core lists — a site file in JUPYTER_CONFIG_PATH, the
 * user's own in JUPYTER_CONFIG_DIR overriding one by id, a broken file named
 * while the others load.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ProfileList } from '../../contract/wire';
import { until } from '../fixtures/companion';
import { describeUnless } from '../fixtures/skip';

const VENV_BIN = resolve(__dirname, '..', '..', '.venv', 'bin');
const TOKEN = 'config-profiles-test-token';

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

const profile = (id: string, label: string) => ({
  id,
  label,
  kernel: 'python3',
  launcher: [],
  resources: id === 'gpu' ? { gpus: 1 } : {}
});

describeUnless(
  existsSync(join(VENV_BIN, 'jupyter-server'))
    ? null
    : 'jupyter-server is not in .venv (scripts/setup.sh)'
)('profiles from Jupyter config directories, through a real Jupyter server', () => {
  let dir: string;
  let server: ChildProcess;
  let base: string;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-submit-config-'));
    const write = (name: string, content: string) => {
      mkdirSync(join(dir, name, 'hpc_submit'), { recursive: true });
      files[name] = join(dir, name, 'hpc_submit', 'profiles.json');
      writeFileSync(files[name], content);
    };
    write(
      'site',
      JSON.stringify({ profiles: [profile('cpu', 'Site CPU'), profile('gpu', 'Site GPU')] })
    );
    write('user', JSON.stringify({ profiles: [profile('gpu', 'My GPU')] }));
    write('broken', '{"profiles": [');
    mkdirSync(join(dir, 'root'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${VENV_BIN}:${process.env.PATH}`,
      JUPYTER_CONFIG_DIR: join(dir, 'user'),
      // jupyter_core ranks JUPYTER_CONFIG_PATH above JUPYTER_CONFIG_DIR, so the
      // user's directory is listed first here too, to override the site's file.
      JUPYTER_CONFIG_PATH: [join(dir, 'user'), join(dir, 'broken'), join(dir, 'site')].join(':'),
      HPC_SUBMIT_EXECUTOR: 'local',
      HPC_SUBMIT_STATE_DIR: join(dir, 'state'),
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
      { env, stdio: 'ignore' }
    );
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

  it('lists the merged profiles with their files, and names the broken one', async () => {
    // The first request starts the companion behind the proxy.
    const answer = await until(
      'the companion',
      async () => {
        const res = await fetch(`${base}/hpc-submit/api/profiles`, {
          headers: { Authorization: `token ${TOKEN}` }
        });
        return res.ok ? ((await res.json()) as ProfileList) : null;
      },
      30_000
    );
    expect(answer.profiles.map(p => [p.id, p.label, p.source]).sort()).toEqual([
      ['cpu', 'Site CPU', files.site],
      ['gpu', 'My GPU', files.user]
    ]);
    expect(answer.problems).toHaveLength(1);
    expect(answer.problems![0]).toContain(files.broken);
    expect(answer.problems![0]).toContain('Unexpected end of JSON input');
  }, 60_000);
});
