import React from 'react';
import { type ResultsTable, cellText, smallerIsBetter } from '../../contract/results';
import { taskName } from '../labels';
import type { ChartChoice } from '../resultsChart';

/** How the table is sorted: a column, and which way. */
export interface TableSort {
  column: string;
  descending: boolean;
}

/** Rows rendered at once; "Show all" renders the rest. */
const ROW_PAGE = 200;

/** The chart's choices: which recorded value against which parameter, by which other. */
export function ChartControls(props: {
  ys: string[];
  xs: string[];
  choice: ChartChoice;
  onChoice(choice: ChartChoice): void;
}): JSX.Element {
  const { ys, xs, choice, onChoice } = props;
  return (
    <div className="jp-HpcSubmit-chartControls">
      <label>
        Value{' '}
        <select
          aria-label="Value drawn"
          value={choice.y}
          onChange={e => onChoice({ ...choice, y: e.target.value })}
        >
          {ys.map(name => (
            <option key={name}>{name}</option>
          ))}
        </select>
      </label>
      <label>
        against{' '}
        <select
          aria-label="Parameter along the x axis"
          value={choice.x}
          onChange={e => onChoice({ ...choice, x: e.target.value })}
        >
          {xs.map(name => (
            <option key={name}>{name}</option>
          ))}
        </select>
      </label>
      <label>
        one line per{' '}
        <select
          aria-label="Parameter drawn as one line per value"
          value={choice.color ?? ''}
          onChange={e =>
            onChoice({
              y: choice.y,
              x: choice.x,
              ...(e.target.value ? { color: e.target.value } : {})
            })
          }
        >
          <option value="">(none)</option>
          {xs
            .filter(name => name !== choice.x)
            .map(name => (
              <option key={name}>{name}</option>
            ))}
        </select>
      </label>
    </div>
  );
}

/**
 * The runs as a table: a column per parameter and per recorded value, sorted
 * by a click on a header, each value's best cell marked (smallest for a loss
 * or an error, largest otherwise).
 */
export function ResultsTableView(props: {
  table: ResultsTable;
  sort: TableSort | null;
  best: ReadonlyMap<string, number>;
  showAll: boolean;
  /** The runs picked for Compare: two at most, the other boxes then disabled. */
  picked: readonly string[];
  onSort(column: string): void;
  onShowAll(): void;
  onPick(jobId: string, picked: boolean): void;
}): JSX.Element {
  const { table, sort, best, picked } = props;
  const rows = props.showAll ? table.rows : table.rows.slice(0, ROW_PAGE);
  const results = new Set(table.results);
  return (
    <>
      <table className="jp-HpcSubmit-resultsTable">
        <thead>
          <tr>
            <th scope="col" className="jp-HpcSubmit-pickColumn">
              Compare
            </th>
            {table.columns.map(column => (
              <th
                key={column}
                scope="col"
                aria-sort={
                  sort?.column === column ? (sort.descending ? 'descending' : 'ascending') : 'none'
                }
                className={results.has(column) ? 'jp-HpcSubmit-resultColumn' : undefined}
              >
                <button
                  type="button"
                  className="jp-HpcSubmit-sortButton"
                  onClick={() => props.onSort(column)}
                >
                  {column}
                  {sort?.column === column ? (sort.descending ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(({ job, cells }, i) => (
            <tr key={job.id} data-job-id={job.id} data-state={job.state}>
              <td className="jp-HpcSubmit-pickColumn">
                <input
                  type="checkbox"
                  aria-label={`Compare ${taskName(job)}`}
                  checked={picked.includes(job.id)}
                  disabled={picked.length >= 2 && !picked.includes(job.id)}
                  onChange={e => props.onPick(job.id, e.target.checked)}
                />
              </td>
              {cells.map((cell, c) => {
                const column = table.columns[c];
                const isBest = results.has(column) && best.get(column) === i;
                return (
                  <td
                    key={column}
                    className={isBest ? 'jp-HpcSubmit-best' : undefined}
                    title={
                      isBest
                        ? `best ${column} (${smallerIsBetter(column) ? 'smallest' : 'largest'})`
                        : undefined
                    }
                  >
                    {cellText(cell)}
                    {isBest && <span className="jp-HpcSubmit-bestMark"> ★ best</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length < table.rows.length && (
        <button
          type="button"
          className="jp-HpcSubmit-showMore jp-Button jp-mod-minimal"
          onClick={props.onShowAll}
        >
          Show all {table.rows.length} runs
        </button>
      )}
    </>
  );
}
