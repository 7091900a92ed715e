/**
 * The port between the job service and a scheduler. Two adapters implement it:
 * slurm.ts (sbatch/squeue/scancel, one batched squeue per poll) and local.ts
 * (child processes on this machine, the embedded default). Executors never
 * decide a job's final state alone: the job's own status.json (written by the
 * job script) is read by the poller (server/jobs/reconcile.ts) and wins over
 * what the scheduler says.
 */
import type {
  EstimateAnswer,
  ExecutorName,
  ProfileMail,
  Resources,
  SchedulerHealth
} from '../../contract/wire';

/** Everything an executor needs to start one job. All paths are absolute. */
export interface LaunchSpec {
  /** Our job id (directory name under the state dir). */
  jobId: string;
  jobDir: string;
  /** job.sh inside jobDir: the exact script, rendered by jobScript.ts. */
  scriptPath: string;
  /** log.txt inside jobDir: stdout and stderr of the job. */
  logPath: string;
  /** Working directory of the job: the notebook's own directory. */
  cwd: string;
  /** Resolved resources (profile defaults merged with the notebook's request). */
  resources: Resources;
  /** The job's environment, already scrubbed of every token (env.ts). */
  env: NodeJS.ProcessEnv;
  /** A display name for the scheduler (the notebook's file name). */
  name: string;
  /** The profile's mail request; Slurm sends it where the companion knows the user's address. */
  mail?: ProfileMail;
  /** Start only after these runs (a pipeline's earlier steps): the scheduler holds the wait. */
  after?: Dependency;
}

/**
 * What a run waits for: the scheduler ids of earlier runs (a job array's id
 * stands for every task), each to complete, or with `any` to end however it
 * ends (Slurm's afterok and afterany).
 */
export interface Dependency {
  schedulerIds: string[];
  any: boolean;
}

/** How the tasks of one sweep are started. */
export interface ArrayOptions {
  sweepId: string;
  /** At most this many tasks run at once. */
  maxParallel: number;
  /** A directory of the sweep's own (the array's dispatcher script lives there). */
  sweepDir: string;
}

/** What the scheduler says of one job, in its own terms mapped to ours. */
export interface Observation {
  /**
   * pending: accepted, not started; running: on a node; ended: the scheduler
   * knows it ended (see endState); gone: the scheduler no longer knows the id.
   */
  phase: 'pending' | 'running' | 'ended' | 'gone';
  node?: string;
  /** The scheduler's reason: "Priority", "Resources", "TimeLimit", "OutOfMemory" ... */
  reason?: string;
  /** Only with phase 'pending': the scheduler's own estimate of the start (ISO 8601). */
  expectedStart?: string;
  /** Only with phase 'ended'. */
  endState?: 'completed' | 'failed' | 'cancelled' | 'timeout';
  exitCode?: number;
}

/** What the scheduler's accounting (sacct) says of one ended job, folded over its steps. */
export interface AccountingRecord {
  /** The allocation line's state, e.g. COMPLETED, FAILED, OUT_OF_MEMORY, CANCELLED. */
  state: string;
  /** "exit:signal", as sacct prints it. */
  exitCode?: string;
  elapsedSeconds?: number;
  /** User + system CPU time of every step. */
  totalCpuSeconds?: number;
  allocCpus?: number;
  /** The largest MaxRSS of the job's steps; absent where the site gathers none. */
  maxRssBytes?: number;
  /** Whether the scheduler's figures are final: the job left every state in which they still change. */
  final: boolean;
  /** Whether the batch step has reached the database (its MaxRSS comes with it). */
  hasBatchStep: boolean;
}

/** What the accounting answered for a batch of jobs. */
export type AccountingAnswer =
  | { kind: 'records'; records: Map<string, AccountingRecord> }
  /** The site keeps no accounting: asking again would answer the same. */
  | { kind: 'disabled'; message: string };

/** A local run of another host: only the companion on that host can signal it. */
export class RunElsewhereError extends Error {
  constructor(readonly host: string) {
    super(`runs on ${host}: cancel it from a companion on ${host}`);
    this.name = 'RunElsewhereError';
  }
}

/** Thrown when the scheduler does not answer; the poller then backs off and submissions are refused. */
export class SchedulerUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerUnreachableError';
  }
}

/** Whether the scheduler answers, and what it offers. */
export interface SchedulerInfo extends SchedulerHealth {
  /** Partition names (slurm); empty for local. */
  partitions: string[];
}

/** The user's crontab as the scheduler holds it: read and replaced whole. */
export interface CronTable {
  /** The text, '' when the user has none. Rejects when the scheduler does not answer or refuses. */
  read(): Promise<string>;
  /** Replaces it; rejects with the scheduler's own words when it refuses the text. */
  write(text: string): Promise<void>;
}

export interface Executor {
  readonly name: ExecutorName;
  /** Starts the job; answers the scheduler's id. Rejects with a clear message. */
  submit(spec: LaunchSpec): Promise<string>;
  /**
   * One batched query for all the given ids (one squeue call for slurm).
   * Ids missing from the scheduler answer phase 'gone'.
   * Throws SchedulerUnreachableError when the scheduler does not answer.
   */
  observe(schedulerIds: string[]): Promise<Map<string, Observation>>;
  /**
   * Starts the tasks of one sweep as one submission (one Slurm job array,
   * `--array=0-(N-1)%maxParallel`); answers each task's scheduler id, in task
   * order. Each spec's jobDir is `<jobs dir>/<sweepId>-<taskIndex>`.
   */
  submitArray(specs: LaunchSpec[], opts: ArrayOptions): Promise<string[]>;
  /** Asks the scheduler to stop the job; resolves once the request is accepted. */
  cancel(schedulerId: string): Promise<void>;
  /** Stops every task of one sweep with one request (one scancel of the array). */
  cancelArray(schedulerIds: string[]): Promise<void>;
  /** Reachability and partitions, for /api/profiles and doctor. */
  describe(): Promise<SchedulerInfo>;
  /**
   * When a run with these resources would start if submitted now (sbatch
   * --test-only for slurm). Answers "no estimate" rather than throwing.
   */
  estimateStart?(resources: Resources): Promise<EstimateAnswer>;
  /**
   * What the scheduler's accounting says of these ended jobs, in one call
   * (one sacct for slurm); absent where there is none (local). Throws when
   * the accounting does not answer now.
   */
  accounting?(schedulerIds: string[]): Promise<AccountingAnswer>;
  /**
   * The user's crontab, held by the scheduler (Slurm's scrontab), so that a
   * schedule starts whether or not a companion runs; absent where nothing
   * would hold one (local).
   */
  readonly crontab?: CronTable;
  /** Re-attaches to jobs after a restart of the companion (local executor). */
  adopt?(schedulerIds: string[]): Promise<void>;
  close?(): Promise<void>;
}
