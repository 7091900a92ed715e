import React from 'react';
import type { KernelLine, KernelSummary } from '../kernelInfo';
import type { JobFilter } from '../model';
import type { ListEntry } from '../jobGroups';
import type { ProfileProblem, ProfileStatus, SetupAction } from '../../contract/wire';
import type { JobActions } from './JobRow';
import { RunList } from './RunList';
import type { PipelineActions } from './PipelineGroup';
import type { SweepActions } from './SweepGroup';

export interface JobsPanelProps {
  /** Runs, sweeps, or (on "All") notebooks: see jobGroups.ts. */
  entries: ListEntry[];
  /** The group opened by default: the current notebook's. */
  currentGroup?: string;
  hasMore: boolean;
  loadingMore: boolean;
  now: number;
  filter: JobFilter;
  notebookName: string | null;
  profile: ProfileStatus | undefined;
  kernels: KernelSummary | null;
  profileLabels: Record<string, string>;
  schedulerReachable: boolean;
  schedulerMessage?: string;
  companionError?: string;
  /** A setup (kernel, environment) is being started: its button waits. */
  settingUp: boolean;
  actions: JobActions;
  sweepActions: SweepActions;
  pipelineActions: PipelineActions;
  onLoadMore(): void;
  onFilter(filter: JobFilter): void;
  /** Creates the kernel or installs the environment of the notebook's choice, in a log panel. */
  onSetup(action: SetupAction): void;
  onCheckSetup(): void;
}

/** The sidebar's content: kernel awareness, problems, and the jobs; renders only. */
export function JobsPanel(props: JobsPanelProps): JSX.Element {
  const { profile, kernels } = props;
  return (
    <div className="jp-HpcSubmit-panel">
      <header className="jp-HpcSubmit-header">
        <h2>GPU jobs</h2>
        <button
          className="jp-mod-styled jp-HpcSubmit-checkSetup"
          title="What stands between this notebook and a run on each profile, and the fixes"
          onClick={props.onCheckSetup}
        >
          Check setup
        </button>
      </header>
      {props.companionError && <CompanionError message={props.companionError} />}
      {!props.schedulerReachable && <SchedulerUnreachable message={props.schedulerMessage} />}
      {props.notebookName && kernels && <KernelInfo kernels={kernels} profile={profile} />}
      {kernels?.missing && profile && (
        <MissingKernel
          missing={kernels.missing}
          creating={props.settingUp}
          onCreate={() => props.onSetup('create-kernel')}
        />
      )}
      {(profile?.problems ?? [])
        .filter(p => p.code !== 'kernel-missing')
        .map(p => (
          <Problem
            key={p.code}
            problem={p}
            busy={props.settingUp}
            onInstall={() => props.onSetup('install-environment')}
          />
        ))}
      <FilterChoice filter={props.filter} onFilter={props.onFilter} />
      {props.entries.length === 0 && !props.hasMore ? (
        <NoJobs filter={props.filter} notebookName={props.notebookName} />
      ) : (
        <RunList {...props} />
      )}
    </div>
  );
}

function CompanionError(props: { message: string }): JSX.Element {
  return (
    <div className="jp-HpcSubmit-companionError" role="alert">
      {props.message}
    </div>
  );
}

function SchedulerUnreachable(props: { message?: string }): JSX.Element {
  return (
    <div className="jp-HpcSubmit-unreachable" role="alert">
      Scheduler unreachable{props.message ? `: ${props.message}` : ''}. Jobs keep their last known
      state; new runs wait until it answers.
    </div>
  );
}

/** The notebook's kernel on the hub, and the profile's that the run uses instead. */
function KernelInfo(props: {
  kernels: KernelSummary;
  profile: ProfileStatus | undefined;
}): JSX.Element {
  const { kernels, profile } = props;
  return (
    <section className="jp-HpcSubmit-kernelInfo" aria-label="Kernels">
      <div className="jp-HpcSubmit-kernelNotebook">
        <span className="jp-HpcSubmit-kernelLabel">this notebook:</span>{' '}
        <KernelLineText line={kernels.notebook} />
      </div>
      <div
        className="jp-HpcSubmit-kernelRun"
        title={
          profile ? `${profile.label}: the run uses this kernel, not the notebook's` : undefined
        }
      >
        <span className="jp-HpcSubmit-kernelLabel">→ the run:</span>{' '}
        <KernelLineText line={kernels.run} />
      </div>
    </section>
  );
}

function KernelLineText(props: { line: KernelLine }): JSX.Element {
  const { kernel, where } = props.line;
  if (!kernel) {
    return <>{where}</>;
  }
  return (
    <>
      {kernel.display}
      {kernel.name && (
        <span className="jp-HpcSubmit-kernelName" title="the kernel's name">
          {' '}
          {kernel.name}
        </span>
      )}{' '}
      {where}
    </>
  );
}

function MissingKernel(props: {
  missing: NonNullable<KernelSummary['missing']>;
  creating: boolean;
  onCreate(): void;
}): JSX.Element {
  const { missing, creating } = props;
  return (
    <div className="jp-HpcSubmit-problem" role="alert">
      <p>{missing.message}. Create it once with:</p>
      {missing.fix && <code className="jp-HpcSubmit-fix">{missing.fix}</code>}
      <button className="jp-mod-styled jp-mod-accept" disabled={creating} onClick={props.onCreate}>
        {creating ? 'Creating kernel…' : 'Create kernel'}
      </button>
    </div>
  );
}

/** A problem and its fix; a missing environment has a button that installs it. */
function Problem(props: {
  problem: ProfileProblem;
  busy: boolean;
  onInstall(): void;
}): JSX.Element {
  const { problem } = props;
  return (
    <div className="jp-HpcSubmit-problem" role="alert">
      <p>{problem.message}</p>
      {problem.fix && <code className="jp-HpcSubmit-fix">{problem.fix}</code>}
      {problem.code === 'environment-missing' && (
        <button
          className="jp-mod-styled jp-mod-accept"
          disabled={props.busy}
          onClick={props.onInstall}
        >
          {props.busy ? 'Starting…' : 'Install environment'}
        </button>
      )}
    </div>
  );
}

function FilterChoice(props: {
  filter: JobFilter;
  onFilter(filter: JobFilter): void;
}): JSX.Element {
  return (
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
  );
}

function NoJobs(props: { filter: JobFilter; notebookName: string | null }): JSX.Element {
  return (
    <p className="jp-HpcSubmit-empty">
      {props.filter === 'notebook' && props.notebookName
        ? `No runs of ${props.notebookName} yet.`
        : 'No runs yet. Open a notebook and click “Run on …” in its toolbar.'}
    </p>
  );
}
