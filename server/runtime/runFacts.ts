/**
 * run.json: what the companion knows of a job when it submits it (profile,
 * resources, executor, launcher), written into the job's directory for
 * nbconvert_config.py, which joins it with what only the compute node knows
 * (node, GPUs, times, outcome, environment) into the run record of the
 * executed notebook. Passed as a file of data, so no value is ever code.
 */
import type { ExecutorName, Resources } from '../../contract/wire';

// The run record's types are the wire's: the extension shows it in "Run details".
export type { RunGpu, RunRecord } from '../../contract/wire';

/** Read by nbconvert_config.py (RUN_FACTS_FILE there) from $HPC_SUBMIT_JOB_DIR. */
export const RUN_FACTS_FILE = 'run.json';

export interface RunFacts {
  jobId: string;
  executor: ExecutorName;
  profile: string;
  resources: Resources;
  launcher: string[];
  /** Absolute path of the source notebook. */
  notebookPath: string;
}

export function runFactsJson(facts: RunFacts): string {
  return JSON.stringify(facts, null, 1) + '\n';
}
