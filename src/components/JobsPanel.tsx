import React from 'react';
import type { KernelSummary } from '../kernelInfo';
import type { JobFilter } from '../model';
import type { Job, ProfileStatus } from '../../contract/wire';
import { type JobActions, JobRow } from './JobRow';

export interface JobsPanelProps {
  jobs: Job[];
  now: number;
  filter: JobFilter;
  notebookName: string | null;
  profile: ProfileStatus | undefined;
  kernels: KernelSummary | null;
  profileLabels: Record<string, string>;
  schedulerReachable: boolean;
  schedulerMessage?: string;
  companionError?: string;
  creatingKernel: boolean;
  actions: JobActions;
  onFilter(filter: JobFilter): void;
  onCreateKernel(profile: string): void;
}

/** The sidebar's content: kernel awareness, problems, and the jobs; renders only. */
export function JobsPanel(props: JobsPanelProps): JSX.Element {
  const { profile, kernels } = props;
  const otherProblems = (profile?.problems ?? []).filter(p => p.code !== 'kernel-missing');
  return (
    <div className="jp-HpcSubmit-panel">
      <header className="jp-HpcSubmit-header">
        <h2>GPU jobs</h2>
      </header>
      {props.companionError && (
        <div className="jp-HpcSubmit-companionError" role="alert">
          {props.companionError}
        </div>
      )}
      {!props.schedulerReachable && (
        <div className="jp-HpcSubmit-unreachable" role="alert">
          Scheduler unreachable{props.schedulerMessage ? `: ${props.schedulerMessage}` : ''}. Jobs
          keep their last known state; new runs wait until it answers.
        </div>
      )}
      {props.notebookName && kernels && (
        <section className="jp-HpcSubmit-kernelInfo" aria-label="Kernels">
          <div className="jp-HpcSubmit-kernelNotebook">
            <span className="jp-HpcSubmit-kernelLabel">this notebook:</span> {kernels.notebook}
          </div>
          <div
            className="jp-HpcSubmit-kernelRun"
            title={
              profile ? `${profile.label}: the run uses this kernel, not the notebook's` : undefined
            }
          >
            <span className="jp-HpcSubmit-kernelLabel">→ the run:</span> {kernels.run}
          </div>
        </section>
      )}
      {kernels?.missing && profile && (
        <div className="jp-HpcSubmit-problem" role="alert">
          <p>{kernels.missing.message}. Create it once with:</p>
          {kernels.missing.fix && <code className="jp-HpcSubmit-fix">{kernels.missing.fix}</code>}
          <button
            className="jp-mod-styled jp-mod-accept"
            disabled={props.creatingKernel}
            onClick={() => props.onCreateKernel(profile.id)}
          >
            {props.creatingKernel ? 'Creating kernel…' : 'Create kernel'}
          </button>
        </div>
      )}
      {otherProblems.map(p => (
        <div className="jp-HpcSubmit-problem" role="alert" key={p.code}>
          <p>{p.message}</p>
          {p.fix && <code className="jp-HpcSubmit-fix">{p.fix}</code>}
        </div>
      ))}
      <div className="jp-HpcSubmit-filter" role="radiogroup" aria-label="Show jobs of">
        {(['notebook', 'all'] as const).map(f => (
          <label key={f}>
            <input
              type="radio"
              name="jp-HpcSubmit-filter"
              value={f}
              checked={props.filter === f}
              onChange={() => props.onFilter(f)}
            />
            {f === 'notebook' ? 'This notebook' : 'All'}
          </label>
        ))}
      </div>
      {props.jobs.length === 0 ? (
        <p className="jp-HpcSubmit-empty">
          {props.filter === 'notebook' && props.notebookName
            ? `No runs of ${props.notebookName} yet.`
            : 'No runs yet. Open a notebook and click “Run on …” in its toolbar.'}
        </p>
      ) : (
        <ul className="jp-HpcSubmit-jobs">
          {props.jobs.map(job => (
            <JobRow
              key={job.id}
              job={job}
              now={props.now}
              actions={props.actions}
              profileLabel={props.profileLabels[job.profile]}
            />
          ))}
        </ul>
      )}
    </div>
  );
}
