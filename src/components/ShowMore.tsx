import React from 'react';

/** Shows the next `step` of a list that renders only its first `shown` items. */
export function ShowMore(props: {
  shown: number;
  total: number;
  step: number;
  what: string;
  onMore(): void;
}): JSX.Element | null {
  const left = props.total - props.shown;
  if (left <= 0) {
    return null;
  }
  return (
    <button
      type="button"
      className="jp-HpcSubmit-showMore jp-Button jp-mod-minimal"
      onClick={props.onMore}
    >
      Show {Math.min(left, props.step)} more {props.what} ({left} not shown)
    </button>
  );
}
