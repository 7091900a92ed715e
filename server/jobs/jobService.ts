/**
 * The job service: the one place where a request becomes a job. Routes call
 * it; it checks the request, writes the job directory, renders the script and
 * hands it to the executor. Bad input is refused before anything is written
 * or run.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Job, Profile, SchedulerHealth } from '../../contract/wire';
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
import { type ResolvedNotebook, resolveNotebook } from './paths';
import { refuseInvalidNotebook } from './notebookValidation';
import { resolveResources } from './profiles';
import type { SchedulerHealthView } from './schedulerHealth';
import {
  CANCEL_REQUEST_FILE,
  JOB_ID,
  type JobRecord,
  type JobStore,
  newJobId,
  toWire,
  writeFileAtomic
} from './store';
import { parseSubmitRequest } from './submitRequest';

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
}

/** A submission's answer: the job, and whether it was created now (false: an idempotent replay). */
export interface Submitted {
  job: Job;
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
    // Asked again after the await above: another request with the key may have won meanwhile.
    const raced = this.replay(key);
    if (raced) {
      return raced;
    }
    this.refuseSecondLiveRun(nb);
    await this.requireScheduler();
    const record: JobRecord = {
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
    const job = this.wire(await this.writeAndLaunch(record, profile, nb));
    this.deps.events.publish({ type: 'job', job });
    this.deps.pollSoon?.();
    return { job, created: true };
  }

  /** The job an earlier request with the same idempotency key made. */
  private replay(key: string | undefined): Submitted | null {
    const earlier = key === undefined ? undefined : this.deps.store.byIdempotencyKey(key);
    return earlier ? { job: this.wire(earlier), created: false } : null;
  }

  /** A record as this companion's clients see it: paths relative to its root. */
  wire(record: JobRecord): Job {
    return toWire(record, this.deps.rootDir);
  }

  /**
   * A second run of a notebook would overwrite the output of the first.
   * Compared by absolute path: the same notebook submitted from another root
   * (or host) is the same notebook.
   */
  private refuseSecondLiveRun(nb: ResolvedNotebook): void {
    const output = join(nb.outputDir, nb.outputName);
    const running = this.deps.store.live().find(j => j.outputPath === output);
    if (running) {
      throw new HttpError(
        409,
        `${nb.relative} is already ${running.state === 'queued' ? 'queued' : 'running'} as job ${running.id}, ` +
          `and a second run would overwrite its output ${nb.outputRelative}: wait for it or cancel it first`
      );
    }
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
      schedulerId = await executor.submit(await this.writeJobFiles(record, profile, nb));
    } catch (e) {
      // Nothing half-made stays behind: the job never existed.
      await store.remove(record.id).catch(() => store.unreserve(record.id));
      throw submitError(e);
    }
    return store.update(record.id, { schedulerId });
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
      outputDir: nb.outputDir,
      outputName: nb.outputName,
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
        HPC_SUBMIT_OUTPUT: join(nb.outputDir, nb.outputName)
      })
    };
  }

  private listCache: { version: number; notebook: string; json: string } | null = null;

  /**
   * The list as the JSON body of GET /api/jobs. Serializing 10,000 jobs costs
   * tens of milliseconds, and every tab asks for it on (re)connect: it is
   * made once per change of the store.
   */
  listJson(notebook?: unknown): string {
    const key = typeof notebook === 'string' ? notebook : '';
    const c = this.listCache;
    if (c && c.version === this.deps.store.version && c.notebook === key) {
      return c.json;
    }
    const json = JSON.stringify({ jobs: this.list(key) });
    this.listCache = { version: this.deps.store.version, notebook: key, json };
    return json;
  }

  list(notebook?: unknown): Job[] {
    const all = this.deps.store.list();
    const jobs = all.map(j => this.wire(j));
    return typeof notebook === 'string' && notebook !== ''
      ? jobs.filter(j => j.notebook === notebook && !j.outsideRoot)
      : jobs;
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
    if (record.schedulerId) {
      try {
        await this.deps.executor.cancel(record.schedulerId);
      } catch (e) {
        if (e instanceof SchedulerUnreachableError) {
          throw new HttpError(
            503,
            `${notAnswering(e.message)}; the cancel was not delivered, try again`
          );
        }
        if (e instanceof RunElsewhereError) {
          throw new HttpError(409, `job ${id} ${e.message}`);
        }
        throw new HttpError(
          502,
          `the scheduler refused to cancel job ${id}: ${(e as Error).message}`
        );
      }
    }
    this.deps.pollSoon?.();
    return this.wire(record);
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
    this.deps.events.publish({ type: 'forget', id });
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
