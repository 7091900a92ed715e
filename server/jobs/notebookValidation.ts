/**
 * Refuses a notebook that nbconvert would refuse, before it waits in a queue:
 * the profile's own environment validates it with nbformat, the way the job
 * would read it (`<launcher…> <python> -c <check> <path>`). An environment
 * that cannot answer (no nbformat, no launcher, too slow) refuses nothing:
 * the profile's kernel check already reports a broken environment.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type { Profile } from '../../contract/wire';
import { badRequest } from '../http/httpError';
import { launchCommand } from './kernels';

const TIMEOUT_MS = 15_000;

/**
 * As nbconvert reads a notebook (exporter.from_filename, then _preprocess):
 * read as version 4, normalized, validated with additional properties allowed.
 * Answers one JSON line; the location is where in the notebook the schema failed.
 * jsonschema imports rfc3987_syntax, where installed, for a format check that
 * nbformat never asks for; building its grammar is most of a second.
 */
const CHECK = `
import json, sys
sys.modules["rfc3987_syntax"] = None
import nbformat
from nbformat import validator
try:
    nb = nbformat.read(sys.argv[1], as_version=4)
    if hasattr(validator, "normalize"):
        _, nb = validator.normalize(nb)
    nbformat.validate(nb, relax_add_props=True)
    print(json.dumps({"valid": True}))
except (nbformat.ValidationError, nbformat.NBFormatError) as error:
    path = list(getattr(error, "relative_path", None) or [])
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    message = getattr(error, "message", None) or str(error).strip().splitlines()[0]
    print(json.dumps({"valid": False, "message": message, "where": where}))
`;

/** What the environment answered: valid, invalid with nbformat's words, or nothing usable. */
export type Verdict =
  { valid: true } | { valid: false; message: string; where: string } | { unanswered: string };

/** Pure: the check's outcome from the process's exit and output. */
export function verdictOf(error: Error | null, stdout: string, stderr: string): Verdict {
  const last = stdout.trim().split('\n').pop() ?? '';
  if (!error) {
    try {
      const answer = JSON.parse(last) as { valid?: unknown; message?: unknown; where?: unknown };
      if (answer.valid === true) {
        return { valid: true };
      }
      if (answer.valid === false && typeof answer.message === 'string') {
        return {
          valid: false,
          message: answer.message,
          where: typeof answer.where === 'string' ? answer.where : ''
        };
      }
    } catch {
      // Not our answer (a launcher's chatter): unanswered below.
    }
  }
  const words = stderr.trim().split('\n').pop() || error?.message || 'no answer';
  return { unanswered: words.slice(0, 300) };
}

function check(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Verdict> {
  return new Promise(resolve => {
    execFile(
      argv[0],
      argv.slice(1),
      { cwd, env, timeout: TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => resolve(verdictOf(error, String(stdout), String(stderr)))
    );
  });
}

const stderrLog = (line: string): void => {
  process.stderr.write(`[hpc-submit] ${line}\n`);
};

/**
 * Throws a 400 with nbformat's own message when the profile's environment
 * finds the notebook invalid; logs and lets it pass when it cannot tell.
 */
export async function refuseInvalidNotebook(
  profile: Profile,
  nb: { absolute: string; relative: string; dir: string },
  env: NodeJS.ProcessEnv,
  log: (line: string) => void = stderrLog
): Promise<void> {
  // A check costs a Python start (about 0.3 s): a notebook found valid is not
  // checked again until it changes (a run again, a sweep of the same file).
  const stat = await fs.stat(nb.absolute);
  const key = `${profile.id}\0${nb.absolute}\0${stat.size}\0${stat.mtimeMs}`;
  if (foundValid.has(key)) {
    return;
  }
  // In the notebook's directory, as the job runs: the same modules are found first.
  const verdict = await check(launchCommand(profile, ['-c', CHECK, nb.absolute]), nb.dir, env);
  if ('unanswered' in verdict) {
    log(
      `could not validate ${nb.relative} in profile ${profile.id}'s environment ` +
        `(${verdict.unanswered}); submitting it unchecked`
    );
    return;
  }
  if (!verdict.valid) {
    const where = verdict.where ? ` (in ${verdict.where})` : '';
    throw badRequest(
      `${JSON.stringify(nb.relative)} is not a valid notebook: ${verdict.message}${where}`
    );
  }
  if (foundValid.size >= 1000) {
    foundValid.clear();
  }
  foundValid.add(key);
}

/** Profile, path, size and mtime of the notebooks found valid. */
const foundValid = new Set<string>();
