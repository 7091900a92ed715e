/**
 * A researcher's own pixi project through the real companion (local
 * executor, real nbconvert): the choices for a notebook inside it, an
 * environment installed and a kernel created from the API with their logs,
 * a cancel, and a run in the project's environment on the site's hardware.
 * pixi cannot be installed here: test/fixtures/stand-in-pixi/pixi is a
 * STAND-IN that records its arguments and environment, installs by making the
 * conda prefix, and runs commands with the test's virtual environment.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ProfileList, SetupAction, SetupLog, SetupTask } from '../../contract/wire';
import { type Companion, jobEnded, startCompanion, until } from '../fixtures/companion';
import { PYTHON, REPO, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { runCli, stopCompanionsOf } from '../fixtures/cli';
import { writeTestProfiles } from '../fixtures/profiles';

const STAND_IN = join(REPO, 'test', 'fixtures', 'stand-in-pixi');
const VENV_BIN = join(PYTHON, '..');
const MANIFEST = `[workspace]
name = "myproj"
channels = ["conda-forge"]
platforms = ["linux-64"]

[feature.gpu.system-requirements]
cuda = "12.0"

[environments]
gpu = ["gpu"]
slow = []
`;
const NOTEBOOK = 'myproj/notebooks/train.ipynb';
const hubHasGpu = existsSync('/proc/driver/nvidia/version');

interface Call {
  args: string[];
  cuda: string | null;
  pid: number;
}

describe('a notebook in a pixi project', () => {
  let dir: string, root: string, home: string, calls: string, profiles: string;
  const companionPath = [STAND_IN, VENV_BIN, process.env.PATH].join(delimiter);
  let c: Companion;
  const recorded = (): Call[] =>
    existsSync(calls)
      ? readFileSync(calls, 'utf8')
          .trim()
          .split('\n')
          .map(l => JSON.parse(l) as Call)
      : [];
  const choices = async (notebook: string): Promise<ProfileList> =>
    (await c.api('GET', `api/profiles?notebook=${encodeURIComponent(notebook)}`)).json;
  const setup = (action: SetupAction, profile: string, environment: string) =>
    c.api('POST', 'api/setup', { action, profile, notebook: NOTEBOOK, environment });
  const ended = (id: string): Promise<SetupLog> =>
    until(`setup task ${id} to end`, async () => {
      const log = (await c.api('GET', `api/setup/${id}?offset=0`)).json as SetupLog;
      return log.task.state === 'running' ? null : log;
    });

  beforeAll(async () => {
    dir = tempDir('hpc-pixi-');
    root = join(dir, 'root');
    home = join(dir, 'home');
    calls = join(dir, 'pixi-calls.jsonl');
    mkdirSync(join(root, 'myproj', 'notebooks'), { recursive: true });
    mkdirSync(join(root, 'other'), { recursive: true });
    mkdirSync(home);
    writeFileSync(join(root, 'myproj', 'pixi.toml'), MANIFEST);
    writeFileSync(join(root, NOTEBOOK), notebookJson(['import sys\nprint("ran in", sys.prefix)']));
    writeFileSync(join(root, 'other', 'plain.ipynb'), notebookJson(['print(1)']));
    profiles = writeTestProfiles(
      join(dir, 'profiles.json'),
      { resources: { cpus: 1, time: '00:10:00' } },
      {
        id: 'gpu',
        label: 'GPU node',
        resources: { gpus: 1, time: '00:10:00' },
        requireGpu: true,
        cuda: '12.8'
      }
    );
    c = await startCompanion({
      rootDir: root,
      stateDir: join(dir, 'state'),
      profiles,
      env: {
        PATH: companionPath,
        // `ipykernel install --user` and the kernel list both go by HOME: the test's own.
        HOME: home,
        JUPYTER_PATH: '',
        PIXI_STAND_IN_LOG: calls
      }
    });
  });

  afterAll(async () => {
    await c?.stop();
    // The command line may have started a companion of its own.
    stopCompanionsOf(join(dir, 'state'));
  });

  it("offers the project's environments on the site's hardware first, the best fit first", async () => {
    const list = await choices(NOTEBOOK);
    expect(list.project).toEqual({ name: 'myproj', manifest: 'myproj/pixi.toml' });
    const offered = list.profiles.map(
      p => `${p.id}${p.environment ? ` · ${p.environment.name}` : ''}`
    );
    expect(offered).toEqual([
      'cpu · default',
      'cpu · slow',
      'gpu · gpu',
      'gpu · default',
      'gpu · slow',
      'cpu',
      'gpu'
    ]);
    const gpu = list.profiles[2];
    expect(gpu.environment).toEqual({
      name: 'gpu',
      project: 'myproj',
      manifest: 'myproj/pixi.toml',
      cuda: '12.0',
      installed: false
    });
    expect(gpu.kernel).toBe('myproj-gpu');
    expect(gpu.launcher).toEqual([
      'pixi',
      'run',
      '--manifest-path',
      join(root, 'myproj', 'pixi.toml'),
      '-e',
      'gpu'
    ]);
    expect(gpu.available).toBe(false);
    expect(gpu.problems).toEqual([
      {
        code: 'environment-missing',
        message: 'the environment "gpu" of myproj is not installed yet',
        fix: `${hubHasGpu ? '' : 'CONDA_OVERRIDE_CUDA=12.8 '}pixi install --manifest-path ${join(root, 'myproj', 'pixi.toml')} -e gpu`
      }
    ]);
    // Nothing was run to answer: a kernel list through `pixi run` would have installed it.
    expect(recorded()).toEqual([]);
  });

  it('offers only the site profiles outside a project, and refuses a path outside the root', async () => {
    const list = await choices('other/plain.ipynb');
    expect(list.project).toBeUndefined();
    expect(list.profiles.map(p => p.id)).toEqual(['cpu', 'gpu']);
    const outside = await c.api('GET', `api/profiles?notebook=${encodeURIComponent('../x.ipynb')}`);
    expect(outside.status).toBe(400);
  });

  it("installs an environment, telling pixi the node's CUDA, with its log", async () => {
    const started = await setup('install-environment', 'gpu', 'gpu');
    expect(started.status).toBe(202);
    const task = started.json as SetupTask;
    expect(task.title).toBe('Install environment myproj gpu');
    const log = await ended(task.id);
    expect(log.task.state).toBe('completed');
    expect(log.text).toContain('stand-in pixi: installed gpu');
    const install = recorded().find(r => r.args[0] === 'install')!;
    expect(install.args).toEqual([
      'install',
      '--manifest-path',
      join(root, 'myproj', 'pixi.toml'),
      '-e',
      'gpu'
    ]);
    if (!hubHasGpu) {
      expect(install.cuda).toBe('12.8');
      expect(log.text).toContain(
        'this machine has no GPU, so pixi is told the compute node\'s CUDA: CONDA_OVERRIDE_CUDA=12.8, from the CUDA of the profile "gpu"'
      );
    }
    const gpu = (await choices(NOTEBOOK)).profiles.find(p => p.environment?.name === 'gpu')!;
    expect(gpu.environment?.installed).toBe(true);
    // Installed: now its kernel is asked after, through the environment's launcher.
    expect(gpu.problems.map(p => p.code)).toEqual(['kernel-missing']);
    expect(gpu.problems[0].fix).toBe(
      `pixi run --manifest-path ${join(root, 'myproj', 'pixi.toml')} -e gpu python -m ipykernel install --user --name myproj-gpu`
    );
  });

  it('answers the running install again instead of starting a second, and cancels it with what it started', async () => {
    const body = {
      action: 'install-environment',
      profile: 'cpu',
      notebook: NOTEBOOK,
      environment: 'slow'
    };
    const first = await c.api('POST', 'api/setup', body);
    expect(first.status).toBe(202);
    const again = await c.api('POST', 'api/setup', body);
    expect(again.status).toBe(200);
    expect(again.json.id).toBe(first.json.id);
    const call = await until('the slow install to start', () =>
      recorded().find(r => r.args.includes('slow'))
    );
    const cancelled = await c.api('DELETE', `api/setup/${first.json.id}`);
    expect(cancelled.json.state).toBe('cancelled');
    const log = await ended(first.json.id);
    expect(log.task.state).toBe('cancelled');
    expect(log.text).toContain('[hpc-submit] cancelled');
    await until('the stand-in pixi to be gone', () => !existsSync(`/proc/${call.pid}`), 10_000);
    expect(existsSync(join(root, 'myproj', '.pixi', 'envs', 'slow'))).toBe(false);
  });

  it('creates the kernel in the environment, then runs the notebook in it on the CPU node', async () => {
    const install = await setup('install-environment', 'cpu', 'default');
    expect((await ended(install.json.id)).task.state).toBe('completed');
    // No CUDA to tell pixi for an environment that needs none.
    expect(recorded().find(r => r.args.includes('default'))?.cuda).toBeNull();
    const kernel = await setup('create-kernel', 'cpu', 'default');
    expect(kernel.status).toBe(202);
    const log = await ended(kernel.json.id);
    expect(log.task.state).toBe('completed');
    expect(log.text).toContain('Installed kernelspec myproj-default');
    const cpu = (await choices(NOTEBOOK)).profiles[0];
    expect(cpu.environment?.name).toBe('default');
    expect(cpu.problems).toEqual([]);
    expect(cpu.available).toBe(true);

    const submitted = await c.api('POST', 'api/jobs', {
      notebook: NOTEBOOK,
      profile: 'cpu',
      environment: 'default'
    });
    expect(submitted.status).toBe(201);
    expect(submitted.json.environment).toBe('default');
    expect(submitted.json.kernel).toBe('myproj-default');
    const job = await jobEnded(c, submitted.json.id);
    expect(job.state).toBe('completed');
    const run = recorded().find(r => r.args[0] === 'run' && r.args.includes('nbconvert'))!;
    expect(run.args.slice(0, 5)).toEqual([
      'run',
      '--manifest-path',
      join(root, 'myproj', 'pixi.toml'),
      '-e',
      'default'
    ]);
    expect(run.args).toContain('--ExecutePreprocessor.kernel_name=myproj-default');
    expect(readFileSync(join(root, job.output), 'utf8')).toContain('ran in');
  });

  it('refuses an environment the notebook cannot have, naming what it can', async () => {
    const wrong = await c.api('POST', 'api/jobs', {
      notebook: NOTEBOOK,
      profile: 'cpu',
      environment: 'gpu'
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toBe(
      'the project "myproj" offers no environment "gpu" on the profile "cpu" (it offers cpu · default, cpu · slow, gpu · gpu, gpu · default, gpu · slow)'
    );
    const plain = await c.api('POST', 'api/jobs', {
      notebook: 'other/plain.ipynb',
      profile: 'cpu',
      environment: 'default'
    });
    expect(plain.status).toBe(400);
    expect(plain.json.error).toMatch(/^other\/plain\.ipynb lies in no pixi project/);
    const hostile = await c.api('POST', 'api/jobs', {
      notebook: NOTEBOOK,
      profile: 'cpu',
      environment: 'x; rm -rf ~'
    });
    expect(hostile.status).toBe(400);
  });
  it('runs from the command line in the environment it names (-e)', () => {
    const r = runCli(['run', join(root, NOTEBOOK), '--profile', 'cpu', '-e', 'default', '--wait'], {
      cwd: root,
      profiles,
      state: { dir: join(dir, 'state') },
      env: { PATH: companionPath, HOME: home, PIXI_STAND_IN_LOG: calls }
    });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const runs = recorded().filter(r => r.args[0] === 'run' && r.args.includes('nbconvert'));
    expect(runs).toHaveLength(2);
  });
});

describe('a pixi project where pixi is not installed', () => {
  it('says an installed environment cannot be entered, and refuses to install or create a kernel, with the install hint', async () => {
    const dir = tempDir('hpc-nopixi-');
    const root = join(dir, 'root');
    mkdirSync(join(root, 'p'), { recursive: true });
    writeFileSync(join(root, 'p', 'pixi.toml'), MANIFEST);
    writeFileSync(join(root, 'p', 'a.ipynb'), notebookJson(['print(1)']));
    const c = await startCompanion({
      rootDir: root,
      stateDir: join(dir, 'state'),
      profiles: writeTestProfiles(join(dir, 'profiles.json')),
      env: { PATH: [VENV_BIN, '/usr/bin', '/bin'].join(delimiter) }
    });
    // An environment installed earlier, by a pixi no longer on PATH.
    mkdirSync(join(root, 'p', '.pixi', 'envs', 'default', 'conda-meta'), { recursive: true });
    try {
      const list = (await c.api('GET', 'api/profiles?notebook=p/a.ipynb')).json as ProfileList;
      const installed = list.profiles.find(p => p.environment?.name === 'default')!;
      expect(installed.available).toBe(false);
      expect(installed.problems[0]).toEqual({
        code: 'launcher-missing',
        message:
          '"pixi" is not on PATH of the companion, so the environment cannot be entered for CPU node',
        fix: 'curl -fsSL https://pixi.sh/install.sh | bash'
      });
      for (const action of ['install-environment', 'create-kernel']) {
        const r = await c.api('POST', 'api/setup', {
          action,
          profile: 'cpu',
          notebook: 'p/a.ipynb',
          environment: 'default'
        });
        expect(r.status).toBe(409);
        expect(r.json.error).toBe(
          'pixi is not on PATH of the companion: install it (curl -fsSL https://pixi.sh/install.sh | bash), then restart JupyterLab'
        );
      }
    } finally {
      await c.stop();
    }
  });
});
