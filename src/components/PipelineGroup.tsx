import { folderIcon, refreshIcon, stopIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { pipelineProgress, stepsToRerun } from '../../contract/pipelines';
import { isFinal, isLive } from '../../contract/rules';
import type { PipelineEntry } from '../jobGroups';
import { folderOf } from '../sweepLabels';
import { GroupToggle } from './GroupToggle';
import { IconButton } from './IconButton';

/** What a pipeline's row does to all its steps. */
export interface PipelineActions {
  cancelAll(pipelineId: string): void;
  rerunFromFailed(pipelineId: string): void;
  /** Shows the pipeline file's folder in the file browser; absent where there is no file browser. */
  openFolder?(path: string): void;
}

/**
 * A pipeline as one row: its progress over its steps, the actions on all of
 * them, and, opened, its steps in start order, each a run or a sweep as
 * the sidebar shows them elsewhere (`renderStep`), under the step's name.
 */
export function PipelineGroup(props: {
  pipeline: PipelineEntry;
  expanded: boolean;
  onToggle(): void;
  actions: PipelineActions;
  renderStep(entry: PipelineEntry['steps'][number]['entry']): JSX.Element;
}): JSX.Element {
  const { pipeline, actions } = props;
  const { info } = pipeline;
  const name = info.file.split('/').pop() ?? info.file;
  const progress = pipelineProgress(info);
  const ended = info.steps.filter(isFinal).length;
  return (
    <li
      className="jp-HpcSubmit-group jp-HpcSubmit-pipeline"
      data-group-key={pipeline.key}
      data-pipeline-id={info.id}
      data-state={info.state}
    >
      <div className="jp-HpcSubmit-groupHeader">
        <GroupToggle
          expanded={props.expanded}
          onToggle={props.onToggle}
          name={name}
          title={`Pipeline ${info.file}`}
          label={`Pipeline ${name}: ${progress}`}
        />
        <span className="jp-HpcSubmit-actions">
          {info.steps.some(isLive) && (
            <IconButton
              icon={stopIcon}
              title="Cancel all steps"
              onClick={() => actions.cancelAll(info.id)}
            />
          )}
          {stepsToRerun(info).length > 0 && (
            <IconButton
              icon={refreshIcon}
              title="Re-run from the failed step"
              onClick={() => actions.rerunFromFailed(info.id)}
            />
          )}
          {actions.openFolder && (
            <IconButton
              icon={folderIcon}
              title="Open the pipeline's folder"
              onClick={() => actions.openFolder?.(folderOf(info.file))}
            />
          )}
        </span>
      </div>
      <div className="jp-HpcSubmit-progressRow jp-HpcSubmit-sweepProgress">
        <progress
          className="jp-HpcSubmit-progress"
          max={info.steps.length}
          value={ended}
          aria-label={`${ended} of ${info.steps.length} steps ended`}
        />
        <span className="jp-HpcSubmit-sweepCounts">{progress}</span>
      </div>
      {props.expanded && (
        <ol className="jp-HpcSubmit-steps" aria-label={`Steps of ${name}`}>
          {pipeline.steps.map(({ step, entry }) => (
            <li
              key={step.name}
              className="jp-HpcSubmit-step"
              data-step={step.name}
              data-state={step.state}
            >
              <div className="jp-HpcSubmit-stepName">
                {step.name}
                {step.after.length > 0 && (
                  <span className="jp-HpcSubmit-stepAfter"> after {step.after.join(', ')}</span>
                )}
              </div>
              <ul className="jp-HpcSubmit-jobs" aria-label={`Step ${step.name}`}>
                {props.renderStep(entry)}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </li>
  );
}
