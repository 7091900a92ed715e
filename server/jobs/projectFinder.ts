/**
 * The pixi project a notebook lies in, found as pixi finds it: from the
 * notebook's folder upwards, the first folder with a `pixi.toml`, or with a
 * `pyproject.toml` that has a `[tool.pixi]` table (one without is passed
 * over). The walk stops at the Jupyter root: the companion reads nothing
 * above the folder it serves.
 */
import { existsSync, promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { isPixiPyproject, parsePixiManifest, type PixiProject } from './pixiManifest';

/** A project found, or the manifest found and the sentence saying why it could not be read. */
export type FoundProject = { project: PixiProject } | { manifest: string; problem: string };

export async function findPixiProject(
  rootDir: string,
  notebookPath: string
): Promise<FoundProject | null> {
  for (const dir of foldersUp(rootDir, dirname(notebookPath))) {
    const pixiToml = join(dir, 'pixi.toml');
    const text = await readIfThere(pixiToml);
    if (text !== null) {
      return parsed(text, pixiToml);
    }
    const pyproject = join(dir, 'pyproject.toml');
    const pyText = await readIfThere(pyproject);
    if (pyText !== null && isPixiPyproject(pyText)) {
      return parsed(pyText, pyproject);
    }
  }
  return null;
}

/** `from` and each folder above it, up to and including `root`; none when `from` is outside it. */
export function foldersUp(root: string, from: string): string[] {
  const rel = relative(root, from);
  if (rel.startsWith('..') || rel.startsWith(sep)) {
    return [];
  }
  const out: string[] = [];
  let dir = from;
  for (;;) {
    out.push(dir);
    if (dir === root || relative(root, dir) === '') {
      return out;
    }
    dir = dirname(dir);
  }
}

function parsed(text: string, manifest: string): FoundProject {
  try {
    return { project: parsePixiManifest(text, manifest) };
  } catch (e) {
    return { manifest, problem: (e as Error).message };
  }
}

async function readIfThere(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if (
      (e as NodeJS.ErrnoException).code === 'ENOENT' ||
      (e as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return null;
    }
    throw e;
  }
}

/** pixi keeps a project's environments in `.pixi/envs/<name>`, each a conda prefix. */
export function environmentInstalled(project: PixiProject, environment: string): boolean {
  return existsSync(join(project.dir, '.pixi', 'envs', environment, 'conda-meta'));
}

/** The python of an installed environment (a conda prefix). */
export function environmentPython(project: PixiProject, environment: string): string {
  return join(project.dir, '.pixi', 'envs', environment, 'bin', 'python');
}

/** Whether this machine has an NVIDIA GPU: its driver's file, without running anything. */
export function machineHasGpu(): boolean {
  return existsSync('/proc/driver/nvidia/version');
}
