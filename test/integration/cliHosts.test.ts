/**
 * Several companions over one state directory, as the hub and a login node
 * sharing a home directory make them: the CLI keeps to its own host's
 * companions (their sockets and ports are reachable from there only), picks
 * one whose root holds the notebook or starts one, and every companion lists
 * every run.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CompanionFile } from '../../contract/wire';
import { type CliResult, runCli } from '../fixtures/cli';
import { notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';

const HOST = hostname();
const OTHER_HOST = 'hub-node.example';

let dir: string, data: string, state: string, rootA: string, rootB: string, profiles: string;

/** The CLI run from `cwd`, its state in <data>/jupyterlab-hpc-submit as XDG_DATA_HOME places it. */
function cli(cwd: string, args: string[], dataHome = data): CliResult {
  // The companions stay for the whole file; afterAll stops them.
  return runCli(args, { cwd, profiles, state: { dataHome }, idleExitMinutes: '10' });
}

const companionsDir = () => join(state, 'companions');

/** The companion files of this host, by their content. */
function ownCompanions(): CompanionFile[] {
  if (!existsSync(companionsDir())) {
    return [];
  }
  return readdirSync(companionsDir())
    .filter(name => name.startsWith(`${HOST}-`) && name.endsWith('.json'))
    .map(name => JSON.parse(readFileSync(join(companionsDir(), name), 'utf8')) as CompanionFile);
}

const roots = () => ownCompanions().map(c => c.rootDir);

/** A pid no process has: that of a process that ran and was reaped. */
function deadPid(): number {
  const pid = spawnSync('true').pid as number;
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

function writeForeign(name: string, file: CompanionFile): string {
  mkdirSync(companionsDir(), { recursive: true, mode: 0o700 });
  const path = join(companionsDir(), name);
  writeFileSync(path, JSON.stringify(file) + '\n', { mode: 0o600 });
  return path;
}

const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function jobId(stdout: string): string {
  return stdout.split(/\s+/)[0];
}

beforeAll(() => {
  dir = realpathSync(tempDir('hpc-cli-hosts-'));
  data = join(dir, 'data');
  state = join(data, 'jupyterlab-hpc-submit');
  rootA = join(dir, 'a');
  rootB = join(dir, 'b');
  mkdirSync(join(rootA, 'nbs'), { recursive: true });
  mkdirSync(rootB, { recursive: true });
  writeFileSync(join(rootA, 'nbs', 'one.ipynb'), notebookJson(["print('one')"]));
  writeFileSync(join(rootB, 'two.ipynb'), notebookJson(["print('two')"]));
  profiles = writeTestProfiles(join(dir, 'profiles.json'), { resources: { cpus: 1 } });
});

afterAll(() => {
  for (const { pid } of ownCompanions()) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('help and mistakes start nothing', () => {
  let fresh: string;
  beforeEach(() => {
    fresh = mkdtempSync(join(dir, 'data-'));
  });
  afterEach(() => {
    expect(existsSync(join(fresh, 'jupyterlab-hpc-submit'))).toBe(false);
  });

  it.each([[['--help']], [['run', '--help']]])('%j', args => {
    expect(cli(rootA, args, fresh)).toMatchObject({ code: 0, stderr: '' });
  });

  it('a --root-dir that does not hold the notebook is refused', () => {
    const r = cli(rootA, ['run', '../b/two.ipynb', '--root-dir', '.'], fresh);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hpc-submit: run: \.\.\/b\/two\.ipynb is not under --root-dir \.\n/);
  });
});

describe('companions of several hosts and roots over one state directory', () => {
  let foreign: string, stale: string, idA: string, idB: string;

  it("ignores another host's companion file and removes a dead one of this host", () => {
    // Another host's file: its socket is not reachable here, and its pid means
    // nothing here (even when a process of this host has that number).
    foreign = writeForeign(`${OTHER_HOST}-${process.pid}.json`, {
      url: 'unix:/nonexistent/hpc-submit/socket',
      socket: '/nonexistent/hpc-submit/socket',
      host: OTHER_HOST,
      pid: process.pid,
      rootDir: dir,
      version: '0.1.0'
    });
    const dead = deadPid();
    stale = writeForeign(`${HOST}-${dead}.json`, {
      url: 'http://127.0.0.1:1/',
      socket: null,
      host: HOST,
      pid: dead,
      rootDir: dir,
      version: '0.1.0'
    });

    const r = cli(rootA, ['run', 'nbs/one.ipynb', '--profile', 'cpu', '--wait']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^\d{8}-\d{6}-[a-z0-9]{6}\s+queued\s+cpu\s+nbs\/one\.ipynb/);
    expect(r.stdout).toMatch(/\bcompleted\b/);
    idA = jobId(r.stdout);
    expect(existsSync(foreign)).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(roots()).toEqual([rootA]);
  });

  it('a run from another root starts a companion there; a second run reuses it', () => {
    const r = cli(rootB, ['run', 'two.ipynb', '--profile', 'cpu', '--wait']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^\S+\s+queued\s+cpu\s+two\.ipynb/);
    idB = jobId(r.stdout);
    expect(roots().sort()).toEqual([rootA, rootB]);

    const again = cli(rootB, ['run', 'two.ipynb', '--profile', 'cpu']);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(roots().sort()).toEqual([rootA, rootB]);
  });

  it('a notebook outside the current folder goes to the companion whose root holds it', () => {
    const before = ownCompanions().map(c => c.pid);
    const r = cli(rootB, ['run', '../a/nbs/one.ipynb', '--profile', 'cpu']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^\S+\s+queued\s+cpu\s+nbs\/one\.ipynb/);
    expect(ownCompanions().map(c => c.pid)).toEqual(before);
  });

  it('a notebook no companion holds starts one in its folder when the current one does not', () => {
    const elsewhere = join(dir, 'c');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'three.ipynb'), notebookJson(["print('three')"]));
    const r = cli(rootA, ['run', '../c/three.ipynb', '--profile', 'cpu']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^\S+\s+queued\s+cpu\s+three\.ipynb/);
    expect(roots().sort()).toEqual([rootA, rootB, elsewhere]);
  });

  it('list from either root shows both runs, the other root’s by its absolute path', () => {
    const fromA = cli(rootA, ['list']);
    expect(fromA).toMatchObject({ code: 0, stderr: '' });
    expect(fromA.stdout).toMatch(
      new RegExp(`^${idA}\\s+completed\\s+cpu\\s+nbs/one\\.ipynb( from \\S+)? on `, 'm')
    );
    const twoAbsolute = literally(join(rootB, 'two.ipynb'));
    expect(fromA.stdout).toMatch(
      new RegExp(`^${idB}\\s+completed\\s+cpu\\s+${twoAbsolute}( from \\S+)? on `, 'm')
    );

    const fromB = cli(rootB, ['list']);
    expect(fromB).toMatchObject({ code: 0, stderr: '' });
    const oneAbsolute = literally(join(rootA, 'nbs', 'one.ipynb'));
    expect(fromB.stdout).toMatch(
      new RegExp(`^${idA}\\s+completed\\s+cpu\\s+${oneAbsolute}( from \\S+)? on `, 'm')
    );
    expect(fromB.stdout).toMatch(new RegExp(`^${idB}\\s+completed\\s+cpu\\s+two\\.ipynb`, 'm'));
    expect(existsSync(foreign)).toBe(true);
  });

  it('status of a run submitted from the other root answers from either', () => {
    const r = cli(rootA, ['status', idB]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: idB, state: 'completed' });
  });
});
