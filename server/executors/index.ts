/**
 * Picks the executor: Slurm where `sbatch` is on PATH (a login or hub node of
 * a cluster), else local child processes (a laptop, a lone workstation).
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Executor } from './executor';
import { createLocalExecutor } from './local';
import { createSlurmExecutor } from './slurm';

export type ExecutorMode = 'auto' | 'slurm' | 'local';

/** The full path of an executable on PATH, or null. */
export function findOnPath(
  command: string,
  path: string | undefined = process.env.PATH
): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export async function createExecutor(
  mode: ExecutorMode,
  opts: { stateDir: string; maxConcurrent?: number }
): Promise<Executor> {
  const slurm = mode === 'slurm' || (mode === 'auto' && findOnPath('sbatch') !== null);
  if (slurm) {
    return createSlurmExecutor();
  }
  return createLocalExecutor({ stateDir: opts.stateDir, maxConcurrent: opts.maxConcurrent });
}
