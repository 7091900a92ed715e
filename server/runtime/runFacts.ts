/**
 * run.json: what the companion knows of a job when it submits it (profile,
 * resources, executor, launcher), written into the job's directory for
 * nbconvert_config.py, which joins it with what only the compute node knows
 * (node, GPUs, times, outcome, environment) into the run record of the
 * executed notebook. Passed as a file of data, so no value is ever code.
 */
import type { ExecutorName, Resources } from '../../contract/wire';

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

/** A GPU of the run: from `nvidia-smi -L` when it answers, else an entry of CUDA_VISIBLE_DEVICES. */
export interface RunGpu {
  index?: number;
  name?: string;
  uuid?: string;
}

/** metadata.hpc_submit.run of an executed notebook, as nbconvert_config.py writes it. */
export interface RunRecord {
  jobId?: string;
  /** SLURM_JOB_ID under Slurm; the local executor names a run by the job id. */
  schedulerId?: string;
  executor?: ExecutorName;
  profile?: string;
  resources?: Resources;
  node: string;
  gpus: RunGpu[];
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  /** The outcome in status.json's terms. */
  state: 'completed' | 'failed' | 'timeout' | 'terminated';
  reason?: string;
  kernel: string;
  launcher?: string[];
  pythonVersion: string;
  /** Absent outside a git work tree or without git on PATH. */
  git?: { commit: string; dirty: boolean };
  environment:
    { source: 'pixi.lock'; path: string; sha256: string } | { source: 'packages'; sha256: string };
}
