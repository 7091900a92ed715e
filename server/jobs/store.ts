/**
 * Jobs on disk: one directory per job under <state>/jobs/<id>/ with job.json
 * written atomically (temp file + rename). Home directories on HPC sites are
 * network filesystems where SQLite locking is unsafe; small files are safe
 * there and survive a crash of the companion. The index lives in memory, is
 * rebuilt from the directories at start, and `rescan` brings in what other
 * companions over the same directory (another host, another root) wrote.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, promises as fs } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Job } from '../../contract/wire';
import { isFinal, sortJobs, byTaskIndex } from '../../contract/rules';
import type { JobEventSink } from './jobEvents';
import { writeRefusal, writeStateFile } from './storage';

/** What job.json holds: the wire Job plus what only the companion needs. */
export interface JobRecord extends Job {
  /** The notebook's real absolute path: what identifies a run, whichever root submitted it. */
  notebookPath: string;
  /** The executed notebook's absolute path. */
  outputPath: string;
  cancelRequested?: boolean;
  idempotencyKey?: string;
  /** On each task of a sweep: what its rerun and its sweep's summary.csv need. */
  sweepFacts?: SweepFacts;
}

/** What a sweep's task carries beyond the wire fields. */
export interface SweepFacts {
  mode: 'product' | 'zip';
  maxParallel: number;
  /**
   * The summary.csv the task is a row of: the sweep first submitted (a rerun's
   * tasks keep the sweep they rerun) and the row, its task index there.
   */
  summaryOf: string;
  row: number;
}

/** Written in a job's directory by a companion that does not hold the lease (lease.ts). */
export const CANCEL_REQUEST_FILE = 'cancel-requested';

/** A sweep's id has a job id's form; its tasks are `<sweepId>-<taskIndex>`. */
export const SWEEP_ID = /^\d{8}-\d{6}-[a-z0-9]{6}$/;

export const JOB_ID = /^\d{8}-\d{6}-[a-z0-9]{6}(-(0|[1-9]\d{0,5}))?$/;

export const taskJobId = (sweepId: string, taskIndex: number): string => `${sweepId}-${taskIndex}`;

/** Sortable by submission time, URL-safe, unguessable enough to not collide. */
export function newJobId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(4).toString('hex').slice(0, 6)}`;
}

/**
 * The wire form as a companion rooted at `rootDir` shows it: paths relative
 * to that root where they lie inside it, else absolute and marked
 * `outsideRoot`; internal fields left out.
 */
export function toWire(record: JobRecord, rootDir: string): Job {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { cancelRequested, idempotencyKey, notebookPath, outputPath, sweepFacts, ...job } = record;
  if (sweepFacts) {
    job.summaryRow = { summaryOf: sweepFacts.summaryOf, row: sweepFacts.row };
  }
  const notebook = underRoot(rootDir, notebookPath);
  if (notebook === null) {
    return { ...job, notebook: notebookPath, output: outputPath, outsideRoot: true };
  }
  return { ...job, notebook, output: underRoot(rootDir, outputPath) ?? outputPath };
}

/** `path` relative to `root`, '/'-separated, or null when it lies outside. */
export function underRoot(root: string, path: string): string | null {
  const rel = relative(root, path);
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
    return null;
  }
  return rel.split(sep).join('/');
}

/**
 * Records written before runs were identified by absolute paths hold only
 * root-relative ones: they were made by a companion of this root.
 */
function withAbsolutePaths(record: JobRecord, rootDir: string): JobRecord {
  if (record.notebookPath && record.outputPath) {
    return record;
  }
  return {
    ...record,
    notebookPath: record.notebookPath ?? join(rootDir, record.notebook),
    outputPath: record.outputPath ?? join(rootDir, record.output)
  };
}

export class JobStore {
  readonly jobsDir: string;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly byKey = new Map<string, string>();
  /** Newest first; rebuilt lazily after a change. */
  private sorted: JobRecord[] | null = null;
  /** Bumped on every change, so readers can cache what they derive from the list. */
  version = 0;

  /** The jobs directory's mtime at the last listing. */
  private listedMtime = -1;
  private rescans = 0;
  /** job.json's size and mtime as last read or written, per job: what `rescan` compares. */
  private readonly stamps = new Map<string, string>();
  /**
   * Created and not yet updated: a launch that may still be taken back
   * (nothing half-made is listed), so not yet told to the browsers.
   */
  private readonly unannounced = new Set<string>();

  /**
   * `events` hears of every change, from here only: an update, a removal, and
   * what `rescan` brings in from other companions.
   */
  constructor(
    readonly stateDir: string,
    private readonly rootDir: string,
    private readonly events: JobEventSink = { publish: () => undefined }
  ) {
    this.jobsDir = join(stateDir, 'jobs');
  }

  private announce(record: JobRecord): void {
    this.unannounced.delete(record.id);
    this.events.publish({ type: 'job', job: toWire(record, this.rootDir) });
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
        this.index(this.parse(id, readFileSync(file, 'utf8')));
      } catch {
        skipped.push(id);
      }
    }
    return { loaded: this.jobs.size, skipped };
  }

  private parse(id: string, text: string): JobRecord {
    const record = JSON.parse(text) as JobRecord;
    if (record.id !== id || typeof record.state !== 'string') {
      throw new Error('not a job record');
    }
    return withAbsolutePaths(record, this.rootDir);
  }

  /**
   * Brings in what other companions over this directory changed: new job
   * directories, forgotten ones, and live records rewritten (a final record
   * never changes again, so only live ones are looked at). Publishes and
   * answers what changed.
   */
  async rescan(): Promise<{ changed: JobRecord[]; removed: string[] }> {
    const changed: JobRecord[] = [];
    const removed: string[] = [];
    // A job directory made or removed changes the listing's mtime: with 10,000
    // runs in history, reading the listing only then keeps a rescan at a few
    // ms. Every tenth time it is read anyway: a filesystem that keeps mtimes
    // to the second (NFS) can hide a second change within the same second.
    const listed = await fs.stat(this.jobsDir).catch(() => null);
    let ids = this.live().map(j => j.id);
    if (listed && (listed.mtimeMs !== this.listedMtime || ++this.rescans % 10 === 0)) {
      this.listedMtime = listed.mtimeMs;
      const present = new Set((await fs.readdir(this.jobsDir)).filter(n => JOB_ID.test(n)));
      for (const id of [...this.jobs.keys()]) {
        if (!present.has(id) && !this.reserved.has(id)) {
          this.unreserve(id);
          removed.push(id);
        }
      }
      ids = [...present].filter(id => !this.jobs.has(id) || !isFinal(this.jobs.get(id)!));
    }
    for (const id of ids) {
      const record = await this.reread(id);
      if (record) {
        changed.push(record);
      }
    }
    removed.forEach(id => this.events.publish({ type: 'forget', id }));
    changed.forEach(record => this.announce(record));
    return { changed, removed };
  }

  /** The record again when its job.json changed since this companion last read or wrote it. */
  private async reread(id: string): Promise<JobRecord | null> {
    const file = join(this.jobDir(id), 'job.json');
    try {
      const stat = await fs.stat(file);
      const stamp = `${stat.size}:${stat.mtimeMs}`;
      if (this.stamps.get(id) === stamp) {
        return null;
      }
      const record = this.parse(id, await fs.readFile(file, 'utf8'));
      this.stamps.set(id, stamp);
      const known = this.jobs.get(id);
      if (known && JSON.stringify(known) === JSON.stringify(record)) {
        return null;
      }
      this.index(record);
      return record;
    } catch {
      return null; // being made by another companion, or unreadable: looked at again next time
    }
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

  /** The tasks of one sweep, in task order. */
  sweepTasks(sweepId: string): JobRecord[] {
    return [...this.jobs.values()].filter(j => j.sweepId === sweepId).sort(byTaskIndex);
  }

  /** The runs of a pipeline's steps, every attempt, newest first. */
  pipelineRuns(pipelineId: string): JobRecord[] {
    return this.list().filter(r => r.pipeline?.pipelineId === pipelineId);
  }

  live(): JobRecord[] {
    return this.list().filter(j => !isFinal(j));
  }

  /** Ids claimed by this companion whose directory may not exist yet: `rescan` keeps them. */
  private readonly reserved = new Set<string>();

  /** Claims an id in memory before any I/O, so concurrent requests see it at once. */
  reserve(record: JobRecord): void {
    this.reserved.add(record.id);
    this.index(record);
  }

  /** Forgets a reservation whose creation failed. */
  unreserve(id: string): void {
    const record = this.jobs.get(id);
    this.jobs.delete(id);
    if (record?.idempotencyKey && this.byKey.get(record.idempotencyKey) === id) {
      // Every task of a sweep carries its key: another task still answers it.
      const other = [...this.jobs.values()].find(j => j.idempotencyKey === record.idempotencyKey);
      if (other) {
        this.byKey.set(record.idempotencyKey, other.id);
      } else {
        this.byKey.delete(record.idempotencyKey);
      }
    }
    this.stamps.delete(id);
    this.reserved.delete(id);
    this.unannounced.delete(id);
    this.sorted = null;
    this.version++;
  }

  async create(record: JobRecord): Promise<void> {
    try {
      await fs.mkdir(this.jobDir(record.id), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw writeRefusal(e, this.jobDir(record.id));
    }
    this.unannounced.add(record.id);
    await this.save(record);
    this.reserved.delete(record.id);
  }

  /**
   * The one way a job changes: `patch` applied to its record (a field patched
   * to undefined is removed), job.json rewritten atomically; answers the new
   * record. Records are never changed in place, so a record read earlier is a
   * snapshot, never half-updated. The index holds the new record even when
   * the write fails (the caller hears of it): what is in memory stays the
   * truth until the next write succeeds, and is what the browsers are told.
   */
  async update(id: string, patch: Partial<JobRecord>): Promise<JobRecord> {
    const current = this.jobs.get(id);
    if (!current) {
      throw new Error(`no job ${id} in the store`);
    }
    const next = withPatch(current, patch);
    try {
      await this.save(next);
    } finally {
      this.announce(next);
    }
    return next;
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.jobDir(id), { recursive: true, force: true });
    const told = this.jobs.has(id) && !this.unannounced.has(id) && !this.reserved.has(id);
    this.unreserve(id);
    if (told) {
      this.events.publish({ type: 'forget', id });
    }
  }

  private async save(record: JobRecord): Promise<void> {
    this.index(record);
    const file = join(this.jobDir(record.id), 'job.json');
    await writeStateFile(file, JSON.stringify(record, null, 1) + '\n');
    const stat = await fs.stat(file).catch(() => null);
    if (stat) {
      this.stamps.set(record.id, `${stat.size}:${stat.mtimeMs}`);
    }
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
