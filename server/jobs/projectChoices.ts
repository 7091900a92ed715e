/**
 * Hardware belongs to the site, environments to the project: the choices
 * for a notebook inside a pixi project are the project's environments on the
 * site's profiles. Pure: what is offered where, the profile a choice runs as
 * (the hardware's resources with the environment's launcher and kernel), and
 * the command that installs an environment.
 */
import type { Profile } from '../../contract/wire';
import type { PixiEnvironment, PixiProject } from './pixiManifest';

/** The program that runs pixi; `pixi` on the companion's PATH. */
export const PIXI = 'pixi';

/** Where pixi comes from, said wherever pixi is missing. */
export const PIXI_INSTALL_HINT = 'curl -fsSL https://pixi.sh/install.sh | bash';

export interface ProjectChoice {
  /** The site's profile: the hardware. */
  hardware: Profile;
  environment: PixiEnvironment;
  /** What a run of this choice runs as: the hardware's, in the environment. */
  profile: Profile;
}

/** A profile that can give a GPU: only there is an environment that needs CUDA offered by default. */
function hasGpus(profile: Profile): boolean {
  return Boolean(profile.requireGpu) || (profile.limits?.gpus ?? profile.resources.gpus ?? 0) > 0;
}

/**
 * Each environment on each profile it goes with, in the site's order of
 * profiles, the best fit of each first. `[tool.hpc-submit]`
 * says which environments go where; without it, every environment is
 * offered on every profile, except that one needing CUDA goes only where
 * there are GPUs.
 */
export function projectChoices(project: PixiProject, site: Profile[]): ProjectChoice[] {
  const out: ProjectChoice[] = [];
  for (const hardware of site) {
    for (const environment of byFit(project.environments, hardware)) {
      if (offeredOn(project, environment, hardware)) {
        out.push({
          hardware,
          environment,
          profile: environmentProfile(project, environment, hardware)
        });
      }
    }
  }
  return out;
}

/**
 * The environment that fits the hardware best first, for it is the one a
 * notebook gets when it names none: the one named like the profile, then
 * one needing CUDA where there are GPUs; else the project's order.
 */
function byFit(environments: PixiEnvironment[], hardware: Profile): PixiEnvironment[] {
  const rank = (e: PixiEnvironment): number =>
    e.name === hardware.id ? 0 : e.cuda !== undefined && hasGpus(hardware) ? 1 : 2;
  return [...environments].sort((a, b) => rank(a) - rank(b));
}

function offeredOn(project: PixiProject, env: PixiEnvironment, hardware: Profile): boolean {
  if (project.settings) {
    const settings = project.settings[env.name];
    return settings !== undefined && (settings.profiles ?? [hardware.id]).includes(hardware.id);
  }
  return env.cuda === undefined || hasGpus(hardware);
}

/** `<project>-<env>`, the convention of `ipykernel install --name convcnp-gpu`, in a kernel name's letters. */
export function kernelName(project: PixiProject, env: PixiEnvironment): string {
  const configured = project.settings?.[env.name]?.kernel;
  if (configured) {
    return configured;
  }
  const stem = project.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
  return `${stem}-${env.name}`.slice(0, 64);
}

export function environmentLauncher(project: PixiProject, env: PixiEnvironment): string[] {
  return [PIXI, 'run', '--manifest-path', project.manifest, '-e', env.name];
}

/** The hardware's profile, entered through the project's environment. */
export function environmentProfile(
  project: PixiProject,
  env: PixiEnvironment,
  hardware: Profile
): Profile {
  return {
    ...hardware,
    kernel: kernelName(project, env),
    launcher: environmentLauncher(project, env),
    python: 'python'
  };
}

/** The choice a request names; throws an Error listing what the notebook may pick. */
export function findChoice(
  project: PixiProject,
  site: Profile[],
  profileId: string,
  environment: string
): ProjectChoice {
  const choices = projectChoices(project, site);
  const found = choices.find(
    c => c.hardware.id === profileId && c.environment.name === environment
  );
  if (found) {
    return found;
  }
  const offered = choices.map(c => `${c.hardware.id} · ${c.environment.name}`).join(', ') || 'none';
  throw new Error(
    `the project "${project.name}" offers no environment "${environment}" on the profile "${profileId}" (it offers ${offered})`
  );
}

export const installCommand = (project: PixiProject, env: PixiEnvironment): string[] => [
  PIXI,
  'install',
  '--manifest-path',
  project.manifest,
  '-e',
  env.name
];

/**
 * CONDA_OVERRIDE_CUDA for installing an environment that needs CUDA where
 * there is no GPU (the hub): pixi checks the machine's CUDA against the
 * environment's requirement, and the hub has none. The profile says its
 * nodes' version; else the environment's own requirement stands in. Null
 * when nothing is to be overridden: the environment needs no CUDA, this
 * machine has a GPU, or the user already set the variable.
 */
export function cudaOverride(
  env: PixiEnvironment,
  hardware: Profile,
  facts: { hasGpu: boolean; alreadySet: boolean }
): { value: string; why: string } | null {
  if (env.cuda === undefined || facts.hasGpu || facts.alreadySet) {
    return null;
  }
  const value = hardware.cuda ?? env.cuda;
  const from = hardware.cuda
    ? `the CUDA of the profile "${hardware.id}"`
    : `the environment's own requirement (system-requirements cuda = "${env.cuda}")`;
  return {
    value,
    why: `this machine has no GPU, so pixi is told the compute node's CUDA: CONDA_OVERRIDE_CUDA=${value}, from ${from}`
  };
}
