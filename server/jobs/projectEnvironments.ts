/**
 * A notebook's pixi project, put to use: the choices offered for it (each
 * with its status), the profile a run of a choice runs as, and the setup
 * tasks that install an environment or create a kernel. The rules are pure
 * (projectChoices.ts, pixiManifest.ts); this is where they meet the disk,
 * the environment and the programs.
 */
import { promises as fs } from 'node:fs';
import { relative, sep } from 'node:path';
import { findOnPath } from '../executors';
import type {
  Profile,
  ProfileProblem,
  ProfileStatus,
  ProjectEnvironment,
  SetupLog,
  SetupRequest,
  SetupTask
} from '../../contract/wire';
import { kernelInstallCommand } from './kernels';
import type { PixiEnvironment, PixiProject } from './pixiManifest';
import {
  PIXI,
  PIXI_INSTALL_HINT,
  cudaOverride,
  findChoice,
  installCommand,
  projectChoices,
  type ProjectChoice
} from './projectChoices';
import { environmentInstalled, environmentPython, findPixiProject } from './projectFinder';
import { resolveNotebook } from './paths';
import { invalid, Refusal } from './refusal';
import { shellQuote } from '../runtime/shellQuote';
import type { SetupTasks } from './setupTasks';

export interface ProjectEnvironmentsDeps {
  rootDir: string;
  profiles: Profile[];
  tasks: SetupTasks;
  /** The environment programs run with (no Jupyter or Hub token in it). */
  env: () => NodeJS.ProcessEnv;
  /** Whether this machine has a GPU (the hub has none). */
  hasGpu: () => boolean;
}

/** What the choices for one notebook are, before each one's status is asked. */
export interface NotebookChoices {
  project?: PixiProject;
  /** The manifest that could not be read, named with its problem. */
  problem?: string;
  choices: ProjectChoice[];
}

export class ProjectEnvironments {
  constructor(private readonly deps: ProjectEnvironmentsDeps) {}

  /** The notebook's project and its choices; none outside a project. */
  async forNotebook(notebookPath: string): Promise<NotebookChoices> {
    const found = await findPixiProject(await this.root(), notebookPath);
    if (found === null) {
      return { choices: [] };
    }
    if ('problem' in found) {
      return { problem: found.problem, choices: [] };
    }
    return { project: found.project, choices: projectChoices(found.project, this.deps.profiles) };
  }

  /** The profile a run with this choice runs as; a 400 saying what the notebook may pick. */
  async runProfile(
    hardware: Profile,
    environment: string | undefined,
    notebookPath: string
  ): Promise<Profile> {
    if (environment === undefined) {
      return hardware;
    }
    return (await this.choice(hardware.id, environment, notebookPath)).choice.profile;
  }

  /** How a choice shows on the wire; `status` asks after its kernel and scheduler. */
  async choiceStatus(
    project: PixiProject,
    choice: ProjectChoice,
    status: (profile: Profile, probe: Profile) => Promise<ProfileStatus>
  ): Promise<ProfileStatus> {
    const name = choice.environment.name;
    const installed = environmentInstalled(project, name);
    const environment: ProjectEnvironment = {
      name,
      project: project.name,
      manifest: await this.manifestShown(project),
      ...(choice.environment.cuda ? { cuda: choice.environment.cuda } : {}),
      installed
    };
    if (!installed) {
      // Asking the kernel list of a missing environment would make `pixi run` install it, for minutes.
      const problems = [this.missingEnvironment(project, choice)];
      return { ...choice.profile, environment, available: false, problems };
    }
    // Asked of the environment's own python: `pixi run` may solve or update first, for minutes.
    const probe: Profile = {
      ...choice.profile,
      launcher: [],
      python: environmentPython(project, name)
    };
    const checked = await status(choice.profile, probe);
    const pixi = this.pixiMissing(choice.profile);
    return pixi
      ? { ...checked, environment, available: false, problems: [pixi, ...checked.problems] }
      : { ...checked, environment };
  }

  /** The manifest as the browser names it: relative to the Jupyter root. */
  async manifestShown(project: PixiProject): Promise<string> {
    return relative(await this.root(), project.manifest)
      .split(sep)
      .join('/');
  }

  /** A run enters the environment through pixi: said here, since the check above goes around it. */
  private pixiMissing(profile: Profile): ProfileProblem | null {
    if (findOnPath(PIXI, this.deps.env().PATH)) {
      return null;
    }
    return {
      code: 'launcher-missing',
      message: `"${PIXI}" is not on PATH of the companion, so the environment cannot be entered for ${profile.label}`,
      fix: PIXI_INSTALL_HINT
    };
  }

  /** Starts installing an environment or creating a kernel; refuses what cannot start. */
  async startSetup(body: unknown): Promise<{ task: SetupTask; created: boolean }> {
    const request = parseSetupRequest(body);
    const hardware = this.siteProfile(request.profile);
    const env = this.deps.env();
    if (request.environment === undefined) {
      if (request.action === 'install-environment') {
        throw invalid(
          '"install-environment" needs the notebook and the environment of its pixi project'
        );
      }
      return this.createKernel(hardware, hardware, env);
    }
    if (request.notebook === undefined) {
      throw invalid(
        'an environment goes with the notebook whose pixi project holds it: "notebook" is missing'
      );
    }
    const nb = await resolveNotebook(this.deps.rootDir, request.notebook);
    const { project, choice } = await this.choice(hardware.id, request.environment, nb.absolute);
    if (request.action === 'create-kernel') {
      return this.createKernel(choice.profile, hardware, env, project);
    }
    requireOnPath(PIXI, env);
    const override = this.override(choice.environment, hardware, env);
    const argv = installCommand(project, choice.environment);
    return this.deps.tasks.start({
      action: 'install-environment',
      target: `${project.manifest}#${choice.environment.name}`,
      title: `Install environment ${project.name} ${choice.environment.name}`,
      argv,
      display: displayCommand(argv, override?.value),
      cwd: project.dir,
      env: override ? { ...env, CONDA_OVERRIDE_CUDA: override.value } : env,
      preface: override ? [override.why] : []
    });
  }

  readSetup(id: string, offset: number): SetupLog {
    return this.deps.tasks.read(id, offset);
  }

  cancelSetup(id: string): SetupTask {
    return this.deps.tasks.cancel(id);
  }

  private createKernel(
    profile: Profile,
    hardware: Profile,
    env: NodeJS.ProcessEnv,
    project?: PixiProject
  ): { task: SetupTask; created: boolean } {
    if (profile.launcher[0] === PIXI) {
      requireOnPath(PIXI, env);
    }
    const argv = kernelInstallCommand(profile);
    return this.deps.tasks.start({
      action: 'create-kernel',
      target: `kernel:${profile.kernel}`,
      title: `Create kernel ${profile.kernel}`,
      argv,
      display: displayCommand(argv),
      cwd: project?.dir ?? this.deps.rootDir,
      env,
      preface: project
        ? [`the kernel of the ${project.name} environment, for runs on ${hardware.label}`]
        : []
    });
  }

  private missingEnvironment(project: PixiProject, choice: ProjectChoice): ProfileProblem {
    const override = this.override(choice.environment, choice.hardware, this.deps.env());
    return {
      code: 'environment-missing',
      message: `the environment "${choice.environment.name}" of ${project.name} is not installed yet`,
      fix: displayCommand(installCommand(project, choice.environment), override?.value)
    };
  }

  private override(env: PixiEnvironment, hardware: Profile, processEnv: NodeJS.ProcessEnv) {
    return cudaOverride(env, hardware, {
      hasGpu: this.deps.hasGpu(),
      alreadySet: Boolean(processEnv.CONDA_OVERRIDE_CUDA)
    });
  }

  private async choice(
    profileId: string,
    environment: string,
    notebookPath: string
  ): Promise<{ project: PixiProject; choice: ProjectChoice }> {
    const found = await this.forNotebook(notebookPath);
    if (found.problem) {
      throw invalid(found.problem);
    }
    if (!found.project) {
      const shown = relative(await this.root(), notebookPath)
        .split(sep)
        .join('/');
      throw invalid(
        `${shown} lies in no pixi project (no pixi.toml, or pyproject.toml with [tool.pixi], in its folder or above it up to the Jupyter root), so it has no environment "${environment}"`
      );
    }
    try {
      return {
        project: found.project,
        choice: findChoice(found.project, this.deps.profiles, profileId, environment)
      };
    } catch (e) {
      throw invalid((e as Error).message);
    }
  }

  private siteProfile(id: string): Profile {
    const profile = this.deps.profiles.find(p => p.id === id);
    if (!profile) {
      const known = this.deps.profiles.map(p => p.id).join(', ');
      throw invalid(`unknown profile ${JSON.stringify(id)}: this site has ${known}`);
    }
    return profile;
  }

  private rootReal: Promise<string> | null = null;

  /** Notebook paths are real paths: the root the walk stops at must be too. */
  private root(): Promise<string> {
    this.rootReal ??= fs.realpath(this.deps.rootDir);
    return this.rootReal;
  }
}

function parseSetupRequest(body: unknown): SetupRequest {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (b.action !== 'install-environment' && b.action !== 'create-kernel') {
    throw invalid('"action" must be "install-environment" or "create-kernel"');
  }
  if (typeof b.profile !== 'string' || b.profile === '') {
    throw invalid('"profile" must be the id of one of this site\'s profiles (GET /api/profiles)');
  }
  for (const key of ['notebook', 'environment'] as const) {
    if (b[key] !== undefined && typeof b[key] !== 'string') {
      throw invalid(`"${key}" must be a string`);
    }
  }
  return b as unknown as SetupRequest;
}

/** A program is refused before it is started when it is not on PATH: the sentence says how to get it. */
function requireOnPath(program: string, env: NodeJS.ProcessEnv): void {
  if (!findOnPath(program, env.PATH)) {
    throw new Refusal(
      'conflict',
      `${program} is not on PATH of the companion: install it (${PIXI_INSTALL_HINT}), then restart JupyterLab`
    );
  }
}

function displayCommand(argv: string[], cuda?: string): string {
  const command = argv.map(shellQuote).join(' ');
  return cuda ? `CONDA_OVERRIDE_CUDA=${shellQuote(cuda)} ${command}` : command;
}
