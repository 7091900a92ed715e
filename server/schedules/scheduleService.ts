/**
 * Schedules: a notebook's run or a pipeline, started by the scheduler at the
 * times cron fields say, as an entry of the user's scrontab that this tool
 * owns (scrontab.ts keeps every other line as it is). The entry runs
 * `hpc-submit scheduled ID`, which asks a companion (found, or started for
 * the purpose) to submit what the schedule's record says: each start is an
 * ordinary run in the history, whether or not JupyterLab was open.
 *
 * Records in <state>/schedules/: ID.json (the request), ID.last.json (what
 * the latest start did), ID.out (the scrontab job's own output).
 */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import type {
  PipelineRequest,
  ScheduleInfo,
  ScheduleList,
  ScheduleOutcome,
  ScheduleRequest,
  SubmitRequest
} from '../../contract/wire';
import type { CronTable } from '../executors/executor';
import { Refusal } from '../jobs/refusal';
import { newJobId } from '../jobs/store';
import { writeStateFile } from '../jobs/storage';
import { nextRun, parseCron } from './cron';
import { parseScheduleRequest } from './scheduleRequest';
import { type ScheduleEntry, readSchedules, withSchedules } from './scrontab';

/** Why the local executor holds no schedule: said wherever one is asked for. */
export const NO_SCHEDULER =
  'schedules need a scheduler that starts runs by itself: this companion runs jobs on this machine (the local executor), where nothing would start a run while JupyterLab is closed. On a Slurm cluster a schedule is an entry of your scrontab.';

/** The most schedules one user keeps here: each is a scrontab entry the scheduler wakes for. */
export const MAX_SCHEDULES = 50;

export interface ScheduleServiceDeps {
  stateDir: string;
  /** Null: the executor has none (local), and every schedule is refused with NO_SCHEDULER. */
  crontab: CronTable | null;
  /** Every check of a run's submission, nothing written; rejects with the refusal. */
  checkRun: (request: SubmitRequest) => Promise<void>;
  checkPipeline: (request: PipelineRequest) => Promise<void>;
  /** Submits; answers the run's, sweep's or pipeline's id. */
  submitRun: (request: SubmitRequest) => Promise<string>;
  submitPipeline: (request: PipelineRequest) => Promise<string>;
  /** The command of schedule `id`'s entry, quoted for the shell, on one line. */
  entryCommand: (id: string) => string;
  now?: () => Date;
}

interface ScheduleRecord {
  id: string;
  request: ScheduleRequest;
  created: string;
}

const ID = /^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/;

export class ScheduleService {
  /** Edits of the scrontab one after another: each reads the text the one before wrote. */
  private editing: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ScheduleServiceDeps) {}

  private get dir(): string {
    return join(this.deps.stateDir, 'schedules');
  }

  /** GET /api/schedules: this tool's entries of the scrontab, one read of it. */
  async list(): Promise<ScheduleList> {
    if (!this.deps.crontab) {
      return { schedules: [], unavailable: NO_SCHEDULER };
    }
    const entries = readSchedules(await this.deps.crontab.read());
    return { schedules: await Promise.all(entries.map(e => this.info(e))) };
  }

  /** POST /api/schedules: checked as its run or pipeline would be, then written as an entry. */
  async add(body: unknown): Promise<ScheduleInfo> {
    const crontab = this.requireCrontab();
    const request = parseScheduleRequest(body);
    if (request.run) {
      await this.deps.checkRun(request.run);
    } else if (request.pipeline) {
      await this.deps.checkPipeline(request.pipeline);
    }
    const id = newJobId(this.now());
    const record: ScheduleRecord = { id, request, created: this.now().toISOString() };
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeStateFile(this.recordPath(id), `${JSON.stringify(record, null, 2)}\n`);
    const entry: ScheduleEntry = {
      id,
      cron: request.when,
      paused: false,
      label: labelOf(request),
      options: this.entryOptions(id),
      command: this.deps.entryCommand(id)
    };
    try {
      await this.edit(crontab, entries => {
        if (entries.length >= MAX_SCHEDULES) {
          throw new Refusal(
            'conflict',
            `you have ${entries.length} schedules, the most kept: remove one first`
          );
        }
        return [...entries, entry];
      });
    } catch (e) {
      await fs.rm(this.recordPath(id), { force: true });
      throw e;
    }
    return this.info(entry);
  }

  /** Pauses (the entry kept, commented out) or resumes schedule `id`. */
  async setPaused(id: string, paused: boolean): Promise<ScheduleInfo> {
    const crontab = this.requireCrontab();
    const entries = await this.edit(crontab, all => {
      const found = this.entryOf(all, id);
      return all.map(e => (e === found ? { ...e, paused } : e));
    });
    return this.info(this.entryOf(entries, id));
  }

  /** Removes schedule `id`: its entry (every other line of the scrontab kept) and its records. */
  async remove(id: string): Promise<void> {
    const crontab = this.requireCrontab();
    await this.edit(crontab, all => {
      const found = this.entryOf(all, id);
      return all.filter(e => e !== found);
    });
    await Promise.all(
      ['.json', '.last.json', '.out'].map(end =>
        fs.rm(join(this.dir, `${id}${end}`), { force: true })
      )
    );
  }

  /**
   * POST /api/schedules/:id/start, what the entry runs: submits what the
   * schedule's record says and keeps what came of it, a refusal too.
   */
  async start(id: string): Promise<ScheduleOutcome> {
    const record = await this.record(id);
    if (!record) {
      throw new Refusal('not-found', `no schedule ${id} (removed?)`);
    }
    const at = this.now().toISOString();
    let outcome: ScheduleOutcome;
    try {
      const { run, pipeline } = record.request;
      const started = run
        ? await this.deps.submitRun(run)
        : await this.deps.submitPipeline(pipeline as PipelineRequest);
      outcome = { at, id: started };
    } catch (e) {
      outcome = { at, error: (e as Error).message };
    }
    await writeStateFile(join(this.dir, `${id}.last.json`), `${JSON.stringify(outcome)}\n`);
    return outcome;
  }

  private requireCrontab(): CronTable {
    if (!this.deps.crontab) {
      throw new Refusal('conflict', NO_SCHEDULER);
    }
    return this.deps.crontab;
  }

  private entryOf(entries: ScheduleEntry[], id: string): ScheduleEntry {
    const found = entries.find(e => e.id === id);
    if (!found) {
      throw new Refusal('not-found', `no schedule ${id} in your scrontab`);
    }
    return found;
  }

  /** Reads, changes and writes the scrontab, after every edit asked for before. */
  private edit(
    crontab: CronTable,
    change: (entries: ScheduleEntry[]) => ScheduleEntry[]
  ): Promise<ScheduleEntry[]> {
    const next = this.editing.then(async () => {
      const text = await crontab.read();
      const entries = change(readSchedules(text));
      await crontab.write(withSchedules(text, entries));
      return entries;
    });
    this.editing = next.catch(() => undefined);
    return next;
  }

  /** The scrontab job's own options: a name to find it by, its output kept, a short time. */
  private entryOptions(id: string): string[] {
    return [
      '--job-name=hpc-submit-schedule',
      `--output=${join(this.dir, `${id}.out`)}`,
      '--open-mode=append',
      '--time=00:10:00'
    ];
  }

  private async info(entry: ScheduleEntry): Promise<ScheduleInfo> {
    const record = await this.record(entry.id);
    const last = await readJson<ScheduleOutcome>(join(this.dir, `${entry.id}.last.json`));
    const next = entry.paused ? null : nextRun(parseCron(entry.cron), this.now());
    const target = record?.request.run?.notebook ?? record?.request.pipeline?.file ?? null;
    return {
      id: entry.id,
      when: entry.cron,
      paused: entry.paused,
      label: record ? labelOf(record.request) : entry.label,
      target,
      kind: record ? (record.request.run ? 'run' : 'pipeline') : null,
      nextRun: next ? next.toISOString() : null,
      ...(last ? { last } : {})
    };
  }

  private recordPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private async record(id: string): Promise<ScheduleRecord | null> {
    return ID.test(id) ? readJson<ScheduleRecord>(this.recordPath(id)) : null;
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }
}

/** What a schedule runs, in words. */
export function labelOf(request: ScheduleRequest): string {
  if (request.run) {
    const sweep = request.run.sweep ? ' (a sweep)' : '';
    const env = request.run.environment ? ` (${request.run.environment})` : '';
    return `${basename(request.run.notebook)} on ${request.run.profile}${env}${sweep}`;
  }
  return `pipeline ${basename(request.pipeline?.file ?? '')}`;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}
