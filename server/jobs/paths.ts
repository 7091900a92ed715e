/**
 * Confines notebook paths from requests to the Jupyter root. A path is taken
 * only when it names an existing notebook file whose real location (symlinks
 * resolved) lies inside the root; everything else is refused with a sentence
 * that says why, before anything is written or run.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { Refusal, invalid } from './refusal';
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

/**
 * Syntactic checks only; pure. Answers the normalized relative path. The path
 * is read as the Jupyter contents API writes it: "/" is the only separator,
 * and any other character (a backslash, a leading dash, "C:") belongs to a name.
 */
export function checkNotebookPath(path: unknown): string {
  const parts = checkRootRelative(path, 'notebook', NOTEBOOK_PATH_EXPECTED);
  const name = parts[parts.length - 1];
  if (!name.toLowerCase().endsWith('.ipynb')) {
    throw invalid(`${JSON.stringify(name)} is not a notebook: only .ipynb files can be run`);
  }
  return parts.join('/');
}

/**
 * The syntactic checks of any path a request names under the root (a
 * notebook, a pipeline file); answers its parts. `noun` names it in the
 * sentences, `expected` says what it must be.
 */
export function checkRootRelative(path: unknown, noun: string, expected: string): string[] {
  if (typeof path !== 'string' || path.trim() === '') {
    throw invalid(expected);
  }
  if (path.length > 4096) {
    throw invalid(`the ${noun} path is too long`);
  }
  if (path.includes('\0')) {
    throw invalid(`the ${noun} path contains a NUL byte`);
  }
  if (path.startsWith('/')) {
    throw invalid(
      `the ${noun} path must be relative to the Jupyter root, not absolute: ${JSON.stringify(path)}`
    );
  }
  const parts = path.split('/').filter(p => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw invalid(`the ${noun} path may not contain "..": ${JSON.stringify(path)}`);
  }
  if (parts.length === 0) {
    throw invalid(expected);
  }
  return parts;
}

/**
 * The real path of `rel` under the (real) root, refused where it is missing
 * or leads out of the root through a symbolic link.
 */
export async function realUnderRoot(
  rootDir: string,
  rel: string,
  noun: string
): Promise<{ root: string; real: string }> {
  const root = await fs.realpath(rootDir);
  let real: string;
  try {
    real = await fs.realpath(join(root, rel));
  } catch {
    throw new Refusal('not-found', `no ${noun} at ${JSON.stringify(rel)} under the Jupyter root`);
  }
  if (!inside(root, real)) {
    throw invalid(
      `${JSON.stringify(rel)} leads outside the Jupyter root (through a symbolic link)`
    );
  }
  return { root, real };
}

/** Resolves and checks a notebook path against the (real) root directory. */
export async function resolveNotebook(rootDir: string, path: unknown): Promise<ResolvedNotebook> {
  const rel = checkNotebookPath(path);
  const { root, real } = await realUnderRoot(rootDir, rel, 'notebook');
  await checkNotebookFile(real, rel);
  await refuseShadowingSibling(root, real);
  const dir = dirname(real);
  const outputDir = join(dir, 'executed');
  // An existing executed/ that is a link out of the root would let a run write elsewhere.
  const outputReal = await fs.realpath(outputDir).catch(() => outputDir);
  if (!inside(root, outputReal)) {
    throw invalid(
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

/**
 * nbconvert runs every match of its argument and of the argument + ".ipynb";
 * escaping cannot stop the second, so "x.ipynb.ipynb" beside "x.ipynb" would
 * be run too and overwrite the same output. Any kind of entry counts, as it
 * does for nbconvert's glob (os.path.lexists). Named as they lie under the
 * root: beside the real notebook, where a symbolic link leads.
 */
async function refuseShadowingSibling(root: string, real: string): Promise<void> {
  const sibling = `${real}.ipynb`;
  const exists = await fs.lstat(sibling).then(
    () => true,
    () => false
  );
  if (exists) {
    const named = (path: string) => JSON.stringify(relative(root, path).split(sep).join('/'));
    throw invalid(
      `a file named ${named(sibling)} lies beside ${named(real)}: ` +
        'nbconvert would run it too and overwrite the output; rename one of them'
    );
  }
}

/** The file itself: a regular file of sensible size, named .ipynb, holding a notebook. */
async function checkNotebookFile(real: string, rel: string): Promise<void> {
  const stat = await fs.stat(real);
  if (stat.isDirectory()) {
    throw invalid(`${JSON.stringify(rel)} is a directory, not a notebook`);
  }
  if (!stat.isFile()) {
    throw invalid(`${JSON.stringify(rel)} is not a regular file`);
  }
  if (stat.size > MAX_NOTEBOOK_BYTES) {
    throw invalid(`${JSON.stringify(rel)} is larger than 256 MB`);
  }
  if (!real.toLowerCase().endsWith('.ipynb')) {
    throw invalid(`${JSON.stringify(rel)} links to a file that is not a notebook`);
  }
  let nb: unknown;
  try {
    nb = JSON.parse(await fs.readFile(real, 'utf8'));
  } catch {
    throw invalid(`${JSON.stringify(rel)} is not a valid notebook: it is not JSON`);
  }
  const n = nb as { cells?: unknown; nbformat?: unknown };
  if (
    typeof nb !== 'object' ||
    nb === null ||
    !Array.isArray(n.cells) ||
    typeof n.nbformat !== 'number'
  ) {
    throw invalid(
      `${JSON.stringify(rel)} is not a valid notebook: it has no "cells" or "nbformat"`
    );
  }
}
