/**
 * A sweep's results table, `executed/<stem>/summary.csv` beside the notebook:
 * one row per task with its values, its outcome and where its notebook is, so
 * that `pandas.read_csv` gives the table to compare the runs in.
 */
import { byTaskIndex } from '../../contract/rules';
import { writeFileAtomic } from '../atomicWrite';
import { cellText, resultsTable } from '../../contract/results';
import type { Job } from '../../contract/wire';

/**
 * Pure: the CSV (RFC 4180, CRLF line ends) of a sweep's tasks, in task order:
 * the columns of parameters and recorded values as `hpc-submit results` and
 * the Results view make them (contract/results.ts), then the outcome.
 */
export function renderSummaryCsv(tasks: Job[]): string {
  const table = resultsTable([...tasks].sort(byTaskIndex));
  const values = table.parameters.length + table.results.length;
  const header = [
    'task',
    ...table.parameters,
    ...table.results,
    'state',
    'reason',
    'duration_seconds',
    'node',
    'output'
  ];
  const rows = table.rows.map(({ job, cells }) => [
    String(job.taskIndex ?? ''),
    ...cells.slice(1, 1 + values).map(cellText),
    job.state,
    job.reason ?? '',
    durationSeconds(job),
    job.node ?? '',
    job.output
  ]);
  return [header, ...rows].map(csvRow).join('');
}

/** Writes the summary whole or not at all: a reader never sees half a table. */
export async function writeSweepSummary(path: string, tasks: Job[]): Promise<void> {
  // Beside the notebook, for the researcher: the umask decides who else reads it.
  await writeFileAtomic(path, renderSummaryCsv(tasks), 0o666);
}

function durationSeconds(task: Job): string {
  if (!task.startedAt || !task.endedAt) {
    return '';
  }
  const ms = Date.parse(task.endedAt) - Date.parse(task.startedAt);
  return Number.isFinite(ms) ? String(ms / 1000) : '';
}

/** One CSV line (RFC 4180, CRLF): a field with a comma, a quote or a line break is quoted. */
export function csvRow(fields: string[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
