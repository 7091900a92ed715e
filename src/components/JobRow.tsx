import React from 'react';
import { baseName, elapsed, isLive, stateLabel } from '../labels';
import type { Job } from '../../contract/wire';

export interface JobActions {
  openOutput(job: Job): void;
  showLog(job: Job): void;
  cancel(job: Job): void;
  rerun(job: Job): void;
  forget(job: Job): void;
}

/** One job in the sidebar; renders only. */
export function JobRow(props: {
  job: Job;
  now: number;
  actions: JobActions;
  profileLabel?: string;
}): JSX.Element {
  const { job, actions } = props;
  const live = isLive(job);
  const label = stateLabel(job);
  const button = (title: string, onClick: () => void, text: string) => (
    <button
      className="jp-HpcSubmit-action jp-mod-styled"
      title={title}
      aria-label={title}
      onClick={onClick}
    >
      {text}
    </button>
  );
  return (
    <li className="jp-HpcSubmit-job" data-job-id={job.id} data-state={job.state}>
      <div className="jp-HpcSubmit-jobHeader">
        <span className="jp-HpcSubmit-jobName" title={job.notebook}>
          {baseName(job.notebook)}
        </span>
        <span className="jp-HpcSubmit-jobElapsed">{elapsed(job, props.now)}</span>
      </div>
      <div className="jp-HpcSubmit-jobMeta">
        <span
          className={`jp-HpcSubmit-state jp-HpcSubmit-state-${job.state}`}
          title={job.reason ?? label}
        >
          {label}
        </span>
        <span
          className="jp-HpcSubmit-jobProfile"
          title={job.node ? `ran on ${job.node}` : undefined}
        >
          {props.profileLabel ?? job.profile}
          {job.node && job.state !== 'running' ? ` · ${job.node}` : ''}
        </span>
      </div>
      {job.state === 'running' && job.progress && job.progress.total > 0 && (
        <div className="jp-HpcSubmit-progressRow">
          <progress
            className="jp-HpcSubmit-progress"
            max={job.progress.total}
            value={job.progress.cell}
            aria-label={`cell ${job.progress.cell} of ${job.progress.total}`}
            title={`cell ${job.progress.cell} of ${job.progress.total}`}
          />
          <span className="jp-HpcSubmit-progressText">
            {job.progress.cell}/{job.progress.total}
          </span>
        </div>
      )}
      <div className="jp-HpcSubmit-actions">
        {!live && button('Open output', () => actions.openOutput(job), 'Open')}
        {button('Show log', () => actions.showLog(job), 'Log')}
        {live && button('Cancel', () => actions.cancel(job), 'Cancel')}
        {button('Run again', () => actions.rerun(job), 'Rerun')}
        {!live && button('Forget', () => actions.forget(job), 'Forget')}
      </div>
    </li>
  );
}
