/**
 * The wire types of the companion's HTTP API: the one definition shared by the
 * JupyterLab extension (src/) and the companion (server/). Keep this file free
 * of imports so both sides can compile it.
 */

export type JobState =
  'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'timeout' | 'unknown';

/** States after which a job never changes again. */
export const FINAL_STATES: readonly JobState[] = ['completed', 'failed', 'cancelled', 'timeout'];

export type ExecutorName = 'slurm' | 'local';

/** What a job asks of the scheduler. Every field is optional in a request. */
export interface Resources {
  partition?: string;
  gpus?: number;
  cpus?: number;
  /** Slurm memory syntax: "32G", "512M". */
  memory?: string;
  /** Slurm time syntax: "04:00:00", "1-00:00:00", "30" (minutes). */
  time?: string;
}

export interface Profile {
  id: string;
  label: string;
  /** The kernel the notebook is executed with on the compute node. */
  kernel: string;
  /** The command prefix that enters the environment, e.g. ["pixi","run","-e","gpu"]. */
  launcher: string[];
  /** The python run after the launcher; defaults to "python". */
  python?: string;
  /** Defaults of the run, and (without `limits`) the most a notebook may ask for. */
  resources: Resources;
  /** The most a notebook may ask for; defaults to `resources`. */
  limits?: Resources;
  /** Fail fast with "no GPU visible on <host>" when the job starts without a GPU. */
  requireGpu?: boolean;
  /**
   * Mail from Slurm about the run's events; sent only where the companion
   * knows the user's address (HPC_SUBMIT_MAIL_USER).
   */
  mail?: ProfileMail;
  /** The most tasks of one sweep that run at once on this profile; a sweep asking for more gets this many. */
  maxParallel?: number;
  /**
   * The CUDA version of the profile's nodes ("12.8"): told to pixi as
   * CONDA_OVERRIDE_CUDA when an environment that needs CUDA is installed on a
   * machine without a GPU, such as the hub.
   */
  cuda?: string;
}

/** What a notebook runs with: a site profile, and maybe an environment of its pixi project. */
export interface RunChoice {
  profile: string;
  environment?: string;
}

/**
 * One environment of the pixi project a notebook lies in, offered as the
 * run's environment on a site profile's hardware (GET /api/profiles?notebook=).
 */
export interface ProjectEnvironment {
  /** pixi's name of the environment: "gpu", "default". */
  name: string;
  /** The project's name, from its manifest. */
  project: string;
  /** The manifest (pixi.toml or pyproject.toml), relative to the Jupyter root. */
  manifest: string;
  /** The CUDA version the environment requires (pixi's system-requirements), when it needs CUDA. */
  cuda?: string;
  /** Whether pixi has installed it (`.pixi/envs/<name>` in the project). */
  installed: boolean;
}

/** Slurm's --mail-type events, as sbatch names them. */
export const SLURM_MAIL_TYPES = [
  'NONE',
  'BEGIN',
  'END',
  'FAIL',
  'REQUEUE',
  'ALL',
  'INVALID_DEPEND',
  'STAGE_OUT',
  'TIME_LIMIT',
  'TIME_LIMIT_90',
  'TIME_LIMIT_80',
  'TIME_LIMIT_50',
  'ARRAY_TASKS'
] as const;

export interface ProfileMail {
  /** Comma-separated SLURM_MAIL_TYPES: "END,FAIL". */
  type: string;
}

/** GET /api/profiles/:id/estimate: when a run of the profile would start if submitted now. */
export interface EstimateAnswer {
  /** ISO 8601: the scheduler's estimate; null when it gives none (and for the local executor). */
  expectedStart: string | null;
  /** In words: "expected to start ~14:32 (Slurm's estimate)", "starts now", "after 2 runs ahead". */
  message: string;
}

export type ProfileProblemCode =
  | 'launcher-missing'
  | 'environment-missing'
  | 'environment-broken'
  | 'kernel-missing'
  | 'partition-unknown'
  | 'scheduler-unreachable';

export interface ProfileProblem {
  code: ProfileProblemCode;
  /** A clear sentence for the user. */
  message: string;
  /** The one command that fixes it, when there is one. */
  fix?: string;
}

/** GET /api/profiles answers `{profiles: ProfileStatus[]}`. */
export interface ProfileStatus extends Profile {
  /** The profiles file this profile came from, or "built-in". */
  source?: string;
  /**
   * Set on a choice for a notebook inside a pixi project: the project's
   * environment this profile's hardware runs it in (launcher and kernel are
   * then the environment's).
   */
  environment?: ProjectEnvironment;
  available: boolean;
  problems: ProfileProblem[];
}

export interface Progress {
  /** Cells executed so far (code cells). */
  cell: number;
  /** Code cells in the notebook. */
  total: number;
}

export interface Job {
  id: string;
  /**
   * The notebook, relative to the asking companion's root ('/'-separated)
   * where it lies inside it; else its absolute path, with `outsideRoot` set.
   * A run is identified by its absolute notebook path, whichever root or host
   * submitted it.
   */
  notebook: string;
  /** The executed notebook, written like `notebook`. */
  output: string;
  /** Set when the run's notebook lies outside this companion's root (submitted from another one). */
  outsideRoot?: boolean;
  /** The host whose companion submitted the run; a local run runs there. */
  host?: string;
  profile: string;
  /** The pixi project environment it ran in on the profile's hardware, if one was picked. */
  environment?: string;
  kernel: string;
  resources: Resources;
  executor: ExecutorName;
  /** The scheduler's id (Slurm job id, or local pid); null before submission answered. */
  schedulerId: string | null;
  state: JobState;
  /** Why the job is in its state, in words: "no GPU visible on node1", "Priority". */
  reason?: string;
  node?: string;
  /** The GPUs the job saw (CUDA_VISIBLE_DEVICES or nvidia-smi), as reported by the job. */
  gpus?: string[];
  progress?: Progress;
  /** Live use while it runs, and its summary after the end (from the job's own samples). */
  usage?: UsageSummary;
  /** After the end: how the run used what it asked for. */
  efficiency?: Efficiency;
  /** Queued on Slurm: the scheduler's own estimate of the start (ISO 8601), when it has one. */
  expectedStart?: string;
  /** Set on each task of a sweep: the sweep's id (every task of one sweep shares it). */
  sweepId?: string;
  /** The task's place in its sweep, 0-based ($SLURM_ARRAY_TASK_ID under Slurm). */
  taskIndex?: number;
  /** How many tasks the sweep has. */
  taskCount?: number;
  /** On each task of a sweep: the summary.csv row it fills (a rerun's task fills the row it reran). */
  summaryRow?: SweepRow;
  /** On each run of a pipeline's step (each task, for a sweep step): the pipeline and the step. */
  pipeline?: PipelineStepRef;
  /** The values injected into the notebook (papermill's `injected-parameters` cell). */
  parameters?: Parameters;
  /**
   * After the end: the values the run recorded (scrapbook's glue, or the
   * variables the notebook names to record), by name, in the order recorded.
   */
  results?: Results;
  /** After the end: why a value the run tried to record was not kept ("big: 20,002 bytes…"). */
  resultNotes?: string[];
  /** ISO 8601 times. */
  submittedAt: string;
  startedAt?: string;
  endedAt?: string;
  exitCode?: number;
}

/** A recorded value: JSON (as a parameter is), with NaN and the infinities as the strings "NaN", "Infinity", "-Infinity". */
export type ResultValue = ParameterValue;

export type Results = Record<string, ResultValue>;

/** One row of a sweep's summary.csv: the sweep first submitted, and the row (its task index there). */
export interface SweepRow {
  summaryOf: string;
  row: number;
}

/** One GPU as the job's sampler saw it (nvidia-smi, for the granted devices). */
export interface GpuUse {
  index: number;
  /** Utilization, percent. */
  util: number;
  memUsedMiB: number;
  memTotalMiB: number;
}

/** One point of a run's use of the hardware, sampled by the job itself. */
export interface UsagePoint {
  /** ISO 8601. */
  t: string;
  /** CPU of the job's process tree since the last sample, percent of one core. */
  cpuPercent: number;
  /** Resident memory of the job's process tree, bytes. */
  rssBytes: number;
  gpus?: GpuUse[];
}

export interface UsageSummary {
  /** The newest sample. */
  latest?: UsagePoint;
  /** The last few samples, oldest first, for a small history line. */
  history: UsagePoint[];
  peakRssBytes: number;
  /** Mean GPU utilization over every sample, percent; absent without GPUs. */
  meanGpuUtil?: number;
  /** Memory asked (the resources' `memory`), bytes, when known. */
  memoryAskedBytes?: number;
  /** Set while the GPUs have stayed at 0% since the start for the idle-warning period. */
  gpuIdleWarning?: string;
}

export interface Efficiency {
  wallSeconds: number;
  timeLimitSeconds?: number;
  peakRssBytes?: number;
  memoryAskedBytes?: number;
  meanGpuUtil?: number;
  /** CPU time over (wall time × CPUs asked), percent. */
  cpuEfficiency?: number;
  /**
   * Where the figures come from: the job's own samples, which every site has,
   * and Slurm's accounting (sacct) where the site keeps it, which then gives
   * the wall time, CPU time and peak memory ('sacct': no samples were read).
   */
  source: 'samples' | 'samples+sacct' | 'sacct';
  /** Sentences where the request was far above use: "peak 3.1 GiB of 32 GiB asked". */
  hints: string[];
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

/** status.json of a run, as the job script writes it on the compute node. */
export interface RunStatus {
  phase: 'started' | 'ended';
  jobId?: string;
  host: string;
  gpus: string[];
  startedAt: string;
  pid?: number;
  endedAt?: string;
  exitCode?: number;
  outcome?: 'completed' | 'failed' | 'timeout' | 'terminated';
  reason?: string;
  signal?: string;
}

/** GET /api/jobs/:id/details: what the "Run details" view shows. */
export interface JobDetails {
  job: Job;
  /**
   * The executed notebook's run record; before there is one (queued, running,
   * or a run that never wrote its notebook), what the companion knew at
   * submission (job id, executor, profile, resources, launcher); null when
   * neither can be read.
   */
  run: Partial<RunRecord> | null;
  /** Where `run` comes from: the executed notebook, or the submission's run.json. */
  runSource: 'notebook' | 'submission' | null;
  /** Why `run` is missing or only the submission's facts, in words. */
  note?: string;
  /**
   * This run's executed notebook, where one holds its run record: the output
   * (written like `job.output`) while no later run replaced it, else the copy
   * kept in its job directory (an absolute path, `kept` set). Compare diffs these.
   */
  executed: ExecutedNotebook | null;
  /** The run's own status.json; null before the job started. */
  status: RunStatus | null;
}

export interface ExecutedNotebook {
  path: string;
  kept: boolean;
}

/** A parameter's value: any JSON value papermill's translator can write. */
export type ParameterValue =
  null | boolean | number | string | ParameterValue[] | { [key: string]: ParameterValue };

/** Parameter name -> value, as injected into one run. */
export type Parameters = Record<string, ParameterValue>;

/** One parameter of a notebook, as papermill's inspect_notebook reads its cell tagged `parameters`. */
export interface NotebookParameter {
  name: string;
  /** papermill's inferred type name ("int", "float", "str", "list", …); "None" when unknown. */
  inferredType: string;
  /** The default's source text, as written in the notebook ("0.01", "'nzra'"). */
  default: string;
  /** The comment after the assignment, if any. */
  help: string;
}

/** GET /api/parameters?notebook=PATH */
export interface NotebookParameters {
  notebook: string;
  /** False when no cell is tagged `parameters`: then a run with parameters is refused. */
  hasParametersCell: boolean;
  parameters: NotebookParameter[];
}

/**
 * Many runs of one notebook. Each swept parameter lists its values; the
 * tasks are their cartesian product (`product`) or the i-th value of each
 * (`zip`, all lists of one length). Fixed values come from `parameters`.
 */
export interface SweepRequest {
  parameters: Record<string, ParameterValue[]>;
  mode?: 'product' | 'zip';
  /** At most this many tasks run at once (Slurm's `--array=…%K`); capped by the profile's limit. */
  maxParallel?: number;
}

/** POST /api/jobs body. */
export interface SubmitRequest {
  notebook: string;
  profile: string;
  /** An environment of the notebook's pixi project to run in, on the profile's hardware. */
  environment?: string;
  resources?: Resources;
  idempotencyKey?: string;
  /** Values injected after the notebook's cell tagged `parameters` (papermill). */
  parameters?: Parameters;
  /** Makes the submission a sweep: one task per combination (one Slurm job array). */
  sweep?: SweepRequest;
  /** Accept parameter names the notebook's `parameters` cell does not define. */
  allowUnknownParameters?: boolean;
}

/**
 * The answer to a sweep's submission (POST /api/jobs with `sweep`, and
 * POST /api/sweeps/:id/rerun-failed): the sweep and its tasks, in task order.
 */
export interface SweepAnswer {
  sweep: SweepInfo;
  jobs: Job[];
}

export interface SweepInfo {
  id: string;
  notebook: string;
  profile: string;
  mode: 'product' | 'zip';
  taskCount: number;
  maxParallel: number;
  /** The folder of the tasks' outputs and summary.csv: executed/<stem>/ beside the notebook. */
  outputDir: string;
}

/** Which pipeline and step a run belongs to. */
export interface PipelineStepRef {
  pipelineId: string;
  /** The pipeline file, relative to the root of the companion that submitted it. */
  file: string;
  /** The step's name in the pipeline file. */
  step: string;
  /** The step's place in the start order, 0-based, of `stepCount` steps. */
  index: number;
  stepCount: number;
  /** The steps it starts after. */
  after: string[];
  /** Which submission of the step: 0, then 1, 2… for each "re-run from the failed step". */
  attempt: number;
}

/** POST /api/pipelines body. */
export interface PipelineRequest {
  /** The pipeline file (YAML, schema/pipeline.schema.json), relative to the Jupyter root. */
  file: string;
  idempotencyKey?: string;
}

/**
 * POST /api/schedules body (schema/schedule.schema.json): what runs, a
 * notebook's run (as POST /api/jobs takes it) or a pipeline file, and when.
 */
export interface ScheduleRequest {
  /** Five cron fields ("0 2 * * *") or a preset's name (CRON_PRESETS in contract/schedules.ts). */
  when: string;
  run?: SubmitRequest;
  pipeline?: PipelineRequest;
}

/** What one scheduled start did: the run it submitted, or why it submitted none. */
export interface ScheduleOutcome {
  /** ISO 8601. */
  at: string;
  /** The run's, the sweep's or the pipeline's id. */
  id?: string;
  error?: string;
}

/** A schedule: an entry of the user's scrontab that this tool wrote (GET /api/schedules). */
export interface ScheduleInfo {
  id: string;
  /** The five cron fields. */
  when: string;
  paused: boolean;
  /** What it runs, in words: "train.ipynb on gpu", "pipeline study.pipeline.yaml". */
  label: string;
  /** The notebook or the pipeline file, relative to the Jupyter root; null for an entry whose record is gone. */
  target: string | null;
  kind: 'run' | 'pipeline' | null;
  /** The next start (ISO 8601), as the cron fields say in the companion's time zone; null while paused. */
  nextRun: string | null;
  /** The latest scheduled start, when there was one. */
  last?: ScheduleOutcome;
}

export interface ScheduleList {
  schedules: ScheduleInfo[];
  /** Why this companion can hold no schedule (the local executor), in a sentence; absent where it can. */
  unavailable?: string;
}

/** A pipeline's state: one of a job's, from its steps' (pipelineState in rules.ts). */
export interface PipelineStepInfo {
  name: string;
  /** The step's notebook, relative to the root. */
  notebook: string;
  after: string[];
  state: JobState;
  /** Set when the step is a sweep (its latest submission). */
  sweepId?: string;
  /** The runs of its latest submission (a sweep's tasks in task order). */
  jobIds: string[];
  /** Why it is in its state: the one reason of its runs, where they share one. */
  reason?: string;
}

export interface PipelineInfo {
  id: string;
  /** The pipeline file, relative to the root, as it was submitted (a copy is kept). */
  file: string;
  state: JobState;
  /** In start order. */
  steps: PipelineStepInfo[];
}

/**
 * The answer to POST /api/pipelines, GET /api/pipelines/:id and its cancel
 * and rerun: the pipeline and every run of its steps' latest submissions.
 */
export interface PipelineAnswer {
  pipeline: PipelineInfo;
  jobs: Job[];
}

/** Whether the scheduler answers: one value, owned by the companion's poller. */
export interface SchedulerHealth {
  reachable: boolean;
  /** Why it does not answer, in words; absent while it answers. */
  message?: string;
}

/**
 * `companions/<host>-<pid>.json` in the state directory, one per running
 * companion: how the CLI finds a companion on its own host. Written by
 * `serve`, read by the CLI's client (server/companionFiles.ts).
 */
export interface CompanionFile {
  /** `unix:/path/to/socket` or `http://127.0.0.1:PORT/`: reachable from `host` only. */
  url: string;
  socket: string | null;
  /** The host the companion runs on (its hostname). */
  host: string;
  pid: number;
  /** The Jupyter root (or working directory) the companion resolves notebooks against. */
  rootDir: string;
  version: string;
}

export interface HealthInfo {
  ok: boolean;
  version: string;
  executor: ExecutorName;
  /** False while the scheduler does not answer; jobs keep their last known state. */
  schedulerReachable: boolean;
  schedulerMessage?: string;
}

/**
 * GET /api/jobs answers `{jobs}`, newest first. With `limit`, one page:
 * `next` is the cursor of the following page (absent on the last one).
 */
export interface JobList {
  jobs: Job[];
  next?: string;
}

export interface ProfileList {
  /**
   * The site's profiles; asked with `?notebook=`, the choices for that
   * notebook: its pixi project's environments on the site's hardware first,
   * then the site's profiles as they are.
   */
  profiles: ProfileStatus[];
  /**
   * Profiles files that did not load, and a notebook's project manifest that
   * could not be read, each named with its problem; the others did.
   */
  problems?: string[];
  /** Asked with `?notebook=`: the pixi project the notebook lies in, if any. */
  project?: { name: string; manifest: string };
}

export type SetupAction = 'install-environment' | 'create-kernel';

/**
 * POST /api/setup: make what a profile (or a notebook's project environment
 * on it) needs before it can run.
 */
export interface SetupRequest {
  action: SetupAction;
  profile: string;
  /** With `environment`: the notebook whose pixi project holds it. */
  notebook?: string;
  environment?: string;
}

/** A setup task: a program the companion runs for the user, with its log. */
export interface SetupTask {
  id: string;
  action: SetupAction;
  /** "Install environment myproj gpu", "Create kernel myproj-gpu". */
  title: string;
  /** The command as the user would type it. */
  command: string;
  state: 'running' | 'completed' | 'failed' | 'cancelled';
  startedAt: string;
  endedAt?: string;
  exitCode?: number | null;
}

/** GET /api/setup/:id?offset=N: the task and its log from `offset` on. */
export interface SetupLog {
  task: SetupTask;
  text: string;
  /** The offset to ask from next. */
  next: number;
}

/** Every error answer: a clear sentence, never a stack trace. */
export interface ApiError {
  error: string;
}

/**
 * Server-sent events on GET /api/events:
 *  - `job`: data is a Job, sent on every change;
 *  - `forget`: data is `{id}`, the job was deleted;
 *  - `scheduler`: data is `{reachable, message?}` when reachability changes.
 */
export type ServerEvent =
  | { type: 'job'; job: Job }
  | { type: 'forget'; id: string }
  | ({ type: 'scheduler' } & SchedulerHealth);

/** Name of the notebook-metadata key holding the per-notebook choice. */
export const NOTEBOOK_METADATA_KEY = 'hpc_submit';

/** What the extension stores in notebook metadata under `hpc_submit`. */
export interface NotebookSubmitMetadata {
  profile?: string;
  /** The pixi project environment picked with the profile, if any. */
  environment?: string;
  resources?: Resources;
  /** The last values of "Run with parameters…": fixed values and the sweep, if any. */
  parameters?: Parameters;
  sweep?: SweepRequest;
  /**
   * Variables to record after the run (docs/API.md, "Recorded values"); read
   * by the job itself from the notebook it runs (nbconvert_config.py).
   */
  record?: string[];
}
