/**
 * The job service: the one place where a request becomes a job. Routes call
 * it; it checks the request, writes the job directory, renders the script and
 * hands it to the executor. Bad input is refused before anything is written
 * or run.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type {
  Job,
  JobList,
  NotebookParameters,
  Parameters,
  Profile,
  SchedulerHealth,
  SubmitRequest,
  SweepAnswer
} from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import { jobEnvironment } from '../env';
import type { EventHub } from '../http/events';
import {
  RunElsewhereError,
  SchedulerUnreachableError,
  type Executor,
  type LaunchSpec
} from '../executors/executor';
import { HttpError, badRequest } from '../http/httpError';
import { renderJobScript, runtimeFile } from '../runtime/jobScript';
import { RUN_FACTS_FILE, runFactsJson } from '../runtime/runFacts';
import { pageOf, parseCursor, parseLimit } from './pages';
import {
  checkParameters,
  expandTasks,
  inspectParameters,
  papermillPython,
  writeParameterizedNotebooks
} from './parameters';
import { type ResolvedNotebook, resolveNotebook } from './paths';
import { refuseInvalidNotebook } from './notebookValidation';
import { resolveResources } from './profiles';
import type { SchedulerHealthView } from './schedulerHealth';
import {
  CANCEL_REQUEST_FILE,
  JOB_ID,
  type JobRecord,
  type JobStore,
  SWEEP_ID,
  newJobId,
  toWire,
  underRoot,
  writeFileAtomic
} from './store';
import { parseSubmitRequest } from './submitRequest';
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

export interface JobServiceDeps {
  rootDir: string;
  store: JobStore;
  executor: Executor;
  events: EventHub;
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
  baseEnv?: NodeJS.ProcessEnv;
  /** The Python that runs papermill; default $HPC_SUBMIT_PYTHON, else python3. */
  papermillPython?: string;
  /** Tasks one sweep may have; default $HPC_SUBMIT_MAX_TASKS, else 1000. */
  maxTasks?: number;
}

/**
 * A submission's answer: the job (a sweep's tasks, with a sweep), and whether
 * it was created now (false: an idempotent replay).
 */
export interface Submitted {
  body: Job | SweepAnswer;
  created: boolean;
}

const LOG_CHUNK = 1024 * 1024;

/** Errors of the file system that mean the state directory cannot take the job's files. */
const STORAGE_FULL_OR_LOCKED = ['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT'];

export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  /** Set by serve.ts once the lease keeper exists. */
  set holdsLease(check: () => boolean) {
    this.deps.holdsLease = check;
  }

  profile(id: unknown): Profile {
    const profile = this.deps.profiles.find(p => p.id === id);
    if (!profile) {
      const known = this.deps.profiles.map(p => p.id).join(', ');
      throw badRequest(`unknown profile ${JSON.stringify(id)}: this site has ${known}`);
    }
    return profile;
  }

  /** Validate, resolve, refuse a conflict, write, launch: nothing is written before the checks pass. */
  async submit(body: unknown): Promise<Submitted> {
    const request = parseSubmitRequest(body);
    const key = request.idempotencyKey;
    const earlier = this.replay(key);
    if (earlier) {
      return earlier;
    }
    const profile = this.profile(request.profile);
    const resources = resolveResources(profile, request.resources);
    const nb = await resolveNotebook(this.deps.rootDir, request.notebook);
    await refuseInvalidNotebook(profile, nb, jobEnvironment(this.deps.baseEnv ?? process.env));
    const tasks = await this.tasksOf(request, nb);
    const outputDir = request.sweep ? await sweepOutputDir(this.deps.rootDir, nb) : null;
    await this.requireScheduler();
    // Asked again after the awaits above: another request with the key may have won meanwhile.
    // From here to the reservation of the records nothing awaits: no other request can pass.
    const raced = this.replay(key);
    if (raced) {
      return raced;
    }
    const base = this.newRecord(nb, profile, resources, key);
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
      return { body: await this.launchSweep(plan, records, profile, nb), created: true };
    }
    this.refuseLiveRun(nb, null);
    const record = tasks ? { ...base, parameters: tasks[0] } : base;
    const job = this.wire(await this.writeAndLaunch(record, profile, nb));
    this.deps.events.publish({ type: 'job', job });
    this.deps.pollSoon?.();
    return { body: job, created: true };
  }

  /** A run's record before it is launched; a sweep's tasks are made from it. */
  private newRecord(
    nb: ResolvedNotebook,
    profile: Profile,
    resources: JobRecord['resources'],
    key: string | undefined
  ): JobRecord {
    return {
      id: newJobId(),
      notebook: nb.relative,
      output: nb.outputRelative,
      notebookPath: nb.absolute,
      outputPath: join(nb.outputDir, nb.outputName),
      host: hostname(),
      profile: profile.id,
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
      ? sweepAnswer(this.deps.store.sweepTasks(earlier.sweepId), r => this.wire(r))
      : this.wire(earlier);
    return { body, created: false };
  }

  /** A record as this companion's clients see it: paths relative to its root. */
  wire(record: JobRecord): Job {
    return toWire(record, this.deps.rootDir);
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
      const folder = this.wire(running).output.replace(/\/[^/]*$/, '/');
      throw new HttpError(
        409,
        `${nb.relative} is already running as sweep ${running.sweepId}, ` +
          `and ${what} would overwrite its outputs in ${folder}: wait for it or cancel it first`
      );
    }
    throw new HttpError(
      409,
      `${nb.relative} is already ${running.state === 'queued' ? 'queued' : 'running'} as job ${running.id}, ` +
        `and ${what} would overwrite its output ${nb.outputRelative}: wait for it or cancel it first`
    );
  }

  /** During an outage the scheduler is asked once more before a submission is refused. */
  private async requireScheduler(): Promise<void> {
    let health = this.deps.scheduler.current;
    if (!health.reachable && this.deps.recheckScheduler) {
      health = await this.deps.recheckScheduler();
    }
    if (!health.reachable) {
      throw new HttpError(503, `${notAnswering(health.message)}: ${NOTHING_SUBMITTED}`);
    }
  }

  /** The job's directory and files, then the executor; a failure leaves nothing behind. */
  private async writeAndLaunch(
    record: JobRecord,
    profile: Profile,
    nb: ResolvedNotebook
  ): Promise<JobRecord> {
    const { store, executor } = this.deps;
    // Claimed before any I/O, so a concurrent request sees the notebook's run at once.
    store.reserve(record);
    let schedulerId: string;
    try {
      await store.create(record);
      await this.writeInputs([record], nb);
      schedulerId = await executor.submit(await this.writeJobFiles(record, profile, nb));
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
    nb: ResolvedNotebook
  ): Promise<SweepAnswer> {
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
        specs.push(await this.writeJobFiles(record, profile, nb));
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
    const answer = sweepAnswer(launched, r => this.wire(r));
    answer.jobs.forEach(job => this.deps.events.publish({ type: 'job', job }));
    this.deps.pollSoon?.();
    return answer;
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
    nb: ResolvedNotebook
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
    return {
      jobId,
      jobDir,
      scriptPath,
      logPath,
      cwd: nb.dir,
      resources: record.resources,
      name: nb.relative.split('/').pop() ?? 'notebook',
      ...(profile.mail ? { mail: profile.mail } : {}),
      env: jobEnvironment(this.deps.baseEnv ?? process.env, {
        HPC_SUBMIT_JOB_ID: jobId,
        HPC_SUBMIT_JOB_DIR: jobDir,
        HPC_SUBMIT_OUTPUT: record.outputPath
      })
    };
  }

  private listCache: { version: number; notebook: string; json: string } | null = null;

  /**
   * The list as the JSON body of GET /api/jobs. Serializing 10,000 jobs costs
   * tens of milliseconds, and every tab asks for it on (re)connect: it is
   * made once per change of the store. With `limit`, one page, newest first.
   */
  listJson(notebook?: unknown, limit?: unknown, cursor?: unknown): string {
    const key = typeof notebook === 'string' ? notebook : '';
    const size = parseLimit(limit);
    const after = parseCursor(cursor);
    if (size === undefined) {
      if (after) {
        throw badRequest('"cursor" goes with "limit": ask for ?limit=N&cursor=…');
      }
      return this.wholeListJson(key);
    }
    const { items, next } = pageOf(this.records(key), size, after);
    const page: JobList = { jobs: items.map(r => this.wire(r)), ...(next ? { next } : {}) };
    return JSON.stringify(page);
  }

  private wholeListJson(notebook: string): string {
    const c = this.listCache;
    if (c && c.version === this.deps.store.version && c.notebook === notebook) {
      return c.json;
    }
    const json = JSON.stringify({ jobs: this.records(notebook).map(r => this.wire(r)) });
    this.listCache = { version: this.deps.store.version, notebook, json };
    return json;
  }

  /** Newest first; with a notebook (as this companion's root names it), only its runs. */
  private records(notebook: string): readonly JobRecord[] {
    const all = this.deps.store.list();
    return notebook === ''
      ? all
      : all.filter(r => underRoot(this.deps.rootDir, r.notebookPath) === notebook);
  }

  list(notebook?: unknown): Job[] {
    return this.records(typeof notebook === 'string' ? notebook : '').map(r => this.wire(r));
  }

  record(id: string): JobRecord {
    if (!JOB_ID.test(id)) {
      throw badRequest(`${JSON.stringify(id.slice(0, 80))} is not a job id`);
    }
    const record = this.deps.store.get(id);
    if (!record) {
      throw new HttpError(404, `no job ${id}`);
    }
    return record;
  }

  get(id: string): Job {
    return this.wire(this.record(id));
  }

  /** The job's directory (status.json, run.json, log.txt) in the state directory. */
  jobDir(id: string): string {
    return this.deps.store.jobDir(this.record(id).id);
  }

  async cancel(id: string): Promise<Job> {
    const current = this.record(id);
    if (isFinal(current)) {
      throw new HttpError(
        409,
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
        throw new HttpError(
          503,
          `${notAnswering(e.message)}; the cancel was not delivered, try again`
        );
      }
      if (e instanceof RunElsewhereError) {
        throw new HttpError(409, `${what} ${e.message}`);
      }
      throw new HttpError(502, `the scheduler refused to cancel ${what}: ${(e as Error).message}`);
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
    await writeFileAtomic(join(this.deps.store.jobDir(record.id), CANCEL_REQUEST_FILE), '');
    return record;
  }

  async forget(id: string): Promise<void> {
    const record = this.record(id);
    if (!isFinal(record)) {
      throw new HttpError(
        409,
        `job ${id} is still ${record.state}: cancel it before forgetting it`
      );
    }
    await this.deps.store.remove(id);
    if (record.sweepId && this.deps.store.sweepTasks(record.sweepId).length === 0) {
      // The sweep's own folder (the array's dispatcher) goes with its last task.
      await fs
        .rm(this.sweepDir(record.sweepId), { recursive: true, force: true })
        .catch(() => undefined);
    }
    this.deps.events.publish({ type: 'forget', id });
  }

  private sweepDir(sweepId: string): string {
    return join(this.deps.store.stateDir, 'sweeps', sweepId);
  }

  /** The tasks of a sweep, in task order; a 404 when there are none. */
  private sweepTasks(sweepId: string): JobRecord[] {
    if (!SWEEP_ID.test(sweepId)) {
      throw badRequest(`${JSON.stringify(sweepId.slice(0, 80))} is not a sweep id`);
    }
    const tasks = this.deps.store.sweepTasks(sweepId);
    if (tasks.length === 0) {
      throw new HttpError(404, `no sweep ${sweepId}`);
    }
    return tasks;
  }

  /**
   * Records the cancel of each live task, then asks the scheduler once for
   * all (one scancel of the array). Answers the sweep's tasks.
   */
  async cancelSweep(sweepId: string): Promise<JobList> {
    const live = this.sweepTasks(sweepId).filter(t => !isFinal(t));
    if (live.length === 0) {
      throw new HttpError(409, `sweep ${sweepId} already ended; there is nothing to cancel`);
    }
    for (const task of live) {
      await this.recordCancelRequest(task);
    }
    const ids = live.flatMap(t => (t.schedulerId ? [t.schedulerId] : []));
    if (ids.length > 0) {
      await this.deliverCancel(`sweep ${sweepId}`, () => this.deps.executor.cancelArray(ids));
    }
    this.deps.pollSoon?.();
    return { jobs: this.deps.store.sweepTasks(sweepId).map(r => this.wire(r)) };
  }

  /**
   * A new sweep of the tasks that failed, timed out or were cancelled, with
   * their values; their outputs replace the failed ones, and they take their
   * rows in the first sweep's summary.csv.
   */
  async rerunFailed(sweepId: string): Promise<SweepAnswer> {
    const tasks = this.sweepTasks(sweepId);
    const failed = tasksToRerun(this.deps.store.list(), tasks);
    if (failed.length === 0) {
      throw new HttpError(
        409,
        `no task of sweep ${sweepId} failed, timed out or was cancelled: there is nothing to rerun`
      );
    }
    const first = tasks[0];
    const profile = this.profile(first.profile);
    const shown = underRoot(this.deps.rootDir, first.notebookPath);
    if (shown === null) {
      throw new HttpError(
        409,
        `sweep ${sweepId} is of ${first.notebookPath}, outside this companion's root: rerun it from a companion whose root holds it`
      );
    }
    const nb = await resolveNotebook(this.deps.rootDir, shown);
    await refuseInvalidNotebook(profile, nb, jobEnvironment(this.deps.baseEnv ?? process.env));
    const outputDir = await sweepOutputDir(this.deps.rootDir, nb);
    await this.requireScheduler();
    this.refuseLiveRun(nb, outputDir);
    const base = this.newRecord(nb, profile, first.resources, undefined);
    const plan = this.plan(base, outputDir, {
      mode: first.sweepFacts?.mode ?? 'product',
      maxParallel: first.sweepFacts?.maxParallel ?? DEFAULT_MAX_PARALLEL
    });
    return this.launchSweep(plan, rerunRecords(plan, failed), profile, nb);
  }

  /** The log from `offset` on, at most 1 MB at a time, and the offset to ask next. */
  async log(id: string, offset: unknown): Promise<{ text: string; next: number }> {
    this.record(id);
    const start = offset === undefined ? 0 : Number(offset);
    if (!Number.isInteger(start) || start < 0) {
      throw badRequest('"offset" must be a whole number of bytes');
    }
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(join(this.deps.store.jobDir(id), 'log.txt'), 'r');
    } catch {
      return { text: '', next: start };
    }
    try {
      const buffer = Buffer.alloc(LOG_CHUNK);
      const { bytesRead } = await handle.read(buffer, 0, LOG_CHUNK, start);
      // Never cut a UTF-8 character in two: stop before an incomplete one.
      let end = bytesRead;
      if (end === LOG_CHUNK) {
        while (end > 0 && (buffer[end - 1] & 0xc0) === 0x80) {
          end--;
        }
      }
      if (end < bytesRead && end > 0 && (buffer[end - 1] & 0xc0) === 0xc0) {
        end--;
      }
      return { text: buffer.subarray(0, end).toString('utf8'), next: start + end };
    } finally {
      await handle.close();
    }
  }
}

const notAnswering = (why: string | undefined): string =>
  `the scheduler is not answering${why ? ` (${why})` : ''}`;

const NOTHING_SUBMITTED = 'nothing was submitted; try again in a minute';

/**
 * Papermill's answer, or its failure in words: a 400 for the request's fault
 * (parameters.ts says which), a 500 naming the Python for the companion's.
 */
async function papermill<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw e instanceof HttpError ? e : new HttpError(500, (e as Error).message);
  }
}

/** The answer to a submission that failed while its files were written or the job launched. */
function submitError(e: unknown): HttpError {
  if (e instanceof HttpError) {
    return e;
  }
  if (e instanceof SchedulerUnreachableError) {
    return new HttpError(503, `${notAnswering(e.message)}: ${NOTHING_SUBMITTED}`);
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code && STORAGE_FULL_OR_LOCKED.includes(err.code)) {
    return new HttpError(
      507,
      `cannot write the job's files in the state directory (${err.code}): free space or set --state-dir`
    );
  }
  return new HttpError(502, `the scheduler refused the job: ${err.message}`);
}
