/**
 * The job service's answers about jobs already made: the list (whole or in
 * pages), one record, a sweep's tasks, a job's log, and the site's profiles.
 * Nothing here changes a record.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Job, JobList, Profile, SweepAnswer } from '../../contract/wire';
import type { JobServiceDeps } from './jobService';
import { pageOf, parseCursor, parseLimit } from './pages';
import { Refusal, invalid } from './refusal';
import { JOB_ID, type JobRecord, SWEEP_ID, toWire, underRoot } from './store';
import { sweepAnswer } from './sweeps';

const LOG_CHUNK = 1024 * 1024;

export class JobQueries {
  constructor(private readonly deps: JobServiceDeps) {}

  profile(id: unknown): Profile {
    const profile = this.deps.profiles.find(p => p.id === id);
    if (!profile) {
      const known = this.deps.profiles.map(p => p.id).join(', ');
      throw invalid(`unknown profile ${JSON.stringify(id)}: this site has ${known}`);
    }
    return profile;
  }

  /** A record as this companion's clients see it: paths relative to its root. */
  wire(record: JobRecord): Job {
    return toWire(record, this.deps.rootDir);
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
        throw invalid('"cursor" goes with "limit": ask for ?limit=N&cursor=…');
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

  record(id: string): JobRecord {
    if (!JOB_ID.test(id)) {
      throw invalid(`${JSON.stringify(id.slice(0, 80))} is not a job id`);
    }
    const record = this.deps.store.get(id);
    if (!record) {
      throw new Refusal('not-found', `no job ${id}`);
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

  sweepDir(sweepId: string): string {
    return join(this.deps.store.stateDir, 'sweeps', sweepId);
  }

  /** The tasks of a sweep, in task order; a 404 when there are none. */
  sweepTasks(sweepId: string): JobRecord[] {
    if (!SWEEP_ID.test(sweepId)) {
      throw invalid(`${JSON.stringify(sweepId.slice(0, 80))} is not a sweep id`);
    }
    const tasks = this.deps.store.sweepTasks(sweepId);
    if (tasks.length === 0) {
      throw new Refusal('not-found', `no sweep ${sweepId}`);
    }
    return tasks;
  }

  /** A sweep and its tasks in task order (GET /api/sweeps/:id), without the rest of the history. */
  sweep(sweepId: string): SweepAnswer {
    return sweepAnswer(this.sweepTasks(sweepId), r => this.wire(r));
  }

  /** The log from `offset` on, at most 1 MB at a time, and the offset to ask next. */
  async log(id: string, offset: unknown): Promise<{ text: string; next: number }> {
    this.record(id);
    const start = offset === undefined ? 0 : Number(offset);
    if (!Number.isInteger(start) || start < 0) {
      throw invalid('"offset" must be a whole number of bytes');
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
