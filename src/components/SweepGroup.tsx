import { folderIcon, refreshIcon, stopIcon, tableRowsIcon } from '@jupyterlab/ui-components';
import React, { useState } from 'react';
import type { SweepEntry } from '../jobGroups';
import { OUTSIDE_ROOT_REASON } from '../labels';
import { folderOf, sweepName } from '../sweepLabels';
import { sweepProgress } from '../../contract/rules';
import { isFinal, isLive } from '../../contract/rules';
import { GroupToggle } from './GroupToggle';
import { IconButton } from './IconButton';
import { type JobActions, JobRow } from './JobRow';
import { ShowMore } from './ShowMore';

/** What a sweep's row does to all its tasks. */
export interface SweepActions {
  cancelAll(sweepId: string): void;
  rerunFailed(sweepId: string): void;
  /** Shows the tasks' output folder in the file browser; absent where there is no file browser. */
  openFolder?(path: string): void;
  /** The sweep's parameters and recorded values as a table and a chart, in the main area. */
  openResults(sweepId: string): void;
}

/** Tasks shown at once when a sweep is opened; "Show more" adds as many. */
const TASK_PAGE = 20;

/**
 * A sweep as one row: its progress over all its tasks, the actions on all
 * of them, and its tasks (each with a run's actions) when opened.
 */
export function SweepGroup(props: {
  sweep: SweepEntry;
  expanded: boolean;
  onToggle(): void;
  now: number;
  actions: JobActions;
  sweepActions: SweepActions;
  profileLabels: Record<string, string>;
}): JSX.Element {
  const { sweep, sweepActions } = props;
  const [shown, setShown] = useState(TASK_PAGE);
  const label = sweepProgress(sweep.tasks, sweep.taskCount);
  const ended = sweep.tasks.filter(isFinal).length;
  const live = sweep.tasks.some(isLive);
  const outside = sweep.tasks[0]?.outsideRoot ? OUTSIDE_ROOT_REASON : undefined;
  const folder = folderOf(sweep.tasks[0]?.output ?? '');
  return (
    <li
      className="jp-HpcSubmit-group jp-HpcSubmit-sweep"
      data-group-key={sweep.key}
      data-sweep-id={sweep.sweepId}
    >
      <div className="jp-HpcSubmit-groupHeader">
        <GroupToggle
          expanded={props.expanded}
          onToggle={props.onToggle}
          name={sweepName(sweep.notebook)}
          title={sweep.notebook}
          label={`${sweepName(sweep.notebook)}: ${label}`}
        />
        <span className="jp-HpcSubmit-actions">
          {live && (
            <IconButton
              icon={stopIcon}
              title="Cancel all tasks"
              onClick={() => sweepActions.cancelAll(sweep.sweepId)}
            />
          )}
          {sweep.rerunnable > 0 && (
            <IconButton
              icon={refreshIcon}
              title="Re-run failed tasks"
              disabledBecause={outside}
              onClick={() => sweepActions.rerunFailed(sweep.sweepId)}
            />
          )}
          <IconButton
            icon={tableRowsIcon}
            title="Show results"
            onClick={() => sweepActions.openResults(sweep.sweepId)}
          />
          {sweepActions.openFolder && (
            <IconButton
              icon={folderIcon}
              title="Open the output folder"
              disabledBecause={outside}
              onClick={() => sweepActions.openFolder?.(folder)}
            />
          )}
        </span>
      </div>
      <div className="jp-HpcSubmit-progressRow jp-HpcSubmit-sweepProgress">
        <progress
          className="jp-HpcSubmit-progress"
          max={sweep.taskCount}
          value={ended}
          aria-label={`${ended} of ${sweep.taskCount} tasks ended`}
        />
        <span className="jp-HpcSubmit-sweepCounts">{label}</span>
      </div>
      {props.expanded && (
        <>
          <ul className="jp-HpcSubmit-tasks" aria-label={`Tasks of ${sweepName(sweep.notebook)}`}>
            {sweep.tasks.slice(0, shown).map(task => (
              <JobRow
                key={task.id}
                job={task}
                now={isLive(task) ? props.now : 0}
                actions={props.actions}
                profileLabel={props.profileLabels[task.profile]}
                task
              />
            ))}
          </ul>
          <ShowMore
            shown={shown}
            total={sweep.tasks.length}
            step={TASK_PAGE}
            what="tasks"
            onMore={() => setShown(shown + TASK_PAGE)}
          />
        </>
      )}
    </li>
  );
}
