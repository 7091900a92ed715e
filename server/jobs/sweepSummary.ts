/**
 * A sweep's results table, `executed/<stem>/summary.csv` beside the notebook:
 * one row per task with its values, its outcome and where its notebook is, so
 * that `pandas.read_csv` gives the table to compare the runs in.
 */
import { byTaskIndex } from '../../contract/rules';
import { writeFileAtomic } from '../atomicWrite';
import type { Job } from '../../contract/wire';
import { valueText } from './parameters';

/** Pure: the CSV (RFC 4180, CRLF line ends) of a sweep's tasks, in task order. */
export function renderSummaryCsv(tasks: Job[]): string {
  const ordered = [...tasks].sort(byTaskIndex);
  const names = parameterNames(ordered);
  const header = ['task', ...names, 'state', 'reason', 'duration_seconds', 'node', 'output'];
  const rows = ordered.map(task => [
    String(task.taskIndex ?? ''),
    ...names.map(name =>
      task.parameters && name in task.parameters ? valueText(task.parameters[name]) : ''
    ),
    task.state,
    task.reason ?? '',
    durationSeconds(task),
    task.node ?? '',
    task.output
  ]);
  return [header, ...rows].map(row => row.map(csvField).join(',') + '\r\n').join('');
}

/** Writes the summary whole or not at all: a reader never sees half a table. */
export async function writeSweepSummary(path: string, tasks: Job[]): Promise<void> {
  // Beside the notebook, for the researcher: the umask decides who else reads it.
  await writeFileAtomic(path, renderSummaryCsv(tasks), 0o666);
}

/** Every parameter name, in the order the tasks first show them. */
function parameterNames(tasks: Job[]): string[] {
  const names = new Set<string>();
  for (const task of tasks) {
    Object.keys(task.parameters ?? {}).forEach(name => names.add(name));
  }
  return [...names];
}

function durationSeconds(task: Job): string {
  if (!task.startedAt || !task.endedAt) {
    return '';
  }
  const ms = Date.parse(task.endedAt) - Date.parse(task.startedAt);
  return Number.isFinite(ms) ? String(ms / 1000) : '';
}

/** RFC 4180: a field with a quote, comma or line break is quoted, its quotes doubled. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
