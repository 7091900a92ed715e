/**
 * Confines notebook paths from requests to the Jupyter root. A path is taken
 * only when it names an existing notebook file whose real location (symlinks
 * resolved) lies inside the root; everything else is refused with a sentence
 * that says why, before anything is written or run.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { HttpError, badRequest } from '../http/httpError';
import { outputNameFor } from '../runtime/jobScript';

export interface ResolvedNotebook {
  /** As given, normalized to '/' separators, relative to the root. */
  relative: string;
  /** Real absolute path of the notebook. */
  absolute: string;
  /** The notebook's directory: the job's working directory. */
  dir: string;
  /** Absolute directory of the executed notebook: <dir>/executed. */
  outputDir: string;
  outputName: string;
  /** The executed notebook relative to the root, '/'-separated. */
  outputRelative: string;
}

export const NOTEBOOK_PATH_EXPECTED =
  '"notebook" must be a path relative to the Jupyter root, such as "analysis/run.ipynb"';

const MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024;

function inside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Syntactic checks only; pure. Answers the normalized relative path. */
export function checkNotebookPath(path: unknown): string {
  if (typeof path !== 'string' || path.trim() === '') {
    throw badRequest(NOTEBOOK_PATH_EXPECTED);
  }
  if (path.length > 4096) {
    throw badRequest('the notebook path is too long');
  }
  if (path.includes('\0')) {
    throw badRequest('the notebook path contains a NUL byte');
  }
  if (isAbsolute(path) || path.startsWith('\\') || /^[a-zA-Z]:/.test(path)) {
    throw badRequest(
      `the notebook path must be relative to the Jupyter root, not absolute: ${JSON.stringify(path)}`
    );
  }
  const parts = path.split(/[\\/]+/).filter(p => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw badRequest(`the notebook path may not contain "..": ${JSON.stringify(path)}`);
  }
  if (parts.length === 0) {
    throw badRequest('"notebook" must name a notebook file');
  }
  const name = parts[parts.length - 1];
  if (!name.toLowerCase().endsWith('.ipynb')) {
    throw badRequest(`${JSON.stringify(name)} is not a notebook: only .ipynb files can be run`);
  }
  return parts.join('/');
}

/** Resolves and checks a notebook path against the (real) root directory. */
export async function resolveNotebook(rootDir: string, path: unknown): Promise<ResolvedNotebook> {
  const rel = checkNotebookPath(path);
  const root = await fs.realpath(rootDir);
  let real: string;
  try {
    real = await fs.realpath(join(root, rel));
  } catch {
    throw new HttpError(404, `no notebook at ${JSON.stringify(rel)} under the Jupyter root`);
  }
  if (!inside(root, real)) {
    throw badRequest(
      `${JSON.stringify(rel)} leads outside the Jupyter root (through a symbolic link)`
    );
  }
  await checkNotebookFile(real, rel);
  const dir = dirname(real);
  const outputDir = join(dir, 'executed');
  // An existing executed/ that is a link out of the root would let a run write elsewhere.
  const outputReal = await fs.realpath(outputDir).catch(() => outputDir);
  if (!inside(root, outputReal)) {
    throw badRequest(
      `the output directory ${JSON.stringify(relative(root, outputDir))} leads outside the Jupyter root`
    );
  }
  const outputName = outputNameFor(basename(real));
  return {
    relative: rel,
    absolute: real,
    dir,
    outputDir,
    outputName,
    outputRelative: relative(root, join(outputDir, outputName)).split(sep).join('/')
  };
}

/** The file itself: a regular file of sensible size, named .ipynb, holding a notebook. */
async function checkNotebookFile(real: string, rel: string): Promise<void> {
  const stat = await fs.stat(real);
  if (stat.isDirectory()) {
    throw badRequest(`${JSON.stringify(rel)} is a directory, not a notebook`);
  }
  if (!stat.isFile()) {
    throw badRequest(`${JSON.stringify(rel)} is not a regular file`);
  }
  if (stat.size > MAX_NOTEBOOK_BYTES) {
    throw badRequest(`${JSON.stringify(rel)} is larger than 256 MB`);
  }
  if (!real.toLowerCase().endsWith('.ipynb')) {
    throw badRequest(`${JSON.stringify(rel)} links to a file that is not a notebook`);
  }
  let nb: unknown;
  try {
    nb = JSON.parse(await fs.readFile(real, 'utf8'));
  } catch {
    throw badRequest(`${JSON.stringify(rel)} is not a valid notebook: it is not JSON`);
  }
  const n = nb as { cells?: unknown; nbformat?: unknown };
  if (
    typeof nb !== 'object' ||
    nb === null ||
    !Array.isArray(n.cells) ||
    typeof n.nbformat !== 'number'
  ) {
    throw badRequest(
      `${JSON.stringify(rel)} is not a valid notebook: it has no "cells" or "nbformat"`
    );
  }
}
