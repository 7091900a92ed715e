import React, { useState } from 'react';
import type { ListEntry, NotebookEntry, PipelineEntry, RunEntry, SweepEntry } from '../jobGroups';
import { jobName } from '../labels';
import { isLive } from '../../contract/rules';
import { GroupToggle } from './GroupToggle';
import { type JobActions, JobRow } from './JobRow';
import { type PipelineActions, PipelineGroup } from './PipelineGroup';
import { ShowMore } from './ShowMore';
import { type SweepActions, SweepGroup } from './SweepGroup';

/** Entries rendered at once at the top and in an opened notebook; "Show more" adds as many. */
const LIST_PAGE = 50;
const GROUP_PAGE = 20;

export interface RunListProps {
  entries: ListEntry[];
  now: number;
  actions: JobActions;
  sweepActions: SweepActions;
  pipelineActions: PipelineActions;
  profileLabels: Record<string, string>;
  /** The group opened unless the user closed it: the current notebook's. */
  currentGroup?: string;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore(): void;
}

/** Which groups the user opened or closed; the others keep their default. */
type Toggled = ReadonlyMap<string, boolean>;

interface EntryContext extends Omit<
  RunListProps,
  'entries' | 'hasMore' | 'loadingMore' | 'onLoadMore'
> {
  toggled: Toggled;
  toggle(key: string, expanded: boolean): void;
}

/**
 * The runs, sweeps and notebooks of the sidebar. Only the first page of
 * each list is rendered, and a closed group renders none of its runs, so
 * the DOM stays small whatever the history holds. Arrow keys move between
 * rows and group headers.
 */
export function RunList(props: RunListProps): JSX.Element {
  const [shown, setShown] = useState(LIST_PAGE);
  const [toggled, setToggled] = useState<Toggled>(new Map());
  const context: EntryContext = {
    ...props,
    toggled,
    toggle: (key, expanded) => setToggled(new Map(toggled).set(key, expanded))
  };
  const more = shown >= props.entries.length && props.hasMore;
  return (
    <>
      <ul className="jp-HpcSubmit-jobs" aria-label="Runs" tabIndex={0} onKeyDown={moveBetweenRows}>
        {props.entries.slice(0, shown).map(entry => (
          <Entry key={entry.key} entry={entry} context={context} />
        ))}
      </ul>
      <ShowMore
        shown={shown}
        total={props.entries.length}
        step={LIST_PAGE}
        what={props.entries.some(e => e.kind === 'notebook') ? 'notebooks' : 'runs'}
        onMore={() => setShown(shown + LIST_PAGE)}
      />
      {more && (
        <button
          type="button"
          className="jp-HpcSubmit-showMore jp-Button jp-mod-minimal"
          disabled={props.loadingMore}
          onClick={props.onLoadMore}
        >
          {props.loadingMore ? 'Loading older runs…' : 'Load older runs'}
        </button>
      )}
    </>
  );
}

function Entry(props: { entry: ListEntry; context: EntryContext }): JSX.Element {
  const { entry, context } = props;
  switch (entry.kind) {
    case 'run':
      return <Run entry={entry} context={context} />;
    case 'sweep':
      return <Sweep entry={entry} context={context} />;
    case 'notebook':
      return <NotebookGroup entry={entry} context={context} />;
    case 'pipeline':
      return <Pipeline entry={entry} context={context} />;
  }
}

/** A pipeline stays open this long after its newest submission, unless the user closed it. */
const PIPELINE_OPEN_MS = 60 * 60_000;

/** Open while one of its steps is live or it is recent, unless the user closed or opened it. */
function Pipeline(props: { entry: PipelineEntry; context: EntryContext }): JSX.Element {
  const { entry, context } = props;
  const recent = context.now - Date.parse(entry.submittedAt) < PIPELINE_OPEN_MS;
  const expanded =
    context.toggled.get(entry.key) ?? (recent || entry.info.steps.some(step => isLive(step)));
  return (
    <PipelineGroup
      pipeline={entry}
      expanded={expanded}
      onToggle={() => context.toggle(entry.key, !expanded)}
      actions={context.pipelineActions}
      renderStep={step => <Entry entry={step} context={context} />}
    />
  );
}

function Run(props: { entry: RunEntry; context: EntryContext }): JSX.Element {
  const { job } = props.entry;
  const { context } = props;
  return (
    <JobRow
      job={job}
      now={isLive(job) ? context.now : 0}
      actions={context.actions}
      profileLabel={context.profileLabels[job.profile]}
    />
  );
}

function Sweep(props: { entry: SweepEntry; context: EntryContext }): JSX.Element {
  const { entry, context } = props;
  const expanded = context.toggled.get(entry.key) ?? false;
  return (
    <SweepGroup
      sweep={entry}
      expanded={expanded}
      onToggle={() => context.toggle(entry.key, !expanded)}
      now={context.now}
      actions={context.actions}
      sweepActions={context.sweepActions}
      profileLabels={context.profileLabels}
    />
  );
}

/** A notebook's runs under one header, closed unless it is the current notebook's. */
function NotebookGroup(props: { entry: NotebookEntry; context: EntryContext }): JSX.Element {
  const { entry, context } = props;
  const [shown, setShown] = useState(GROUP_PAGE);
  const expanded = context.toggled.get(entry.key) ?? entry.key === context.currentGroup;
  const name = jobName(entry);
  const detail = `${entry.runs} run${entry.runs === 1 ? '' : 's'}${entry.live ? ` · ${entry.live} live` : ''}`;
  return (
    <li
      className="jp-HpcSubmit-group jp-HpcSubmit-notebookGroup"
      data-group-key={entry.key}
      data-group-notebook={entry.notebook}
    >
      <GroupToggle
        expanded={expanded}
        onToggle={() => context.toggle(entry.key, !expanded)}
        name={name}
        title={entry.notebook}
        label={`${name}, ${detail}`}
        detail={detail}
      />
      {expanded && (
        <>
          <ul className="jp-HpcSubmit-jobs" aria-label={`Runs of ${name}`}>
            {entry.entries.slice(0, shown).map(e => (
              <Entry key={e.key} entry={e} context={context} />
            ))}
          </ul>
          <ShowMore
            shown={shown}
            total={entry.entries.length}
            step={GROUP_PAGE}
            what="runs"
            onMore={() => setShown(shown + GROUP_PAGE)}
          />
        </>
      )}
    </li>
  );
}

/** Up and down go to the previous and next row or group header shown; Home and End to the ends. */
function moveBetweenRows(e: React.KeyboardEvent<HTMLUListElement>): void {
  const keys = ['ArrowDown', 'ArrowUp', 'Home', 'End'];
  if (!keys.includes(e.key)) {
    return;
  }
  const targets = Array.from(e.currentTarget.querySelectorAll<HTMLElement>('[data-nav]'));
  if (targets.length === 0) {
    return;
  }
  const active = document.activeElement as HTMLElement | null;
  const at = targets.findIndex(t => t === active || t.contains(active));
  const next =
    e.key === 'Home'
      ? 0
      : e.key === 'End'
        ? targets.length - 1
        : Math.min(targets.length - 1, Math.max(0, at + (e.key === 'ArrowDown' ? 1 : -1)));
  e.preventDefault();
  targets[at === -1 ? 0 : next].focus();
}
