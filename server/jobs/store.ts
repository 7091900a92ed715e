/**
 * Jobs on disk: one directory per job under <state>/jobs/<id>/ with job.json
 * written atomically (temp file + rename). Home directories on HPC sites are
 * network filesystems where SQLite locking is unsafe; small files are safe
 * there and survive a crash of the companion. The index lives in memory and
 * is rebuilt from the directories at start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../contract/wire';
import { isFinal, sortJobs } from '../../contract/rules';
import { HttpError } from '../http/httpError';

/** What job.json holds: the wire Job plus what only the companion needs. */
export interface JobRecord extends Job {
  cancelRequested?: boolean;
  idempotencyKey?: string;
}

export const JOB_ID = /^\d{8}-\d{6}-[a-z0-9]{6}$/;

/** Sortable by submission time, URL-safe, unguessable enough to not collide. */
export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(4).toString('hex').slice(0, 6)}`;
}

/** The wire form: internal fields left out. */
export function toWire(record: JobRecord): Job {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { cancelRequested, idempotencyKey, ...job } = record;
  return job;
}

export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, data, { mode });
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw storageError(e as NodeJS.ErrnoException, path);
  }
}

/** A clear sentence for a failed write to the state directory. */
export function storageError(e: NodeJS.ErrnoException, path: string): HttpError {
  if (e instanceof HttpError) {
    return e;
  }
  switch (e.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new HttpError(
        507,
        `the state directory is full (writing ${path}): free some space or set --state-dir`
      );
    case 'EROFS':
      return new HttpError(
        507,
        `the state directory is read-only (writing ${path}): set --state-dir to a writable one`
      );
    case 'EACCES':
    case 'EPERM':
      return new HttpError(
        507,
        `no permission to write ${path}: check the state directory's owner and mode`
      );
    default:
      return new HttpError(500, `cannot write ${path}: ${e.code ?? e.message}`);
  }
}

export class JobStore {
  readonly jobsDir: string;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly byKey = new Map<string, string>();
  /** Newest first; rebuilt lazily after a change. */
  private sorted: JobRecord[] | null = null;
  /** Bumped on every change, so readers can cache what they derive from the list. */
  version = 0;

  constructor(readonly stateDir: string) {
    this.jobsDir = join(stateDir, 'jobs');
  }

  /** Rebuilds the index from disk. A corrupt job.json is skipped, not fatal. */
  load(): { loaded: number; skipped: string[] } {
    mkdirSync(this.jobsDir, { recursive: true, mode: 0o700 });
    const skipped: string[] = [];
    for (const id of readdirSync(this.jobsDir)) {
      if (!JOB_ID.test(id)) {
        continue;
      }
      const file = join(this.jobsDir, id, 'job.json');
      if (!existsSync(file)) {
        skipped.push(id);
        continue;
      }
      try {
        const record = JSON.parse(readFileSync(file, 'utf8')) as JobRecord;
        if (record.id !== id || typeof record.state !== 'string') {
          throw new Error('not a job record');
        }
        this.index(record);
      } catch {
        skipped.push(id);
      }
    }
    return { loaded: this.jobs.size, skipped };
  }

  jobDir(id: string): string {
    return join(this.jobsDir, id);
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  byIdempotencyKey(key: string): JobRecord | undefined {
    const id = this.byKey.get(key);
    return id ? this.jobs.get(id) : undefined;
  }

  /** Newest first. */
  list(): JobRecord[] {
    if (!this.sorted) {
      this.sorted = sortJobs([...this.jobs.values()]);
    }
    return this.sorted;
  }

  live(): JobRecord[] {
    return this.list().filter(j => !isFinal(j));
  }

  /** Claims an id in memory before any I/O, so concurrent requests see it at once. */
  reserve(record: JobRecord): void {
    this.index(record);
  }

  /** Forgets a reservation whose creation failed. */
  unreserve(id: string): void {
    const record = this.jobs.get(id);
    if (record?.idempotencyKey) {
      this.byKey.delete(record.idempotencyKey);
    }
    this.jobs.delete(id);
    this.sorted = null;
    this.version++;
  }

  async create(record: JobRecord): Promise<void> {
    try {
      await fs.mkdir(this.jobDir(record.id), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw storageError(e as NodeJS.ErrnoException, this.jobDir(record.id));
    }
    await this.save(record);
  }

  /**
   * The one way a job changes: `patch` applied to its record (a field patched
   * to undefined is removed), job.json rewritten atomically; answers the new
   * record. Records are never changed in place, so a record read earlier is a
   * snapshot, never half-updated. The index holds the new record even when
   * the write fails (the caller hears of it): what is in memory stays the
   * truth until the next write succeeds.
   */
  async update(id: string, patch: Partial<JobRecord>): Promise<JobRecord> {
    const current = this.jobs.get(id);
    if (!current) {
      throw new Error(`no job ${id} in the store`);
    }
    const next = withPatch(current, patch);
    await this.save(next);
    return next;
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.jobDir(id), { recursive: true, force: true });
    this.unreserve(id);
  }

  private async save(record: JobRecord): Promise<void> {
    this.index(record);
    await writeFileAtomic(
      join(this.jobDir(record.id), 'job.json'),
      JSON.stringify(record, null, 1) + '\n'
    );
  }

  private index(record: JobRecord): void {
    this.jobs.set(record.id, record);
    if (record.idempotencyKey) {
      this.byKey.set(record.idempotencyKey, record.id);
    }
    this.sorted = null;
    this.version++;
  }
}

/** A copy of the record with the patch's fields set; a field patched to undefined is removed. */
function withPatch(record: JobRecord, patch: Partial<JobRecord>): JobRecord {
  const next: Record<string, unknown> = { ...record };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) {
      delete next[key];
    } else {
      next[key] = value;
    }
  }
  return next as unknown as JobRecord;
}
