import { launchIcon, listIcon, refreshIcon, stopIcon } from '@jupyterlab/ui-components';
import React, { memo, useState } from 'react';
import {
  elapsed,
  expectedStartLabel,
  hostLabel,
  jobName,
  OUTSIDE_ROOT_REASON,
  runRowLabel,
  stateLabel,
  taskName
} from '../labels';
import { sparkline, usageLine } from '../usageLabels';
import { isLive } from '../../contract/rules';
import { resultsLine } from '../../contract/results';
import type { Job, Progress, UsageSummary } from '../../contract/wire';
import { IconButton } from './IconButton';
import { RowMenu } from './RowMenu';

export interface JobActions {
  openOutput(job: Job): void;
  showLog(job: Job): void;
  cancel(job: Job): void;
  rerun(job: Job): void;
  forget(job: Job): void;
  details(job: Job): void;
  /** Compare with the run of its notebook before it. */
  compare(job: Job): void;
}

export interface JobRowProps {
  job: Job;
  /** Only a live row's times move: an ended row gets 0 and is not rendered again on each tick. */
  now: number;
  actions: JobActions;
  profileLabel?: string;
  /** A sweep's task: named by its parameter values, under its sweep's row. */
  task?: boolean;
}

/** One run in the sidebar; renders only. A run from another root shows its whole path. */
function Row(props: JobRowProps): JSX.Element {
  const { job } = props;
  const [menuOpen, setMenuOpen] = useState(false);
  const name = props.task ? taskName(job) : jobName(job);
  return (
    <li
      className="jp-HpcSubmit-job"
      data-job-id={job.id}
      data-state={job.state}
      data-outside-root={job.outsideRoot ? 'true' : undefined}
      data-nav="row"
      tabIndex={-1}
      aria-label={runRowLabel(job, props.now)}
      onContextMenu={e => {
        e.preventDefault();
        setMenuOpen(true);
      }}
    >
      <div className="jp-HpcSubmit-jobHeader">
        <span
          className={`jp-HpcSubmit-stateDot jp-HpcSubmit-state-${job.state}`}
          aria-hidden="true"
        />
        <span className="jp-HpcSubmit-jobName" title={props.task ? name : job.notebook}>
          {name}
        </span>
        <span className="jp-HpcSubmit-jobElapsed">{elapsed(job, props.now)}</span>
        <JobButtons job={job} actions={props.actions} />
        <RowMenu
          label="More actions"
          open={menuOpen}
          onOpen={() => setMenuOpen(true)}
          onClose={() => setMenuOpen(false)}
          items={[
            { label: 'Run details', onSelect: () => props.actions.details(job) },
            ...(props.task || job.outsideRoot
              ? []
              : [
                  {
                    label: 'Compare with the run before',
                    onSelect: () => props.actions.compare(job)
                  }
                ]),
            ...(isLive(job) ? [] : [{ label: 'Forget', onSelect: () => props.actions.forget(job) }])
          ]}
        />
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
      {job.results && (
        <div className="jp-HpcSubmit-results" title={resultsLine(job.results, Infinity)}>
          {resultsLine(job.results)}
        </div>
      )}
    </li>
  );
}

/**
 * One run in the sidebar, rendered again only when its job, its time or its
 * labels change: a job event re-renders one row, not the list.
 */
export const JobRow = memo(Row);

/** "lr=0.01, depth=3", or "task 4" without values. */
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
 * The frequent actions as icons: a live job can be cancelled, an ended one
 * opened. A run from another root can be neither opened nor run again here:
 * its file is not under this Jupyter root.
 */
function JobButtons(props: { job: Job; actions: JobActions }): JSX.Element {
  const { job, actions } = props;
  const live = isLive(job);
  const notHere = job.outsideRoot ? OUTSIDE_ROOT_REASON : undefined;
  return (
    <span className="jp-HpcSubmit-actions">
      {!live && (
        <IconButton
          icon={launchIcon}
          title="Open output"
          disabledBecause={notHere}
          onClick={() => actions.openOutput(job)}
        />
      )}
      <IconButton icon={listIcon} title="Show log" onClick={() => actions.showLog(job)} />
      {live && <IconButton icon={stopIcon} title="Cancel" onClick={() => actions.cancel(job)} />}
      <IconButton
        icon={refreshIcon}
        title="Run again"
        disabledBecause={notHere}
        onClick={() => actions.rerun(job)}
      />
    </span>
  );
}
