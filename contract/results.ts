/**
 * Recorded values as the sidebar, the Results view and the CLI show them: a
 * run's few values in a line, and the table of a sweep's runs (a column per
 * parameter and per value), sorted, with each column's best. Pure; like
 * wire.ts, free of imports beyond the contract.
 */
import type { Job, Results, ResultValue } from './wire';

/** A recorded value in a few characters: numbers to 4 significant digits, strings bare, the rest as JSON. */
export function shortResult(value: ResultValue): string {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 24 ? `${text.slice(0, 23)}…` : text;
}

/** "loss 0.123 · acc 0.94 · 2 more": the first `max` recorded values of a run, in the order recorded. */
export function resultsLine(results: Results | undefined, max = 3): string {
  const entries = Object.entries(results ?? {});
  const shown = entries.slice(0, max).map(([name, value]) => `${name} ${shortResult(value)}`);
  const more = entries.length - shown.length;
  return [...shown, ...(more > 0 ? [`${more} more`] : [])].join(' · ');
}

export type Cell = ResultValue | undefined;

/** A table: its column names and, per run, the run and one cell per column (undefined: none). */
export interface ResultsTable {
  columns: string[];
  /** The columns of the parameters, then of the recorded values, by name. */
  parameters: string[];
  results: string[];
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
    parameters,
    results,
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
  return { ...table, rows };
}

/** Strings as they are, any other value as its JSON text; '' for none. */
export function cellText(value: Cell): string {
  if (value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A value whose name says smaller is better (a loss, an error, a time); any other: larger is. */
const SMALLER_IS_BETTER = /loss|err|mse|mae|rmse|nll|perplexity|time|duration|cost|regret/i;

export function smallerIsBetter(name: string): boolean {
  return SMALLER_IS_BETTER.test(name);
}

/** The row holding a recorded value's best number (the first of equals); undefined with none. */
export function bestRow(table: ResultsTable, name: string): number | undefined {
  const at = table.columns.indexOf(name);
  const sign = smallerIsBetter(name) ? 1 : -1;
  let best: number | undefined;
  table.rows.forEach(({ cells }, i) => {
    const v = cells[at];
    if (
      typeof v === 'number' &&
      (best === undefined || sign * (v - (table.rows[best].cells[at] as number)) < 0)
    ) {
      best = i;
    }
  });
  return best;
}
