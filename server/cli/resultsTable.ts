/**
 * `hpc-submit results`: the runs of a sweep (or of a notebook) with their
 * parameters and recorded values, as a table to read, sort and paste. Pure.
 */
import type { Job, ResultValue } from '../../contract/wire';
import { csvRow } from '../jobs/sweepSummary';

type Cell = ResultValue | undefined;

/** A table: its column names and, per run, the run and one cell per column (undefined: none). */
export interface ResultsTable {
  columns: string[];
  rows: Array<{ job: Job; cells: Cell[] }>;
}

/** Every name of the runs' `of`, in the order the runs first show them. */
function namesOf(jobs: readonly Job[], of: (job: Job) => object | undefined): string[] {
  const names = new Set<string>();
  jobs.forEach(job => Object.keys(of(job) ?? {}).forEach(name => names.add(name)));
  return [...names];
}

function own<T>(values: Record<string, T> | undefined, name: string): T | undefined {
  return values && Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined;
}

/** The first column names a run: its task index in a sweep, else its id. */
export function resultsTable(jobs: readonly Job[]): ResultsTable {
  const sweep = jobs.length > 0 && jobs.every(j => j.sweepId !== undefined);
  const parameters = namesOf(jobs, j => j.parameters);
  const results = namesOf(jobs, j => j.results);
  return {
    columns: [sweep ? 'task' : 'id', ...parameters, ...results, 'state'],
    rows: jobs.map(job => ({
      job,
      cells: [
        sweep ? (job.taskIndex ?? 0) : job.id,
        ...parameters.map(name => own(job.parameters, name)),
        ...results.map(name => own(job.results, name)),
        job.state
      ]
    }))
  };
}

/** Numbers first in order, then other values as text, then the runs without the value. */
const missing = (v: Cell): boolean => v === undefined || v === null || v === 'NaN';

function compareCells(a: Cell, b: Cell): number {
  const rank = (v: Cell): number => (missing(v) ? 2 : typeof v === 'number' ? 0 : 1);
  if (rank(a) !== rank(b) || missing(a)) {
    return rank(a) - rank(b); // the runs without the value keep their order
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  return cellText(a).localeCompare(cellText(b));
}

/**
 * The table sorted by a column ("-loss": largest first); runs without the
 * value stay last either way. Throws, naming the columns, for an unknown one.
 */
export function sortedBy(table: ResultsTable, spec: string): ResultsTable {
  const descending = spec.startsWith('-');
  const name = descending ? spec.slice(1) : spec;
  const at = table.columns.indexOf(name);
  if (at === -1) {
    throw new Error(`no column ${name} to sort by; the columns are ${table.columns.join(', ')}`);
  }
  const rows = [...table.rows].sort(({ cells: x }, { cells: y }) => {
    const order = compareCells(x[at], y[at]);
    return descending && !missing(x[at]) && !missing(y[at]) ? -order : order;
  });
  return { columns: table.columns, rows };
}

/** Strings as they are, any other value as its JSON text; '' for none. */
function cellText(value: Cell): string {
  if (value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Aligned columns for a terminal; a cell's line breaks shown as \n. */
export function tableText(table: ResultsTable): string {
  const cells = [table.columns, ...table.rows.map(row => row.cells.map(cellText))].map(row =>
    row.map(text => text.replace(/\r?\n/g, '\\n'))
  );
  const widths = table.columns.map((_, i) => Math.max(...cells.map(row => row[i].length)));
  return cells
    .map(row =>
      row
        .map((text, i) => text.padEnd(widths[i]))
        .join('  ')
        .trimEnd()
    )
    .join('\n');
}

/** RFC 4180, as summary.csv is written. */
export function tableCsv(table: ResultsTable): string {
  return [table.columns, ...table.rows.map(row => row.cells.map(cellText))].map(csvRow).join('');
}

/** One object per run: its first column, its parameters, its values and its state apart, so no name can clash. */
export function tableJson(table: ResultsTable): string {
  const runs = table.rows.map(({ job, cells }) => ({
    [table.columns[0]]: cells[0],
    parameters: job.parameters ?? {},
    results: job.results ?? {},
    state: job.state
  }));
  return JSON.stringify(runs, null, 2);
}
