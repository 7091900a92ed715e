/**
 * `hpc-submit results`: the runs of a sweep (or of a notebook) with their
 * parameters and recorded values, as a table to read, sort and paste. Pure.
 */
import { type ResultsTable, cellText } from '../../contract/results';
import { csvRow } from '../jobs/sweepSummary';

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
