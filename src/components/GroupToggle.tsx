import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import React from 'react';

/**
 * A group's header button: Enter, Space or a click opens and closes it;
 * the right arrow opens it and the left arrow closes it, as in a tree.
 */
export function GroupToggle(props: {
  expanded: boolean;
  onToggle(): void;
  name: string;
  /** The tooltip: the notebook's path. */
  title: string;
  /** What a screen reader says: the name and the group's counts. */
  label: string;
  detail?: string;
}): JSX.Element {
  const Caret = props.expanded ? caretDownIcon : caretRightIcon;
  return (
    <button
      type="button"
      className="jp-HpcSubmit-groupToggle"
      aria-expanded={props.expanded}
      aria-label={props.label}
      title={props.title}
      data-nav="group"
      onClick={props.onToggle}
      onKeyDown={e => {
        if (
          (e.key === 'ArrowRight' && !props.expanded) ||
          (e.key === 'ArrowLeft' && props.expanded)
        ) {
          e.preventDefault();
          props.onToggle();
        }
      }}
    >
      <Caret.react tag="span" className="jp-HpcSubmit-caret" />
      <span className="jp-HpcSubmit-groupName">{props.name}</span>
      {props.detail && <span className="jp-HpcSubmit-groupDetail">{props.detail}</span>}
    </button>
  );
}
