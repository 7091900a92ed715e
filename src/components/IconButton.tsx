import type { LabIcon } from '@jupyterlab/ui-components';
import React from 'react';

/**
 * A small icon button as in JupyterLab's Running panel: its title is its
 * tooltip and its accessible name. A disabled one says why in its tooltip,
 * after what it would do.
 */
export function IconButton(props: {
  icon: LabIcon;
  title: string;
  disabledBecause?: string;
  className?: string;
  onClick(event: React.MouseEvent<HTMLButtonElement>): void;
}): JSX.Element {
  const title = props.disabledBecause ? `${props.title} (${props.disabledBecause})` : props.title;
  return (
    <button
      type="button"
      className={`jp-HpcSubmit-action jp-Button jp-mod-minimal ${props.className ?? ''}`.trim()}
      title={title}
      aria-label={props.title}
      disabled={props.disabledBecause !== undefined}
      onClick={props.onClick}
    >
      <props.icon.react tag="span" className="jp-HpcSubmit-actionIcon" elementSize="normal" />
    </button>
  );
}
