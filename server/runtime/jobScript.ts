/**
 * Renders a job's script: a header of its values, each quoted once by
 * shellQuote, then the body shipped as job.sh (this folder), which both
 * executors run and which only expands those values in double quotes, so a
 * file name can never become code. status.json's schema is in jobStatus.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { shellQuote } from './shellQuote';

export interface JobScriptInput {
  jobId: string;
  jobDir: string;
  /** Absolute path of the source notebook: what the run is of. */
  notebookPath: string;
  /**
   * Absolute path of the file nbconvert executes, when it is not the source:
   * the copy with the run's parameters injected. It is read from stdin, so
   * that the kernel still starts in `cwd` (nbconvert starts it in the folder
   * of a notebook named on its command line).
   */
  executePath?: string;
  /** Absolute: <notebook dir>/executed by default. */
  outputDir: string;
  /** File name only: <stem>_executed.ipynb. */
  outputName: string;
  cwd: string;
  launcher: string[];
  python: string;
  kernel: string;
  requireGpu: boolean;
  /** Absolute path to the runtime nbconvert_config.py. */
  nbconvertConfigPath: string;
  /** Absolute path to the runtime sampler.py; default: the one shipped with the companion. */
  samplerPath?: string;
}

/** "a b.ipynb" -> "a b_executed.ipynb" */
export function outputNameFor(notebookFileName: string): string {
  const name = basename(notebookFileName);
  const stem = name.toLowerCase().endsWith('.ipynb') ? name.slice(0, -'.ipynb'.length) : name;
  return `${stem}_executed.ipynb`;
}

/**
 * A file shipped with the companion: beside the bundle (hpc-submit.cjs and its
 * copies made by scripts/build-companion.mjs), or in the source tree when run
 * with tsx (this folder, schema/).
 */
export function runtimeFile(
  name: 'job.sh' | 'nbconvert_config.py' | 'sampler.py' | 'parameterize.py' | 'profiles.schema.json'
): string {
  const candidates = [join(__dirname, name), join(__dirname, '..', '..', 'schema', name)];
  for (const candidate of candidates) {
    if (existsSync(candidate)) {
      return candidate;
    }
  }
  throw new Error(
    `the companion's runtime file ${name} is missing (looked in ${candidates.join(', ')})`
  );
}

/**
 * nbconvert treats each notebook argument as a glob pattern; a name such as
 * "run[1].ipynb" would not match itself, and "a*.ipynb" would run its
 * neighbours too. Bracketing the magic characters, as Python's glob.escape
 * does, makes the pattern match exactly the one file. nbconvert also runs
 * the pattern + ".ipynb", which escaping cannot stop: resolveNotebook refuses
 * a notebook with such a sibling.
 */
export function globEscape(path: string): string {
  return path.replace(/[[*?]/g, c => `[${c}]`);
}

/**
 * The value of nbconvert's --output for an output file name. nbconvert runs
 * it through str.format (so braces are doubled) and traitlets through
 * expanduser (so a leading "~" is kept from it by "./", which nbconvert's
 * writer joins away).
 */
export function nbconvertOutputBase(outputName: string): string {
  return `./${outputName.replace(/[{}]/g, c => c + c)}`;
}

let body: string | undefined;
/** job.sh as shipped, without its shebang: the header below takes its place. */
function jobScriptBody(): string {
  body ??= readFileSync(runtimeFile('job.sh'), 'utf8').replace(/^#!.*\n/, '');
  return body;
}

/** The job's values, each quoted once, then job.sh's body, which only expands them. */
export function renderJobScript(input: JobScriptInput): string {
  const q = shellQuote;
  const launch = [...input.launcher, input.python || 'python'].map(q).join(' ');
  const header = `#!/bin/bash
# Job script of jupyterlab-hpc-submit, job ${q(input.jobId).replace(/\n/g, ' ')}.
# Runs the notebook with nbconvert and records the job's own account of its
# start and end in status.json. Values are quoted once here; the body after
# them (job.sh) only expands them in quotes.
set -u

JOB_ID=${q(input.jobId)}
JOB_DIR=${q(input.jobDir)}
NOTEBOOK=${q(input.notebookPath)}
NOTEBOOK_ARG=${q(globEscape(input.notebookPath))}
EXECUTE=${q(input.executePath ?? '')}
OUTPUT_DIR=${q(input.outputDir)}
OUTPUT_NAME=${q(input.outputName)}
OUTPUT_BASE=${q(nbconvertOutputBase(input.outputName))}
WORK_DIR=${q(input.cwd)}
KERNEL=${q(input.kernel)}
NBCONVERT_CONFIG=${q(input.nbconvertConfigPath)}
SAMPLER=${q(input.samplerPath ?? runtimeFile('sampler.py'))}
REQUIRE_GPU=${input.requireGpu ? 1 : 0}
LAUNCH=(${launch})

`;
  return header + jobScriptBody();
}
