import React from 'react';
import type { CompareRow } from '../compareRows';

/**
 * Two runs side by side: a row per parameter, recorded value and run record
 * field, the rows where they differ marked in words as well as in colour;
 * renders only.
 */
export function CompareTable(props: {
  headings: [string, string];
  ids: [string, string];
  rows: CompareRow[];
  onlyDiffering: boolean;
  onOnlyDiffering(only: boolean): void;
}): JSX.Element {
  const { headings, ids, onlyDiffering } = props;
  const rows = onlyDiffering ? props.rows.filter(row => row.differs) : props.rows;
  const differing = props.rows.filter(row => row.differs).length;
  return (
    <>
      <p className="jp-HpcSubmit-compareSummary">
        {differing === 0
          ? 'The two runs do not differ in their parameters, values or run records.'
          : `${differing} of ${props.rows.length} rows differ.`}{' '}
        <label>
          <input
            type="checkbox"
            checked={onlyDiffering}
            onChange={e => props.onOnlyDiffering(e.target.checked)}
          />{' '}
          Only what differs
        </label>
      </p>
      <table className="jp-HpcSubmit-compareTable" aria-label="The two runs side by side">
        <thead>
          <tr>
            <td />
            {headings.map((heading, i) => (
              <th key={ids[i]} scope="col" data-job-id={ids[i]}>
                {heading}
                <span className="jp-HpcSubmit-compareId">{ids[i]}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(row => (
            <tr
              key={row.label}
              className={row.differs ? 'jp-HpcSubmit-differs' : undefined}
              data-differs={row.differs ? 'true' : undefined}
            >
              <th scope="row">
                {row.label}
                {row.differs && <span className="jp-HpcSubmit-differsMark"> (differs)</span>}
              </th>
              <td>{row.a}</td>
              <td>{row.b}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
