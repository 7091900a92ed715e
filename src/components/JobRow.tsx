import React from 'react';
import {
  elapsed,
  expectedStartLabel,
  hostLabel,
  jobName,
  OUTSIDE_ROOT_REASON,
  sparkline,
  stateLabel,
  usageLine
} from '../labels';
import { isLive } from '../../contract/rules';
import type { Job, Progress, UsageSummary } from '../../contract/wire';

export interface JobActions {
  openOutput(job: Job): void;
  showLog(job: Job): void;
  cancel(job: Job): void;
  rerun(job: Job): void;
  forget(job: Job): void;
  details(job: Job): void;
}

/** One job in the sidebar; renders only. A run from another root shows its whole path. */
export function JobRow(props: {
  job: Job;
  now: number;
  actions: JobActions;
  profileLabel?: string;
}): JSX.Element {
  const { job } = props;
  return (
    <li
      className="jp-HpcSubmit-job"
      data-job-id={job.id}
      data-state={job.state}
      data-outside-root={job.outsideRoot ? 'true' : undefined}
    >
      <div className="jp-HpcSubmit-jobHeader">
        <span className="jp-HpcSubmit-jobName" title={job.notebook}>
          {jobName(job)}
        </span>
        <span className="jp-HpcSubmit-jobElapsed">{elapsed(job, props.now)}</span>
      </div>
      {job.outsideRoot && (
        <div className="jp-HpcSubmit-outsideRoot" title={OUTSIDE_ROOT_REASON}>
          outside this root
        </div>
      )}
      <JobMeta job={job} profileLabel={props.profileLabel} />
      {job.state === 'queued' && <ExpectedStart iso={job.expectedStart} now={props.now} />}
      {job.state === 'running' && job.progress && job.progress.total > 0 && (
        <CellProgress progress={job.progress} />
      )}
      {job.state === 'running' && job.usage && <LiveUsage usage={job.usage} />}
      <JobButtons job={job} actions={props.actions} />
    </li>
  );
}

/** Its state (and why), its profile, the node it ran on and the host of a local run. */
function JobMeta(props: { job: Job; profileLabel?: string }): JSX.Element {
  const { job } = props;
  const label = stateLabel(job);
  const host = hostLabel(job);
  return (
    <div className="jp-HpcSubmit-jobMeta">
      <span
        className={`jp-HpcSubmit-state jp-HpcSubmit-state-${job.state}`}
        title={job.reason ?? label}
      >
        {label}
      </span>
      <span className="jp-HpcSubmit-jobProfile" title={job.node ? `ran on ${job.node}` : undefined}>
        {props.profileLabel ?? job.profile}
        {job.node && job.state !== 'running' ? ` · ${job.node}` : ''}
        {host ? ` · ${host}` : ''}
      </span>
    </div>
  );
}

/** Slurm's guess of when a queued run starts; nothing without one. */
function ExpectedStart(props: { iso?: string; now: number }): JSX.Element | null {
  const text = expectedStartLabel(props.iso, props.now);
  return text ? (
    <div className="jp-HpcSubmit-expectedStart" title={props.iso}>
      {text}
    </div>
  ) : null;
}

const SPARK_W = 60;
const SPARK_H = 14;

/** What a running job uses now, its recent history, and the idle-GPU warning. */
function LiveUsage(props: { usage: UsageSummary }): JSX.Element {
  const { usage } = props;
  const text = usageLine(usage);
  const line = sparkline(usage.history, SPARK_W, SPARK_H);
  return (
    <>
      {(text || line) && (
        <div className="jp-HpcSubmit-usage">
          {text && <span className="jp-HpcSubmit-usageText">{text}</span>}
          {line && (
            <svg
              className="jp-HpcSubmit-sparkline"
              data-kind={line.kind}
              role="img"
              aria-label={line.label}
              width={SPARK_W}
              height={SPARK_H}
              viewBox={`0 0 ${SPARK_W} ${SPARK_H}`}
              preserveAspectRatio="none"
            >
              <title>{line.label}</title>
              <polyline points={line.points} />
            </svg>
          )}
        </div>
      )}
      {usage.gpuIdleWarning && (
        <div className="jp-HpcSubmit-idleWarning" role="status">
          {usage.gpuIdleWarning}
        </div>
      )}
    </>
  );
}

function CellProgress(props: { progress: Progress }): JSX.Element {
  const { cell, total } = props.progress;
  return (
    <div className="jp-HpcSubmit-progressRow">
      <progress
        className="jp-HpcSubmit-progress"
        max={total}
        value={cell}
        aria-label={`cell ${cell} of ${total}`}
        title={`cell ${cell} of ${total}`}
      />
      <span className="jp-HpcSubmit-progressText">
        {cell}/{total}
      </span>
    </div>
  );
}

/**
 * A live job can be cancelled; an ended one opened and forgotten. A run from
 * another root can be neither opened nor run again here: its file is not
 * under this Jupyter root.
 */
function JobButtons(props: { job: Job; actions: JobActions }): JSX.Element {
  const { job, actions } = props;
  const live = isLive(job);
  const notHere = job.outsideRoot ? OUTSIDE_ROOT_REASON : undefined;
  return (
    <div className="jp-HpcSubmit-actions">
      {!live && (
        <ActionButton
          title="Open output"
          text="Open"
          disabledBecause={notHere}
          onClick={() => actions.openOutput(job)}
        />
      )}
      <ActionButton title="Show log" text="Log" onClick={() => actions.showLog(job)} />
      {live && <ActionButton title="Cancel" text="Cancel" onClick={() => actions.cancel(job)} />}
      <ActionButton
        title="Run again"
        text="Rerun"
        disabledBecause={notHere}
        onClick={() => actions.rerun(job)}
      />
      <ActionButton title="Run details" text="Details" onClick={() => actions.details(job)} />
      {!live && <ActionButton title="Forget" text="Forget" onClick={() => actions.forget(job)} />}
    </div>
  );
}

/** A disabled button says why in its tooltip, after what it would do. */
function ActionButton(props: {
  title: string;
  text: string;
  disabledBecause?: string;
  onClick(): void;
}): JSX.Element {
  const title = props.disabledBecause ? `${props.title} (${props.disabledBecause})` : props.title;
  return (
    <button
      className="jp-HpcSubmit-action jp-mod-styled"
      title={title}
      aria-label={props.title}
      disabled={props.disabledBecause !== undefined}
      onClick={props.onClick}
    >
      {props.text}
    </button>
  );
}
