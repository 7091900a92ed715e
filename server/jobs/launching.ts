/**
 * The job service's launching side: a request (or a sweep's failed tasks)
 * becomes records, job directories and files, then one submission to the
 * executor. Bad input, a live run of the same notebook and a scheduler that
 * does not answer are refused before anything is written or run.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type {
  NotebookParameters,
  Parameters,
  PipelineStepRef,
  Profile,
  Resources,
  SubmitRequest,
  SweepAnswer
} from '../../contract/wire';
import { jobEnvironment } from '../env';
import type { Dependency, LaunchSpec } from '../executors/executor';
import { LATE_PARAMETERS_FILE, type LateParameters } from '../pipelines/lateParameters';
import { renderJobScript, runtimeFile } from '../runtime/jobScript';
import { RUN_FACTS_FILE, runFactsJson } from '../runtime/runFacts';
import type { JobQueries } from './jobQueries';
import type { JobServiceDeps, Submitted } from './jobService';
import {
  checkParameters,
  expandTasks,
  inspectParameters,
  papermillPython,
  writeParameterizedNotebooks
} from './parameters';
import { type ResolvedNotebook, resolveNotebook } from './paths';
import { resolveResources } from './profiles';
import type { ProjectEnvironments } from './projectEnvironments';
import { Refusal } from './refusal';
import { type JobRecord, newJobId, underRoot } from './store';
import { parseSubmitRequest } from './submitRequest';
import { NOTHING_SUBMITTED, notAnswering, papermill, submitError } from './submitErrors';
import {
  DEFAULT_MAX_PARALLEL,
  INPUT_NOTEBOOK,
  type SweepPlan,
  maxTasksFrom,
  rerunRecords,
  sweepAnswer,
  sweepOutputDir,
  sweepRecords,
  tasksToRerun
} from './sweeps';

/** A submission checked and resolved, nothing written yet: what `launch` needs. */
export interface PreparedRun {
  request: SubmitRequest;
  profile: Profile;
  resources: Resources;
  nb: ResolvedNotebook;
  /** Each run's values (null: a run without parameters). */
  tasks: Parameters[] | null;
  /** A sweep's output folder; null for a single run. */
  outputDir: string | null;
}

/** What a launch may carry beyond the request: a pipeline step's facts. */
export interface LaunchExtras {
  idempotencyKey?: string;
  /** Start only after these (the steps it comes after). */
  after?: Dependency;
  pipeline?: PipelineStepRef;
  /** The values it takes from earlier steps' records, filled by the job at its start. */
  late?: LateParameters;
}

export class Launcher {
  constructor(
    private readonly deps: JobServiceDeps,
    private readonly queries: JobQueries,
    private readonly environments: ProjectEnvironments
  ) {}

  /** Validate, resolve, refuse a conflict, write, launch: nothing is written before the checks pass. */
  async submit(body: unknown): Promise<Submitted> {
    const request = parseSubmitRequest(body);
    const key = request.idempotencyKey;
    const earlier = this.replay(key);
    if (earlier) {
      return earlier;
    }
    const prepared = await this.prepare(request);
    await this.requireScheduler();
    // Asked again after the awaits above: another request with the key may have won meanwhile.
    // From here to the reservation of the records nothing awaits: no other request can pass.
    const raced = this.replay(key);
    if (raced) {
      return raced;
    }
    const launched = await this.launch(prepared, key !== undefined ? { idempotencyKey: key } : {});
    const answer = prepared.request.sweep
      ? sweepAnswer(launched, r => this.queries.wire(r))
      : this.queries.wire(launched[0]);
    return { body: answer, created: true };
  }

  /**
   * Every check of a submission, nothing written: the profile, its
   * resources, the notebook and what nbconvert and papermill say of it.
   */
  async prepare(request: SubmitRequest): Promise<PreparedRun> {
    const hardware = this.queries.profile(request.profile);
    const resources = resolveResources(hardware, request.resources);
    const nb = await resolveNotebook(this.deps.rootDir, request.notebook);
    const profile = await this.environments.runProfile(hardware, request.environment, nb.absolute);
    await this.deps.validator.refuseInvalid(
      profile,
      nb,
      jobEnvironment(this.deps.baseEnv ?? process.env)
    );
    const tasks = await this.tasksOf(request, nb);
    const outputDir = request.sweep ? await sweepOutputDir(this.deps.rootDir, nb) : null;
    return { request, profile, resources, nb, tasks, outputDir };
  }

  /**
   * A prepared run (or sweep) written and handed to the executor; answers its
   * records (a sweep's in task order). Nothing awaits before the records are
   * reserved, so a live run of the same notebook is refused here for certain.
   */
  async launch(prepared: PreparedRun, extras: LaunchExtras = {}): Promise<JobRecord[]> {
    const { request, profile, resources, nb, tasks, outputDir } = prepared;
    const base = {
      ...this.newRecord(nb, profile, resources, extras.idempotencyKey, request.environment),
      ...(extras.pipeline ? { pipeline: extras.pipeline } : {})
    };
    if (request.sweep && tasks && outputDir) {
      this.refuseLiveRun(nb, outputDir);
      const plan = this.plan(base, outputDir, {
        mode: request.sweep.mode ?? 'product',
        maxParallel: Math.min(
          request.sweep.maxParallel ?? DEFAULT_MAX_PARALLEL,
          profile.maxParallel ?? Infinity
        )
      });
      const records = sweepRecords(plan, tasks, request.sweep);
      return this.launchSweep(plan, records, profile, nb, extras);
    }
    this.refuseLiveRun(nb, null);
    const record = tasks ? { ...base, parameters: tasks[0] } : base;
    const launched = await this.writeAndLaunch(record, profile, nb, extras);
    this.deps.pollSoon?.();
    return [launched];
  }

  /** A run's record before it is launched; a sweep's tasks are made from it. */
  private newRecord(
    nb: ResolvedNotebook,
    profile: Profile,
    resources: JobRecord['resources'],
    key: string | undefined,
    environment: string | undefined
  ): JobRecord {
    return {
      id: newJobId(),
      notebook: nb.relative,
      output: nb.outputRelative,
      notebookPath: nb.absolute,
      outputPath: join(nb.outputDir, nb.outputName),
      host: hostname(),
      profile: profile.id,
      ...(environment !== undefined ? { environment } : {}),
      kernel: profile.kernel,
      resources,
      executor: this.deps.executor.name,
      schedulerId: null,
      state: 'queued',
      submittedAt: new Date().toISOString(),
      ...(key !== undefined ? { idempotencyKey: key } : {})
    };
  }

  private plan(base: JobRecord, outputDir: string, facts: SweepPlan['facts']): SweepPlan {
    return { sweepId: base.id, base, outputDir, facts };
  }

  /**
   * Each run's values, checked against the notebook's cell tagged
   * `parameters` (papermill reads it); null for a run without any.
   */
  private async tasksOf(
    request: SubmitRequest,
    nb: ResolvedNotebook
  ): Promise<Parameters[] | null> {
    const fixed = Object.keys(request.parameters ?? {}).length > 0;
    if (!fixed && !request.sweep) {
      return null;
    }
    const known = await papermill(inspectParameters(this.python(), nb.absolute));
    checkParameters(request, known, { maxTasks: this.maxTasks() });
    return expandTasks(request.parameters, request.sweep);
  }

  private python(): string {
    return this.deps.papermillPython ?? papermillPython(process.env);
  }

  private maxTasks(): number {
    return this.deps.maxTasks ?? maxTasksFrom(process.env.HPC_SUBMIT_MAX_TASKS);
  }

  /** GET /api/parameters: what papermill reads of the notebook's cell tagged `parameters`. */
  async parameters(notebook: unknown): Promise<NotebookParameters> {
    const nb = await resolveNotebook(this.deps.rootDir, notebook);
    const known = await papermill(inspectParameters(this.python(), nb.absolute));
    return { notebook: nb.relative, ...known };
  }

  /** The job (or sweep) an earlier request with the same idempotency key made. */
  private replay(key: string | undefined): Submitted | null {
    const earlier = key === undefined ? undefined : this.deps.store.byIdempotencyKey(key);
    if (!earlier) {
      return null;
    }
    const body = earlier.sweepId
      ? sweepAnswer(this.deps.store.sweepTasks(earlier.sweepId), r => this.queries.wire(r))
      : this.queries.wire(earlier);
    return { body, created: false };
  }

  /**
   * A second run of a notebook would overwrite the output of the first: a
   * run's file, or a sweep's folder (`sweepDir`, for a new sweep) and the
   * tasks' files in it. Compared by absolute path: the same notebook
   * submitted from another root (or host) is the same notebook.
   */
  private refuseLiveRun(nb: ResolvedNotebook, sweepDir: string | null): void {
    const output = join(nb.outputDir, nb.outputName);
    const running = this.deps.store
      .live()
      .find(j =>
        sweepDir !== null
          ? j.notebookPath === nb.absolute || dirname(j.outputPath) === sweepDir
          : j.outputPath === output || (j.sweepId !== undefined && j.notebookPath === nb.absolute)
      );
    if (!running) {
      return;
    }
    const what = sweepDir !== null ? 'a new sweep' : 'a second run';
    if (running.sweepId) {
      const folder = this.queries.wire(running).output.replace(/\/[^/]*$/, '/');
      throw new Refusal(
        'conflict',
        `${nb.relative} is already running as sweep ${running.sweepId}, ` +
          `and ${what} would overwrite its outputs in ${folder}: wait for it or cancel it first`
      );
    }
    throw new Refusal(
      'conflict',
      `${nb.relative} is already ${running.state === 'queued' ? 'queued' : 'running'} as job ${running.id}, ` +
        `and ${what} would overwrite its output ${nb.outputRelative}: wait for it or cancel it first`
    );
  }

  /** During an outage the scheduler is asked once more before a submission is refused. */
  async requireScheduler(): Promise<void> {
    let health = this.deps.scheduler.current;
    if (!health.reachable && this.deps.recheckScheduler) {
      health = await this.deps.recheckScheduler();
    }
    if (!health.reachable) {
      throw new Refusal('scheduler-down', `${notAnswering(health.message)}: ${NOTHING_SUBMITTED}`);
    }
  }

  /** The job's directory and files, then the executor; a failure leaves nothing behind. */
  private async writeAndLaunch(
    record: JobRecord,
    profile: Profile,
    nb: ResolvedNotebook,
    extras: LaunchExtras
  ): Promise<JobRecord> {
    const { store, executor } = this.deps;
    // Claimed before any I/O, so a concurrent request sees the notebook's run at once.
    store.reserve(record);
    let schedulerId: string;
    try {
      await store.create(record);
      await this.writeInputs([record], nb);
      schedulerId = await executor.submit(await this.writeJobFiles(record, profile, nb, extras));
    } catch (e) {
      // Nothing half-made stays behind: the job never existed.
      await store.remove(record.id).catch(() => store.unreserve(record.id));
      throw submitError(e);
    }
    return store.update(record.id, { schedulerId });
  }

  /**
   * A sweep's tasks, each with its directory, injected copy and job.sh, as
   * one submission to the executor (one Slurm job array); a failure leaves
   * nothing behind. Answers the sweep, and tells the browsers of each task.
   */
  private async launchSweep(
    plan: SweepPlan,
    records: JobRecord[],
    profile: Profile,
    nb: ResolvedNotebook,
    extras: LaunchExtras
  ): Promise<JobRecord[]> {
    const { store, executor } = this.deps;
    const sweepDir = join(store.stateDir, 'sweeps', plan.sweepId);
    records.forEach(r => store.reserve(r));
    let schedulerIds: string[];
    try {
      await fs.mkdir(sweepDir, { recursive: true, mode: 0o700 });
      for (const record of records) {
        await store.create(record);
      }
      await this.writeInputs(records, nb);
      const specs: LaunchSpec[] = [];
      for (const record of records) {
        specs.push(await this.writeJobFiles(record, profile, nb, extras));
      }
      schedulerIds = await executor.submitArray(specs, {
        sweepId: plan.sweepId,
        maxParallel: plan.facts.maxParallel,
        sweepDir
      });
    } catch (e) {
      for (const record of records) {
        await store.remove(record.id).catch(() => store.unreserve(record.id));
      }
      await fs.rm(sweepDir, { recursive: true, force: true }).catch(() => undefined);
      throw submitError(e);
    }
    const launched: JobRecord[] = [];
    for (const [i, record] of records.entries()) {
      launched.push(await store.update(record.id, { schedulerId: schedulerIds[i] }));
    }
    this.deps.pollSoon?.();
    return launched;
  }

  /** Each parameterized run's injected copy in its job directory: one papermill call for all. */
  private async writeInputs(records: JobRecord[], nb: ResolvedNotebook): Promise<void> {
    const runs = records
      .filter(r => r.parameters !== undefined)
      .map(r => ({
        parameters: r.parameters as Parameters,
        path: join(this.deps.store.jobDir(r.id), INPUT_NOTEBOOK)
      }));
    if (runs.length > 0) {
      await papermill(writeParameterizedNotebooks(this.python(), nb.absolute, runs));
    }
  }

  /**
   * job.sh, run.json (the facts for the executed notebook's run record) and an
   * empty log.txt in the job's directory; answers what the executor needs.
   */
  private async writeJobFiles(
    record: JobRecord,
    profile: Profile,
    nb: ResolvedNotebook,
    extras: LaunchExtras
  ): Promise<LaunchSpec> {
    const jobId = record.id;
    const jobDir = this.deps.store.jobDir(jobId);
    const scriptPath = join(jobDir, 'job.sh');
    const script = renderJobScript({
      jobId,
      jobDir,
      notebookPath: nb.absolute,
      ...(record.parameters !== undefined ? { executePath: join(jobDir, INPUT_NOTEBOOK) } : {}),
      outputDir: dirname(record.outputPath),
      outputName: basename(record.outputPath),
      cwd: nb.dir,
      launcher: profile.launcher,
      python: profile.python || 'python',
      kernel: profile.kernel,
      requireGpu: Boolean(profile.requireGpu),
      nbconvertConfigPath: runtimeFile('nbconvert_config.py')
    });
    await fs.writeFile(scriptPath, script, { mode: 0o700 });
    const facts = runFactsJson({
      jobId,
      executor: record.executor,
      profile: profile.id,
      resources: record.resources,
      launcher: profile.launcher,
      notebookPath: nb.absolute
    });
    await fs.writeFile(join(jobDir, RUN_FACTS_FILE), facts, { mode: 0o600 });
    const logPath = join(jobDir, 'log.txt');
    await fs.writeFile(logPath, '', { mode: 0o600 });
    if (extras.late) {
      await fs.writeFile(join(jobDir, LATE_PARAMETERS_FILE), JSON.stringify(extras.late), {
        mode: 0o600
      });
    }
    return {
      jobId,
      jobDir,
      scriptPath,
      logPath,
      cwd: nb.dir,
      resources: record.resources,
      name: nb.relative.split('/').pop() ?? 'notebook',
      ...(profile.mail ? { mail: profile.mail } : {}),
      ...(extras.after ? { after: extras.after } : {}),
      env: jobEnvironment(this.deps.baseEnv ?? process.env, {
        HPC_SUBMIT_JOB_ID: jobId,
        HPC_SUBMIT_JOB_DIR: jobDir,
        HPC_SUBMIT_OUTPUT: record.outputPath
      })
    };
  }

  /**
   * A new sweep of the tasks that failed, timed out or were cancelled, with
   * their values; their outputs replace the failed ones, and they take their
   * rows in the first sweep's summary.csv.
   */
  async rerunFailed(sweepId: string): Promise<SweepAnswer> {
    const tasks = this.queries.sweepTasks(sweepId);
    const failed = tasksToRerun(this.deps.store.list(), tasks);
    if (failed.length === 0) {
      throw new Refusal(
        'conflict',
        `no task of sweep ${sweepId} failed, timed out or was cancelled: there is nothing to rerun`
      );
    }
    const first = tasks[0];
    const hardware = this.queries.profile(first.profile);
    const shown = underRoot(this.deps.rootDir, first.notebookPath);
    if (shown === null) {
      throw new Refusal(
        'conflict',
        `sweep ${sweepId} is of ${first.notebookPath}, outside this companion's root: rerun it from a companion whose root holds it`
      );
    }
    const nb = await resolveNotebook(this.deps.rootDir, shown);
    const profile = await this.environments.runProfile(hardware, first.environment, nb.absolute);
    await this.deps.validator.refuseInvalid(
      profile,
      nb,
      jobEnvironment(this.deps.baseEnv ?? process.env)
    );
    const outputDir = await sweepOutputDir(this.deps.rootDir, nb);
    await this.requireScheduler();
    this.refuseLiveRun(nb, outputDir);
    const base = this.newRecord(nb, profile, first.resources, undefined, first.environment);
    const plan = this.plan(base, outputDir, {
      mode: first.sweepFacts?.mode ?? 'product',
      maxParallel: first.sweepFacts?.maxParallel ?? DEFAULT_MAX_PARALLEL
    });
    const launched = await this.launchSweep(plan, rerunRecords(plan, failed), profile, nb, {});
    return sweepAnswer(launched, r => this.queries.wire(r));
  }
}
