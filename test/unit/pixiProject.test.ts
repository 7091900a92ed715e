/**
 * Pixi projects read from real manifests (test/unit/pixi/*.toml, and trees
 * written to a temporary folder): names, environments, the CUDA each needs,
 * `[tool.hpc-submit]`, which environment is offered on which hardware, and
 * how a notebook's project is found.
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPixiPyproject, parsePixiManifest } from '../../server/jobs/pixiManifest';
import {
  cudaOverride,
  findChoice,
  installCommand,
  kernelName,
  projectChoices
} from '../../server/jobs/projectChoices';
import { environmentInstalled, findPixiProject, foldersUp } from '../../server/jobs/projectFinder';
import { DEFAULT_PROFILES } from '../../server/jobs/profiles';

const manifest = (name: string): string => readFileSync(join(__dirname, 'pixi', name), 'utf8');
const GPU = DEFAULT_PROFILES.find(p => p.id === 'gpu')!;
const CPU = DEFAULT_PROFILES.find(p => p.id === 'cpu')!;

describe('a pixi manifest', () => {
  it("reads a pyproject.toml: the [project] name, default and gpu, the feature's CUDA", () => {
    const p = parsePixiManifest(
      manifest('convcnp.pyproject.toml'),
      '/home/r/convcnp/pyproject.toml'
    );
    expect(p.name).toBe('convcnp');
    expect(p.dir).toBe('/home/r/convcnp');
    expect(p.environments).toEqual([{ name: 'default' }, { name: 'gpu', cuda: '12.0' }]);
    expect(p.settings).toBeUndefined();
  });

  it("reads a pixi.toml: the default feature's CUDA, the highest one, an environment without the default feature", () => {
    const p = parsePixiManifest(manifest('myproj.pixi.toml'), '/w/myproj/pixi.toml');
    expect(p.name).toBe('myproj');
    expect(p.environments).toEqual([
      { name: 'default', cuda: '11.8' },
      { name: 'gpu', cuda: '12.4' },
      { name: 'lint' }
    ]);
    expect(p.settings).toEqual({ gpu: { profiles: ['gpu'], kernel: 'myproj-cuda' }, default: {} });
  });

  it('reads an older manifest ([project]) and makes a kernel name of any project name', () => {
    const p = parsePixiManifest(manifest('oldstyle.pixi.toml'), '/w/old/pixi.toml');
    expect(p.name).toBe('old style');
    expect(p.environments.map(e => e.name)).toEqual(['default', 'cpu']);
    expect(kernelName(p, p.environments[1])).toBe('old-style-cpu');
  });

  it('names the manifest and the problem of TOML that is not TOML', () => {
    expect(() => parsePixiManifest('[workspace\nname = 1', '/w/x/pixi.toml')).toThrow(
      /^\/w\/x\/pixi\.toml is not valid TOML: /
    );
  });

  it('refuses a [tool.hpc-submit] that names an environment the project lacks, or a key it does not know', () => {
    const base = '[workspace]\nname = "p"\n';
    expect(() =>
      parsePixiManifest(`${base}[tool.hpc-submit.environments.gpu]\n`, '/w/pixi.toml')
    ).toThrow('names the environment "gpu", which the project does not have (it has default)');
    expect(() =>
      parsePixiManifest(
        `${base}[tool.hpc-submit.environments.default]\nkernal = "x"\n`,
        '/w/pixi.toml'
      )
    ).toThrow(
      /\/w\/pixi\.toml \[tool\.hpc-submit\]\/environments\/default must NOT have additional properties/
    );
    expect(() =>
      parsePixiManifest(
        `${base}[tool.hpc-submit.environments.default]\nkernel = "a b"\n`,
        '/w/pixi.toml'
      )
    ).toThrow(/kernel must match pattern/);
  });

  it('refuses an environment name pixi would refuse', () => {
    expect(() =>
      parsePixiManifest('[workspace]\nname = "p"\n[environments]\n"GPU env" = []\n', '/w/pixi.toml')
    ).toThrow('the environment name "GPU env" is not one pixi accepts');
  });

  it('tells a pyproject.toml with [tool.pixi] from one without', () => {
    expect(isPixiPyproject(manifest('convcnp.pyproject.toml'))).toBe(true);
    expect(isPixiPyproject('[project]\nname = "plain"\n[tool.ruff]\nline-length = 100\n')).toBe(
      false
    );
    expect(isPixiPyproject('not toml [')).toBe(false);
  });
});

describe("the choices of a project on the site's hardware", () => {
  const convcnp = parsePixiManifest(
    manifest('convcnp.pyproject.toml'),
    '/h/convcnp/pyproject.toml'
  );

  it('offers an environment needing CUDA only where there are GPUs, the others everywhere, the best fit first', () => {
    const choices = projectChoices(convcnp, DEFAULT_PROFILES);
    expect(choices.map(c => `${c.hardware.id} · ${c.environment.name}`)).toEqual([
      'gpu · gpu',
      'gpu · default',
      'cpu · default'
    ]);
    const gpu = choices[0].profile;
    expect(gpu.kernel).toBe('convcnp-gpu');
    expect(gpu.launcher).toEqual([
      'pixi',
      'run',
      '--manifest-path',
      '/h/convcnp/pyproject.toml',
      '-e',
      'gpu'
    ]);
    // The hardware stays the site's.
    expect(gpu.resources).toEqual(GPU.resources);
    expect(gpu.requireGpu).toBe(true);
  });

  it('follows [tool.hpc-submit]: only the listed environments, on the listed profiles, with their kernels', () => {
    const myproj = parsePixiManifest(manifest('myproj.pixi.toml'), '/w/myproj/pixi.toml');
    const choices = projectChoices(myproj, DEFAULT_PROFILES);
    expect(choices.map(c => [c.hardware.id, c.environment.name, c.profile.kernel])).toEqual([
      ['gpu', 'gpu', 'myproj-cuda'],
      ['gpu', 'default', 'myproj-default'],
      ['cpu', 'default', 'myproj-default']
    ]);
  });

  it('refuses a choice the project does not offer, saying what it offers', () => {
    expect(() => findChoice(convcnp, DEFAULT_PROFILES, 'cpu', 'gpu')).toThrow(
      'the project "convcnp" offers no environment "gpu" on the profile "cpu" (it offers gpu · gpu, gpu · default, cpu · default)'
    );
    expect(findChoice(convcnp, DEFAULT_PROFILES, 'gpu', 'gpu').profile.kernel).toBe('convcnp-gpu');
  });

  it("installs with the manifest named, and tells pixi the node's CUDA only where it is needed", () => {
    const gpuEnv = convcnp.environments[1];
    expect(installCommand(convcnp, gpuEnv)).toEqual([
      'pixi',
      'install',
      '--manifest-path',
      '/h/convcnp/pyproject.toml',
      '-e',
      'gpu'
    ]);
    const noGpu = { hasGpu: false, alreadySet: false };
    expect(cudaOverride(gpuEnv, { ...GPU, cuda: '12.8' }, noGpu)?.value).toBe('12.8');
    const fromEnv = cudaOverride(gpuEnv, GPU, noGpu);
    expect(fromEnv?.value).toBe('12.0');
    expect(fromEnv?.why).toContain('system-requirements cuda = "12.0"');
    expect(cudaOverride(gpuEnv, GPU, { hasGpu: true, alreadySet: false })).toBeNull();
    expect(cudaOverride(gpuEnv, GPU, { hasGpu: false, alreadySet: true })).toBeNull();
    expect(cudaOverride(convcnp.environments[0], CPU, noGpu)).toBeNull();
  });
});

describe("finding a notebook's project", () => {
  let root: string;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'hpc-pixi-')));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const write = (rel: string, text: string): string => {
    const file = join(root, rel);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  it('walks up from a nested notebook folder, passing over a pyproject.toml without [tool.pixi]', async () => {
    const manifestPath = write('proj/pixi.toml', manifest('myproj.pixi.toml'));
    write('proj/pkg/pyproject.toml', '[project]\nname = "inner"\n');
    const nb = write('proj/pkg/notebooks/deep/a.ipynb', '{}');
    const found = await findPixiProject(root, nb);
    expect(found && 'project' in found && found.project.manifest).toBe(manifestPath);
  });

  it('prefers pixi.toml to pyproject.toml in one folder, as pixi does', async () => {
    write('p/pyproject.toml', manifest('convcnp.pyproject.toml'));
    write('p/pixi.toml', manifest('oldstyle.pixi.toml'));
    const found = await findPixiProject(root, write('p/a.ipynb', '{}'));
    expect(found && 'project' in found && found.project.name).toBe('old style');
  });

  it('finds none for a notebook outside any project, and looks no higher than the root', async () => {
    write('pixi.toml', manifest('myproj.pixi.toml'));
    const inner = join(root, 'jupyter-root');
    const nb = write('jupyter-root/work/a.ipynb', '{}');
    expect(await findPixiProject(inner, nb)).toBeNull();
    expect(foldersUp(inner, join(inner, 'work'))).toEqual([join(inner, 'work'), inner]);
    expect(foldersUp(inner, root)).toEqual([]);
  });

  it('names a broken manifest instead of passing it over', async () => {
    write('b/pixi.toml', '[workspace\n');
    const found = await findPixiProject(root, write('b/a.ipynb', '{}'));
    expect(found && 'problem' in found && found.problem).toMatch(/b\/pixi\.toml is not valid TOML/);
  });

  it('knows an installed environment by its conda prefix in .pixi/envs', async () => {
    write('i/pixi.toml', manifest('oldstyle.pixi.toml'));
    const found = await findPixiProject(root, write('i/a.ipynb', '{}'));
    const project = found && 'project' in found ? found.project : null;
    expect(project && environmentInstalled(project, 'cpu')).toBe(false);
    mkdirSync(join(root, 'i/.pixi/envs/cpu/conda-meta'), { recursive: true });
    expect(project && environmentInstalled(project, 'cpu')).toBe(true);
  });
});
