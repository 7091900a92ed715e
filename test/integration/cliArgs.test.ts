/**
 * The command line's arguments, as a new user meets them: help and mistakes
 * start nothing; a companion the CLI started in the background exits by
 * itself once idle, and the next command starts another.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import { join } from 'node:path';
import { type CliResult, runCli } from '../fixtures/cli';
import { REPO, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';

const VERSION = (
  JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }
).version;
// 3 s: long enough for a CLI command to finish, short enough to wait for.
const IDLE_MINUTES = '0.05';

let dir: string, root: string, profiles: string;

/** The CLI with its state in <data>/jupyterlab-hpc-submit, as XDG_DATA_HOME places it. */
function cli(data: string, args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return runCli(args, { cwd: root, profiles, state: { dataHome: data }, env });
}

const stateOf = (data: string) => join(data, 'jupyterlab-hpc-submit');

/** Running companions whose command line names this folder (zombies are not running). */
function companionsUnder(folder: string): number[] {
  return readdirSync('/proc')
    .filter(name => /^\d+$/.test(name))
    .map(Number)
    .filter(pid => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.includes('serve') && args.some(a => a.includes(folder)) && isRunning(pid);
      } catch {
        return false; // gone meanwhile
      }
    });
}

/** The companion's parent exits at once: when no init reaps it, it stays a zombie, not running. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) {
      throw new Error(`not within ${ms} ms: ${what}`);
    }
    await new Promise(r => setTimeout(r, 100));
  }
  return Date.now() - t0;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

const companionsOf = (data: string) => join(stateOf(data), 'companions');

/** The one companion file in the state directory (each test's companion is alone there). */
function companionFile(data: string): { pid: number; url: string } {
  const names = existsSync(companionsOf(data)) ? readdirSync(companionsOf(data)) : [];
  expect(names).toHaveLength(1);
  return JSON.parse(readFileSync(join(companionsOf(data), names[0]), 'utf8'));
}

/** Opens GET /api/events as the sidebar does; resolves once the stream has begun. */
function openEventStream(data: string): Promise<ClientRequest> {
  const url = new URL(companionFile(data).url);
  const token = readFileSync(join(stateOf(data), 'token'), 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: Number(url.port),
        path: '/api/events',
        headers: { Authorization: `token ${token}` }
      },
      res => {
        expect(res.statusCode).toBe(200);
        res.once('data', () => resolve(req));
      }
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(() => {
  dir = tempDir('hpc-cli-args-');
  root = join(dir, 'work');
  mkdirSync(join(root, 'nbs'), { recursive: true });
  writeFileSync(
    join(root, 'nbs', 'sleep.ipynb'),
    notebookJson(['import time\ntime.sleep(10)\nprint("slept")'])
  );
  profiles = writeTestProfiles(join(dir, 'profiles.json'), { resources: { cpus: 1 } });
});

afterAll(() => {
  for (const pid of companionsUnder(dir)) {
    process.kill(pid, 'SIGTERM');
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('hpc-submit help, version and mistakes start nothing', () => {
  let data: string;
  beforeEach(() => {
    data = mkdtempSync(join(dir, 'data-'));
  });
  afterEach(() => {
    // Not even the state directory: nothing was started, nothing written.
    expect(existsSync(stateOf(data))).toBe(false);
    expect(companionsUnder(data)).toEqual([]);
  });

  it.each([[['--help']], [['-h']], [['help']], [[]], [['--state-dir', 'x', '--help']]])(
    '%j prints the commands and exits 0',
    args => {
      const r = cli(data, args);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^usage: hpc-submit <command> \[options\]\n/);
      for (const command of ['run NOTEBOOK', 'list', 'status ID', 'logs ID', 'cancel ID']) {
        expect(r.stdout).toContain(`\n  ${command} `);
      }
      expect(r.stdout).toContain('HPC_SUBMIT_IDLE_EXIT_MINUTES');
    }
  );

  it.each([[['help', 'run']], [['run', '--help']], [['run', '-h', 'nbs/missing.ipynb']]])(
    "%j prints run's options and exits 0",
    args => {
      const r = cli(data, args);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^usage: hpc-submit run NOTEBOOK \[options\]\n/);
      expect(r.stdout).toMatch(/\n {2}--wait +wait until the job ends/);
      expect(r.stdout).toMatch(/\n {2}--profile ID +resource profile/);
      expect(r.stdout).toMatch(
        /\n {2}-p, --parameters NAME VALUE\n +a parameter, as papermill's -p/
      );
      expect(r.stdout).toMatch(/\n {2}-y, --parameters-yaml YAML\n +parameters as YAML/);
      expect(r.stdout).toMatch(/\n {2}--sweep NAME VALUES +one run per value/);
      expect(r.stdout).toMatch(/\n {2}--max-parallel K +at most K runs/);
    }
  );

  it('list --help names --tasks', () => {
    const r = cli(data, ['list', '--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/\n {2}--tasks +show each sweep's runs/);
  });

  it('serve --help does not serve', () => {
    const r = cli(data, ['serve', '--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/--idle-exit MINUTES +exit after MINUTES/);
  });

  it('--version prints the version', () => {
    expect(cli(data, ['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it.each([
    [['frobnicate'], /^hpc-submit: unknown command frobnicate\nusage: hpc-submit <command>/],
    [['--frobnicate'], /^hpc-submit: unknown option --frobnicate\nusage: hpc-submit <command>/],
    [
      ['list', '--frobnicate'],
      /^hpc-submit: list: unknown option --frobnicate\nusage: hpc-submit list/
    ],
    [['list', '--wait'], /^hpc-submit: list: unknown option --wait\n/],
    [['run'], /^hpc-submit: run: missing NOTEBOOK\nusage: hpc-submit run NOTEBOOK \[options\]/],
    [['run', 'nbs/typo.ipynb'], /^hpc-submit: run: no notebook at nbs\/typo\.ipynb\n/],
    [['status', 'a', 'b'], /^hpc-submit: status: unexpected argument b\n/],
    [['list', '--state-dir'], /^hpc-submit: list: --state-dir needs a value\n/],
    [
      ['list', '--executor', 'pbs'],
      /^hpc-submit: --executor must be auto, slurm or local, not pbs/
    ],
    [['help', 'frobnicate'], /^hpc-submit: unknown command frobnicate\n/],
    [['serve', '--port', 'eighty'], /^hpc-submit: --port must be a whole number 0\.\.65535/],
    [
      ['run', 'nbs/sleep.ipynb', '-p', 'lr'],
      /^hpc-submit: run: -p needs NAME VALUE\nusage: hpc-submit run/
    ],
    [
      ['run', 'nbs/sleep.ipynb', '--sweep', 'lr', '0.1'],
      /^hpc-submit: run: --sweep lr: the values must be a list, as '\[0\.1, 0\.01\]', not 0\.1\n/
    ],
    [
      ['run', 'nbs/sleep.ipynb', '--sweep', 'lr', '[1'],
      /^hpc-submit: run: --sweep lr: unexpected end/
    ],
    [['list', '-p', 'a', 'b'], /^hpc-submit: list: unknown option -p\nusage: hpc-submit list/],
    [['run', 'nbs/sleep.ipynb', '--zip'], /^hpc-submit: run: --zip needs --sweep\n/],
    [
      ['run', 'nbs/sleep.ipynb', '-p', 'x', 'inf'],
      /^hpc-submit: run: -p x: inf reads as infinity or NaN/
    ],
    [
      ['run', 'nbs/sleep.ipynb', '--sweep', 'a', '[1]', '--max-parallel', '0'],
      /^hpc-submit: --max-parallel must be a whole number >= 1, not 0\nusage: hpc-submit run/
    ]
  ])('%j says what is wrong with the usage line and exits 2', (args, message) => {
    const r = cli(data, args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nTry 'hpc-submit (--help|help \w+)'\.\n$/);
  });
});

describe('a companion the CLI started exits by itself when idle', () => {
  let data: string;
  const idle = { HPC_SUBMIT_IDLE_EXIT_MINUTES: IDLE_MINUTES };
  beforeAll(() => {
    data = join(dir, 'data');
  });

  it('exits after the idle period, removing its companion file', async () => {
    const r = cli(data, ['list'], idle);
    expect(r).toMatchObject({ code: 0, stdout: 'no jobs\n' });
    const { pid } = companionFile(data);
    expect(isRunning(pid)).toBe(true);
    const waited = await until('the idle companion exits', () => !isRunning(pid), 30_000);
    expect(waited).toBeGreaterThan(2000);
    expect(readdirSync(companionsOf(data))).toEqual([]);
    expect(readFileSync(join(stateOf(data), 'companion.log'), 'utf8')).toMatch(
      /no live job and no request for 0\.05 min: exiting/
    );
  });

  it('stays while an event stream is open, and exits once it closes', async () => {
    const r = cli(data, ['list'], idle);
    expect(r).toMatchObject({ code: 0, stdout: 'no jobs\n' });
    const { pid } = companionFile(data);
    const stream = await openEventStream(data);
    await sleep(7000);
    expect(isRunning(pid)).toBe(true);
    stream.destroy();
    await until('the companion exits after the stream closed', () => !isRunning(pid), 30_000);
  });

  it('stays while a job is live; the next command starts another that knows the job', async () => {
    const run = cli(data, ['run', 'nbs/sleep.ipynb', '--profile', 'cpu'], idle);
    expect(run.code).toBe(0);
    const id = run.stdout.split(/\s+/)[0];
    const { pid } = companionFile(data);
    // Nobody asks: only the live job keeps it, well past the idle period.
    await sleep(7000);
    expect(isRunning(pid)).toBe(true);
    await until('the companion exits after the job ended', () => !isRunning(pid), 90_000);

    const list = cli(data, ['list'], idle);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+completed\\s+cpu\\s+nbs/sleep\\.ipynb`));
    expect(companionFile(data).pid).not.toBe(pid);
  });

  it('a companion file left by a killed companion is removed and another started', async () => {
    expect(cli(data, ['list'], idle).code).toBe(0);
    const { pid } = companionFile(data);
    process.kill(pid, 'SIGKILL');
    await until('the companion is gone', () => !isRunning(pid), 10_000);
    const r = cli(data, ['list'], idle);
    expect(r.code).toBe(0);
    expect(companionFile(data).pid).not.toBe(pid);
  });
});
