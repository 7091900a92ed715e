/**
 * Slurm's accounting (`sacct`) of ended jobs, read once per ended job in one
 * batched call per poll round (slurm.ts runs it; this file is pure). It asks
 * slurmdbd, not slurmctld, so it adds nothing to the controller's load.
 *
 * Steps matter: the allocation line has the state, the elapsed time and the
 * CPU time of all steps, but the peak memory is only on the step lines
 * (`123.batch`, `123.0`), measured by Slurm's jobacct_gather.
 */
import type { AccountingRecord } from './executor';

const FIELDS = ['JobID', 'State', 'ExitCode', 'Elapsed', 'TotalCPU', 'MaxRSS', 'AllocCPUS'];

/** The sacct arguments for these job ids (steps included); pure. */
export function sacctArgs(ids: string[]): string[] {
  return ['--noheader', '--parsable2', `--format=${FIELDS.join(',')}`, '--jobs', ids.join(',')];
}

/** sacct's answer where the site has no accounting storage. */
export const ACCOUNTING_DISABLED = /accounting storage is disabled|accounting_storage\/none/i;

/** States in which Slurm's figures for a job are not final yet. */
const UNSETTLED = new Set([
  'PENDING',
  'RUNNING',
  'REQUEUED',
  'RESIZING',
  'SUSPENDED',
  'COMPLETING',
  'CONFIGURING',
  'STAGE_OUT',
  'SIGNALING'
]);

/** `sacct --parsable2 --noheader` lines, folded per job id (123 or 123_4); pure. */
export function parseSacct(stdout: string): Map<string, AccountingRecord> {
  const records = new Map<string, AccountingRecord>();
  for (const line of stdout.split('\n')) {
    const cells = line.split('|');
    if (cells.length < FIELDS.length) {
      continue;
    }
    const [jobId, state, exitCode, elapsed, totalCpu, maxRss, allocCpus] = cells.map(c => c.trim());
    const dot = jobId.indexOf('.');
    const id = dot === -1 ? jobId : jobId.slice(0, dot);
    const record = records.get(id) ?? { state: '', final: false, hasBatchStep: false };
    if (dot === -1) {
      // "CANCELLED by 1000": the state is its first word.
      record.state = state.split(/\s+/)[0] ?? '';
      record.final = record.state !== '' && !UNSETTLED.has(record.state);
      record.exitCode = exitCode || undefined;
      record.elapsedSeconds = sacctSeconds(elapsed) ?? undefined;
      record.totalCpuSeconds = sacctSeconds(totalCpu) ?? undefined;
      const cpus = Number(allocCpus);
      record.allocCpus = Number.isInteger(cpus) && cpus > 0 ? cpus : undefined;
    } else if (jobId.slice(dot + 1) === 'batch') {
      record.hasBatchStep = true;
    }
    const rss = sacctBytes(maxRss);
    if (rss !== null && rss > (record.maxRssBytes ?? -1)) {
      record.maxRssBytes = rss;
    }
    records.set(id, withoutUndefined(record));
  }
  return records;
}

/** sacct's durations: "[D-]HH:MM:SS", "MM:SS.mmm" (TotalCPU), in seconds; null for none; pure. */
export function sacctSeconds(text: string): number | null {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!m) {
    return null;
  }
  const [, days, hours, minutes, seconds] = m;
  return (
    Number(days ?? 0) * 86400 + Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(seconds)
  );
}

const UNIT: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** sacct's sizes ("102400K", "1.50G", "0") in bytes; null for none; pure. */
export function sacctBytes(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNIT[m[2]]) : null;
}

function withoutUndefined(record: AccountingRecord): AccountingRecord {
  for (const key of Object.keys(record) as (keyof AccountingRecord)[]) {
    if (record[key] === undefined) {
      delete record[key];
    }
  }
  return record;
}
