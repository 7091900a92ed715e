/**
 * The poller's accounting round: where the scheduler keeps accounting, the
 * runs that ended are read from it in one call per round (one sacct, to
 * slurmdbd) and their efficiency completed with it.
 */
import type { Job } from '../../contract/wire';
import type { Executor } from '../executors/executor';
import { accountingSettled, withAccounting } from './accounting';
import type { JobRecord, JobStore } from './store';

/** Rounds an ended run is asked for in the accounting before its samples alone stand. */
const MAX_ACCOUNTING_ROUNDS = 6;

export interface AccountingRoundDeps {
  store: JobStore;
  executor: Executor;
  /** Through the store; undefined when the record is gone. */
  update: (id: string, patch: Partial<Job>) => Promise<JobRecord | undefined>;
  log: (line: string) => void;
}

export class AccountingRound {
  /** Ended runs to read from the accounting, with the rounds already asked. */
  private readonly due = new Map<string, number>();
  /** The scheduler said it keeps no accounting: not asked again. */
  private off = false;

  constructor(private readonly deps: AccountingRoundDeps) {}

  /** A run that ended: read from the accounting at the next round, where there is one. */
  ended(record: JobRecord): void {
    if (record.startedAt && this.deps.executor.accounting && !this.off) {
      this.due.set(record.id, 0);
    }
  }

  /**
   * One accounting call for every run that ended since (sacct may lag the
   * end by a moment: a run not settled yet is asked again next round, at
   * most MAX_ACCOUNTING_ROUNDS times).
   */
  async read(): Promise<void> {
    const { store, executor, log } = this.deps;
    const due: JobRecord[] = [];
    for (const id of this.due.keys()) {
      const job = store.get(id);
      if (job?.schedulerId === undefined) {
        // Forgotten meanwhile: nothing left to complete.
        this.due.delete(id);
      } else {
        due.push(job);
      }
    }
    if (due.length === 0 || !executor.accounting) {
      return;
    }
    let answer;
    try {
      answer = await executor.accounting(due.map(j => j.schedulerId as string));
    } catch (e) {
      log(`accounting not read: ${(e as Error).message}`);
      due.forEach(j => this.askedAgain(j.id, this.roundOf(j.id)));
      return;
    }
    if (answer.kind === 'disabled') {
      this.off = true;
      this.due.clear();
      log(`no accounting (${answer.message}): efficiency from the jobs' own samples`);
      return;
    }
    for (const job of due) {
      const record = answer.records.get(job.schedulerId as string);
      const round = this.roundOf(job.id);
      if (!record || !accountingSettled(record, round)) {
        this.askedAgain(job.id, round);
        continue;
      }
      this.due.delete(job.id);
      const efficiency = withAccounting(job, job.efficiency, record);
      if (!efficiency) {
        continue;
      }
      await this.deps.update(job.id, { efficiency });
    }
  }

  /** Which round of asking this is for the run: 1 the first time. */
  private roundOf(id: string): number {
    return (this.due.get(id) ?? 0) + 1;
  }

  /** Asked `round` times without an answer: again next round, unless that was the last. */
  private askedAgain(id: string, round: number): void {
    if (round >= MAX_ACCOUNTING_ROUNDS) {
      this.due.delete(id);
    } else {
      this.due.set(id, round);
    }
  }
}
