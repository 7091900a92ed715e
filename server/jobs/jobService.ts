/**
 * The job service: the one place where a request becomes a job. Routes call
 * it; it checks the request, writes the job directory, renders the script and
 * hands it to the executor. Bad input is refused before anything is written
 * or run.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type {
  Job,
  JobDetails,
  JobList,
  NotebookParameters,
  PipelineAnswer,
  PipelineRequest,
  Profile,
  SchedulerHealth,
  SubmitRequest,
  SweepAnswer
} from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import { RunElsewhereError, SchedulerUnreachableError, type Executor } from '../executors/executor';
import { PipelineService } from '../pipelines/pipelineService';
import { JobQueries } from './jobQueries';
import { Launcher } from './launching';
import type { NotebookValidator } from './notebookValidation';
import { jobDetails } from './runDetails';
import { Refusal } from './refusal';
import type { SchedulerHealthView } from './schedulerHealth';
import { CANCEL_REQUEST_FILE, type JobRecord, type JobStore } from './store';
import { writeStateFile } from './storage';
import { notAnswering } from './submitErrors';
import { ProjectEnvironments } from './projectEnvironments';
import { machineHasGpu } from './projectFinder';
import { SetupTasks } from './setupTasks';
import { jobEnvironment } from '../env';

export interface JobServiceDeps {
  rootDir: string;
  store: JobStore;
  executor: Executor;
  profiles: Profile[];
  scheduler: SchedulerHealthView;
  /** Asks the scheduler again now (after an outage, before refusing a submission). */
  recheckScheduler?: () => Promise<SchedulerHealth>;
  /** Asks the poller to look at the jobs soon. */
  pollSoon?: () => void;
  /**
   * Whether this companion holds the state directory's lease (lease.ts): only
   * then does it change records after their submission. Default: always.
   */
  holdsLease?: () => boolean;
  /** Refuses a notebook nbconvert would refuse, before it waits in a queue. */
  validator: NotebookValidator;
  baseEnv?: NodeJS.ProcessEnv;
  /** The Python that runs papermill; default $HPC_SUBMIT_PYTHON, else python3. */
  papermillPython?: string;
  /** Tasks one sweep may have; default $HPC_SUBMIT_MAX_TASKS, else 1000. */
  maxTasks?: number;
  /** Notebooks' pixi projects and the setup tasks; default: made from the root and profiles. */
  environments?: ProjectEnvironments;
}

/**
 * A submission's answer: the job (a sweep's tasks, with a sweep), and whether
 * it was created now (false: an idempotent replay).
 */
export interface Submitted {
  body: Job | SweepAnswer;
  created: boolean;
}

export class JobService {
  private readonly queries: JobQueries;
  private readonly launcher: Launcher;

  private readonly pipelines: PipelineService;

  /** The pixi projects notebooks lie in: their choices, and making their environments and kernels. */
  readonly environments: ProjectEnvironments;

  constructor(private readonly deps: JobServiceDeps) {
    this.environments =
      deps.environments ??
      new ProjectEnvironments({
        rootDir: deps.rootDir,
        profiles: deps.profiles,
        tasks: new SetupTasks(),
        env: () => jobEnvironment(deps.baseEnv ?? process.env),
        hasGpu: machineHasGpu
      });
    this.queries = new JobQueries(deps);
    this.launcher = new Launcher(deps, this.queries, this.environments);
    this.pipelines = new PipelineService({
      rootDir: deps.rootDir,
      store: deps.store,
      launcher: this.launcher,
      queries: this.queries,
      cancelRuns: (live, what) => this.cancelRuns(live, what),
      ...(deps.pollSoon ? { pollSoon: deps.pollSoon } : {})
    });
  }

  profile(id: unknown): Profile {
    return this.queries.profile(id);
  }

  /** The Jupyter root notebook paths are relative to. */
  get rootDir(): string {
    return this.deps.rootDir;
  }

  /** Validate, resolve, refuse a conflict, write, launch: nothing is written before the checks pass. */
  submit(body: unknown): Promise<Submitted> {
    return this.launcher.submit(body);
  }

  /** Every check a submission of `request` would pass through, nothing written (a schedule's). */
  async checkRun(request: SubmitRequest): Promise<void> {
    await this.launcher.prepare(request);
  }

  /** The pipeline file of `request` found and read as its submission would, nothing submitted. */
  checkPipeline(request: PipelineRequest): Promise<void> {
    return this.pipelines.check(request);
  }

  /** GET /api/parameters: what papermill reads of the notebook's cell tagged `parameters`. */
  parameters(notebook: unknown): Promise<NotebookParameters> {
    return this.launcher.parameters(notebook);
  }

  /** A record as this companion's clients see it: paths relative to its root. */
  wire(record: JobRecord): Job {
    return this.queries.wire(record);
  }

  /**
   * The list as the JSON body of GET /api/jobs. Serializing 10,000 jobs costs
   * tens of milliseconds, and every tab asks for it on (re)connect: it is
   * made once per change of the store. With `limit`, one page, newest first.
   */
  listJson(notebook?: unknown, limit?: unknown, cursor?: unknown): string {
    return this.queries.listJson(notebook, limit, cursor);
  }

  record(id: string): JobRecord {
    return this.queries.record(id);
  }

  get(id: string): Job {
    return this.queries.get(id);
  }

  /** "Run details": the job, its run record and its status.json. */
  details(id: string): Promise<JobDetails> {
    const record = this.queries.record(id);
    return jobDetails(this.queries.wire(record), record.outputPath, this.queries.jobDir(id));
  }

  /** The job's directory (status.json, run.json, log.txt) in the state directory. */
  jobDir(id: string): string {
    return this.queries.jobDir(id);
  }

  async cancel(id: string): Promise<Job> {
    const current = this.queries.record(id);
    if (isFinal(current)) {
      throw new Refusal(
        'conflict',
        `job ${id} already ended (${current.state}); there is nothing to cancel`
      );
    }
    const record = await this.recordCancelRequest(current);
    const schedulerId = record.schedulerId;
    if (schedulerId) {
      await this.deliverCancel(`job ${id}`, () => this.deps.executor.cancel(schedulerId));
    }
    this.deps.pollSoon?.();
    return this.wire(record);
  }

  /** Asks the scheduler to stop `what`; its refusals in the API's words. */
  private async deliverCancel(what: string, ask: () => Promise<void>): Promise<void> {
    try {
      await ask();
    } catch (e) {
      if (e instanceof SchedulerUnreachableError) {
        throw new Refusal(
          'scheduler-down',
          `${notAnswering(e.message)}; the cancel was not delivered, try again`
        );
      }
      if (e instanceof RunElsewhereError) {
        throw new Refusal('conflict', `${what} ${e.message}`);
      }
      throw new Refusal(
        'scheduler-refused',
        `the scheduler refused to cancel ${what}: ${(e as Error).message}`
      );
    }
  }

  /**
   * Recorded before the scheduler is asked: whatever it then says, the job's
   * end is a cancel. The lease holder writes it in the record; another
   * companion leaves a file beside it that the holder's poller reads.
   */
  private async recordCancelRequest(record: JobRecord): Promise<JobRecord> {
    if (this.deps.holdsLease?.() ?? true) {
      return this.deps.store.update(record.id, { cancelRequested: true });
    }
    await writeStateFile(join(this.deps.store.jobDir(record.id), CANCEL_REQUEST_FILE), '');
    return record;
  }

  async forget(id: string): Promise<void> {
    const record = this.queries.record(id);
    if (!isFinal(record)) {
      throw new Refusal(
        'conflict',
        `job ${id} is still ${record.state}: cancel it before forgetting it`
      );
    }
    await this.deps.store.remove(id);
    await this.pipelines.forgotten(record);
    if (record.sweepId && this.deps.store.sweepTasks(record.sweepId).length === 0) {
      // The sweep's own folder (the array's dispatcher) goes with its last task.
      await fs
        .rm(this.queries.sweepDir(record.sweepId), { recursive: true, force: true })
        .catch(() => undefined);
    }
  }

  /** A sweep and its tasks in task order (GET /api/sweeps/:id), without the rest of the history. */
  sweep(sweepId: string): SweepAnswer {
    return this.queries.sweep(sweepId);
  }

  /**
   * Records the cancel of each live task, then asks the scheduler once for
   * all (one scancel of the array). Answers the sweep's tasks.
   */
  async cancelSweep(sweepId: string): Promise<JobList> {
    const live = this.queries.sweepTasks(sweepId).filter(t => !isFinal(t));
    if (live.length === 0) {
      throw new Refusal('conflict', `sweep ${sweepId} already ended; there is nothing to cancel`);
    }
    await this.cancelRuns(live, `sweep ${sweepId}`);
    return { jobs: this.deps.store.sweepTasks(sweepId).map(r => this.wire(r)) };
  }

  /** Records the cancel of each run, then asks the scheduler once for all (one scancel). */
  private async cancelRuns(live: JobRecord[], what: string): Promise<void> {
    for (const run of live) {
      await this.recordCancelRequest(run);
    }
    const ids = live.flatMap(t => (t.schedulerId ? [t.schedulerId] : []));
    if (ids.length > 0) {
      await this.deliverCancel(what, () => this.deps.executor.cancelArray(ids));
    }
    this.deps.pollSoon?.();
  }

  /** POST /api/pipelines: a pipeline file's steps, each after those it comes after. */
  submitPipeline(body: unknown): Promise<{ body: PipelineAnswer; created: boolean }> {
    return this.pipelines.submit(body);
  }

  pipeline(id: string): PipelineAnswer {
    return this.pipelines.get(id);
  }

  /** Every live run of the pipeline, with one scheduler call. */
  cancelPipeline(id: string): Promise<PipelineAnswer> {
    return this.pipelines.cancel(id);
  }

  /** "Re-run from the failed step": every step that did not complete, again. */
  rerunPipeline(id: string): Promise<PipelineAnswer> {
    return this.pipelines.rerun(id);
  }

  /**
   * A new sweep of the tasks that failed, timed out or were cancelled, with
   * their values; their outputs replace the failed ones, and they take their
   * rows in the first sweep's summary.csv.
   */
  rerunFailed(sweepId: string): Promise<SweepAnswer> {
    return this.launcher.rerunFailed(sweepId);
  }

  /** The log from `offset` on, at most 1 MB at a time, and the offset to ask next. */
  log(id: string, offset: unknown): Promise<{ text: string; next: number }> {
    return this.queries.log(id, offset);
  }
}
