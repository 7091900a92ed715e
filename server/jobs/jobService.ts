/**
 * The job service: the one place where a request becomes a job. Routes call
 * it; it checks the request, writes the job directory, renders the script and
 * hands it to the executor. Bad input is refused before anything is written
 * or run.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Job, Profile } from '../../contract/wire';
import { jobEnvironment } from '../env';
import type { EventHub } from '../http/events';
import { SchedulerUnreachableError, type Executor } from '../executors/executor';
import { HttpError, badRequest } from '../http/httpError';
import { renderJobScript, runtimeFile } from '../runtime/jobScript';
import { resolveNotebook } from './paths';
import { resolveResources } from './profiles';
import { JOB_ID, type JobRecord, type JobStore, isFinal, newJobId, toWire } from './store';

export interface SchedulerHealth {
  reachable: boolean;
  message?: string;
}

export interface JobServiceDeps {
  rootDir: string;
  store: JobStore;
  executor: Executor;
  events: EventHub;
  profiles: Profile[];
  scheduler: () => SchedulerHealth;
  /** Asks the scheduler again now (after an outage, before refusing a submission). */
  recheckScheduler?: () => Promise<SchedulerHealth>;
  /** Asks the poller to look at a job soon. */
  watch?: (id: string) => void;
  baseEnv?: NodeJS.ProcessEnv;
}

const LOG_CHUNK = 1024 * 1024;

export class JobService {
  constructor(private readonly deps: JobServiceDeps) {}

  profile(id: unknown): Profile {
    const profile = this.deps.profiles.find(p => p.id === id);
    if (!profile) {
      const known = this.deps.profiles.map(p => p.id).join(', ');
      throw badRequest(`unknown profile ${JSON.stringify(id)}: this site has ${known}`);
    }
    return profile;
  }

  /** Answers the job and whether it was created now (false: an idempotent replay). */
  async submit(body: unknown): Promise<{ job: Job; created: boolean }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badRequest(
        'the request body must be a JSON object: {"notebook": "...", "profile": "..."}'
      );
    }
    const req = body as Record<string, unknown>;
    const unknownKeys = Object.keys(req).filter(
      k => !['notebook', 'profile', 'resources', 'idempotencyKey'].includes(k)
    );
    if (unknownKeys.length) {
      throw badRequest(`unknown field ${JSON.stringify(unknownKeys[0])} in the request`);
    }
    const key = req.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
      throw badRequest('"idempotencyKey" must be a string of 1 to 200 characters');
    }
    if (typeof key === 'string') {
      const earlier = this.deps.store.byIdempotencyKey(key);
      if (earlier) {
        return { job: toWire(earlier), created: false };
      }
    }
    const profile = this.profile(req.profile);
    const resources = resolveResources(profile, req.resources);
    const nb = await resolveNotebook(this.deps.rootDir, req.notebook);

    // Checked again after the awaits above: another request may have won meanwhile.
    if (typeof key === 'string') {
      const earlier = this.deps.store.byIdempotencyKey(key);
      if (earlier) {
        return { job: toWire(earlier), created: false };
      }
    }
    const running = this.deps.store.live().find(j => j.output === nb.outputRelative);
    if (running) {
      throw new HttpError(
        409,
        `${nb.relative} is already ${running.state === 'queued' ? 'queued' : 'running'} as job ${running.id}, ` +
          `and a second run would overwrite its output ${nb.outputRelative}: wait for it or cancel it first`
      );
    }
    let health = this.deps.scheduler();
    if (!health.reachable && this.deps.recheckScheduler) {
      health = await this.deps.recheckScheduler();
    }
    if (!health.reachable) {
      throw new HttpError(
        503,
        `the scheduler is not answering${health.message ? ` (${health.message})` : ''}: nothing was submitted; try again in a minute`
      );
    }

    const id = newJobId();
    const jobDir = this.deps.store.jobDir(id);
    const record: JobRecord = {
      id,
      notebook: nb.relative,
      output: nb.outputRelative,
      profile: profile.id,
      kernel: profile.kernel,
      resources,
      executor: this.deps.executor.name,
      schedulerId: null,
      state: 'queued',
      submittedAt: new Date().toISOString(),
      ...(typeof key === 'string' ? { idempotencyKey: key } : {})
    };
    this.deps.store.reserve(record);
    try {
      await this.deps.store.create(record);
      const scriptPath = join(jobDir, 'job.sh');
      const script = renderJobScript({
        jobId: id,
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
      const logPath = join(jobDir, 'log.txt');
      await fs.writeFile(logPath, '', { mode: 0o600 });
      record.schedulerId = await this.deps.executor.submit({
        jobId: id,
        jobDir,
        scriptPath,
        logPath,
        cwd: nb.dir,
        resources,
        name: nb.relative.split('/').pop() ?? 'notebook',
        env: jobEnvironment(this.deps.baseEnv ?? process.env, {
          HPC_SUBMIT_JOB_ID: id,
          HPC_SUBMIT_JOB_DIR: jobDir,
          HPC_SUBMIT_OUTPUT: join(nb.outputDir, nb.outputName)
        })
      });
    } catch (e) {
      // Nothing half-made stays behind: the job never existed.
      await this.deps.store.remove(id).catch(() => this.deps.store.unreserve(id));
      if (e instanceof HttpError) {
        throw e;
      }
      if (e instanceof SchedulerUnreachableError) {
        throw new HttpError(
          503,
          `the scheduler is not answering (${e.message}): nothing was submitted; try again in a minute`
        );
      }
      const err = e as NodeJS.ErrnoException;
      if (err.code && ['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EDQUOT'].includes(err.code)) {
        throw new HttpError(
          507,
          `cannot write the job's files in the state directory (${err.code}): free space or set --state-dir`
        );
      }
      throw new HttpError(502, `the scheduler refused the job: ${err.message}`);
    }
    await this.deps.store.save(record);
    const job = toWire(record);
    this.deps.events.publish({ type: 'job', job });
    this.deps.watch?.(id);
    return { job, created: true };
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
    const picked =
      typeof notebook === 'string' && notebook !== ''
        ? all.filter(j => j.notebook === notebook)
        : all;
    return picked.map(toWire);
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
    return toWire(this.record(id));
  }

  async cancel(id: string): Promise<Job> {
    const record = this.record(id);
    if (isFinal(record)) {
      throw new HttpError(
        409,
        `job ${id} already ended (${record.state}); there is nothing to cancel`
      );
    }
    record.cancelRequested = true;
    await this.deps.store.save(record);
    if (record.schedulerId) {
      try {
        await this.deps.executor.cancel(record.schedulerId);
      } catch (e) {
        if (e instanceof SchedulerUnreachableError) {
          throw new HttpError(
            503,
            `the scheduler is not answering (${e.message}); the cancel was not delivered, try again`
          );
        }
        throw new HttpError(
          502,
          `the scheduler refused to cancel job ${id}: ${(e as Error).message}`
        );
      }
    }
    this.deps.watch?.(id);
    return toWire(record);
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
