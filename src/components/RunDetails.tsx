import React from 'react';
import { type DetailRow, runDetailRows } from '../labels';
import { efficiencyRows } from '../usageLabels';
import type { JobDetails } from '../../contract/wire';

/**
 * The "Run details" dialog's body: the run record of the executed notebook
 * and how the run used what it asked for; renders only.
 */
export function RunDetails(props: { details: JobDetails }): JSX.Element {
  const { job, run, note } = props.details;
  const efficiency = job.efficiency;
  return (
    <div className="jp-HpcSubmit-details">
      {(note || !run) && (
        <p className="jp-HpcSubmit-detailsNote">
          {note ??
            'The executed notebook has no run record yet: what the companion knows is shown.'}
        </p>
      )}
      <DetailTable label="Run" rows={runDetailRows(job, run)} />
      {efficiency && (
        <section aria-label="Efficiency">
          <h3>Efficiency</h3>
          <DetailTable label="Efficiency figures" rows={efficiencyRows(efficiency)} />
          {efficiency.hints.length > 0 && (
            <ul className="jp-HpcSubmit-hints" aria-label="Hints">
              {efficiency.hints.map(hint => (
                <li key={hint}>{hint}</li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}

function DetailTable(props: { label: string; rows: DetailRow[] }): JSX.Element {
  return (
    <table className="jp-HpcSubmit-detailTable" aria-label={props.label}>
      <tbody>
        {props.rows.map(([label, value]) => (
          <tr key={label}>
            <th scope="row">{label}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
