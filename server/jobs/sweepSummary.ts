/**
 * A sweep's results table, `executed/<stem>/summary.csv` beside the notebook:
 * one row per task with its values, its outcome and where its notebook is, so
 * that `pandas.read_csv` gives the table to compare the runs in.
 */
import { byTaskIndex } from '../../contract/rules';
import { writeFileAtomic } from '../atomicWrite';
import type { Job, ParameterValue } from '../../contract/wire';
import { valueText } from './parameters';

/** Pure: the CSV (RFC 4180, CRLF line ends) of a sweep's tasks, in task order. */
export function renderSummaryCsv(tasks: Job[]): string {
  const ordered = [...tasks].sort(byTaskIndex);
  const names = namesOf(ordered, task => task.parameters);
  const recorded = namesOf(ordered, task => task.results);
  const header = [
    'task',
    ...names,
    ...recorded,
    'state',
    'reason',
    'duration_seconds',
    'node',
    'output'
  ];
  const rows = ordered.map(task => [
    String(task.taskIndex ?? ''),
    ...names.map(name => cell(task.parameters, name)),
    ...recorded.map(name => cell(task.results, name)),
    task.state,
    task.reason ?? '',
    durationSeconds(task),
    task.node ?? '',
    task.output
  ]);
  return [header, ...rows].map(csvRow).join('');
}

/** Writes the summary whole or not at all: a reader never sees half a table. */
export async function writeSweepSummary(path: string, tasks: Job[]): Promise<void> {
  // Beside the notebook, for the researcher: the umask decides who else reads it.
  await writeFileAtomic(path, renderSummaryCsv(tasks), 0o666);
}

/** Every name of a task's parameters (or results), in the order the tasks first show them. */
function namesOf(tasks: Job[], of: (task: Job) => object | undefined): string[] {
  const names = new Set<string>();
  for (const task of tasks) {
    Object.keys(of(task) ?? {}).forEach(name => names.add(name));
  }
  return [...names];
}

/** A parameter's or a result's value as one cell; '' where the task has none of that name. */
function cell(values: Record<string, ParameterValue> | undefined, name: string): string {
  return values && Object.prototype.hasOwnProperty.call(values, name)
    ? valueText(values[name])
    : '';
}

function durationSeconds(task: Job): string {
  if (!task.startedAt || !task.endedAt) {
    return '';
  }
  const ms = Date.parse(task.endedAt) - Date.parse(task.startedAt);
  return Number.isFinite(ms) ? String(ms / 1000) : '';
}

/** RFC 4180: a field with a quote, comma or line break is quoted, its quotes doubled. */
/** One CSV line (RFC 4180, CRLF): a field with a comma, a quote or a line break is quoted. */
export function csvRow(fields: string[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
