/**
 * Refuses a notebook that nbconvert would refuse, before it waits in a queue:
 * the profile's own environment validates it with nbformat, the way the job
 * would read it, in a worker that stays up for the next notebooks
 * (validationWorkers.ts). An environment that cannot answer (no nbformat, no
 * launcher, too slow) refuses nothing: the profile's kernel check already
 * reports a broken environment.
 */
import { promises as fs } from 'node:fs';
import type { Profile } from '../../contract/wire';
import { invalid } from './refusal';
import { launchCommand } from './kernels';
import { ValidationWorkers } from './validationWorkers';

/**
 * As nbconvert reads a notebook (exporter.from_filename, then _preprocess):
 * read as version 4, normalized, validated with additional properties allowed.
 * One JSON line in ({"path"}), one out; the location is where in the notebook
 * the schema failed. jsonschema imports rfc3987_syntax, where installed, for a
 * format check that nbformat never asks for; building its grammar is most of a second.
 */
const WORKER = `
import json, sys
sys.modules["rfc3987_syntax"] = None
import nbformat
from nbformat import validator

def verdict(path):
    try:
        nb = nbformat.read(path, as_version=4)
        if hasattr(validator, "normalize"):
            _, nb = validator.normalize(nb)
        nbformat.validate(nb, relax_add_props=True)
        return {"valid": True}
    except (nbformat.ValidationError, nbformat.NBFormatError) as error:
        path = list(getattr(error, "relative_path", None) or [])
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        message = getattr(error, "message", None) or str(error).strip().splitlines()[0]
        return {"valid": False, "message": message, "where": where}

while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        answer = verdict(json.loads(line)["path"])
    except Exception as error:
        answer = {"unanswered": f"{type(error).__name__}: {error}"[:300]}
    sys.stdout.write(json.dumps(answer) + "\\n")
    sys.stdout.flush()
`;

/** The worker's command line in the profile's environment. */
export function validationCommand(profile: Profile): string[] {
  return launchCommand(profile, ['-c', WORKER]);
}

const stderrLog = (line: string): void => {
  process.stderr.write(`[hpc-submit] ${line}\n`);
};

/**
 * The companion's validation: its workers (a few environments and
 * directories at once, each idle for 2 min at most) and the notebooks they
 * found valid. Made by serve.ts, which stops it on close.
 */
export class NotebookValidator {
  private readonly workers = new ValidationWorkers({ timeoutMs: 15_000, idleMs: 120_000, max: 4 });
  /** Profile, path, size and mtime of the notebooks found valid. */
  private readonly foundValid = new Set<string>();

  constructor(private readonly log: (line: string) => void = stderrLog) {}

  /**
   * Refuses (invalid) with nbformat's own message when the profile's
   * environment finds the notebook invalid; logs and lets it pass when it
   * cannot tell.
   */
  async refuseInvalid(
    profile: Profile,
    nb: { absolute: string; relative: string; dir: string },
    env: NodeJS.ProcessEnv
  ): Promise<void> {
    // A notebook found valid is not checked again until it changes (a run
    // again, a sweep of the same file).
    const stat = await fs.stat(nb.absolute);
    const key = `${profile.id}\0${nb.absolute}\0${stat.size}\0${stat.mtimeMs}`;
    if (this.foundValid.has(key)) {
      return;
    }
    // In the notebook's directory, as the job runs: the same modules are found first.
    const verdict = await this.workers.check(validationCommand(profile), nb.dir, env, nb.absolute);
    if ('unanswered' in verdict) {
      this.log(
        `could not validate ${nb.relative} in profile ${profile.id}'s environment ` +
          `(${verdict.unanswered}); submitting it unchecked`
      );
      return;
    }
    if (!verdict.valid) {
      const where = verdict.where ? ` (in ${verdict.where})` : '';
      throw invalid(
        `${JSON.stringify(nb.relative)} is not a valid notebook: ${verdict.message}${where}`
      );
    }
    if (this.foundValid.size >= 1000) {
      this.foundValid.clear();
    }
    this.foundValid.add(key);
  }

  stop(): void {
    this.workers.stopAll();
  }
}
