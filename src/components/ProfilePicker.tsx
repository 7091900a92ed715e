import { caretDownEmptyIcon } from '@jupyterlab/ui-components';
import React from 'react';
import type { ProfileStatus } from '../../contract/wire';

/**
 * The hardware picker in a notebook's toolbar; renders only. Drawn like the
 * toolbar's cell-type dropdown (JupyterLab's HTMLSelect markup), with the
 * class on the <select> itself so tests and themes can find it.
 */
export function ProfilePicker(props: {
  profiles: ProfileStatus[];
  value: string | undefined;
  onChange(profile: string): void;
}): JSX.Element {
  return (
    <div className="jp-HTMLSelect jp-DefaultStyle jp-HpcSubmit-pickerWrap">
      <select
        className="jp-HpcSubmit-profilePicker"
        aria-label="Hardware"
        title="Hardware this notebook runs on (saved in the notebook)"
        value={props.value ?? ''}
        disabled={props.profiles.length === 0}
        // Keep the toolbar's roving focus out of the way, as HTMLSelect does.
        onFocus={e => e.stopPropagation()}
        onChange={e => props.onChange(e.target.value)}
      >
        {props.profiles.length === 0 && <option value="">(no profiles)</option>}
        {props.profiles.map(p => (
          <ProfileOption key={p.id} profile={p} />
        ))}
      </select>
      <caretDownEmptyIcon.react tag="span" stylesheet="select" right="4px" top="8px" />
    </div>
  );
}

/** A profile's problems, and the profiles file it came from, show as the option's tooltip. */
function ProfileOption(props: { profile: ProfileStatus }): JSX.Element {
  const { profile } = props;
  const tooltip = [
    ...profile.problems.map(x => x.message),
    profile.source ? `defined in ${profile.source}` : ''
  ].filter(Boolean);
  return (
    <option value={profile.id} title={tooltip.join('; ') || undefined}>
      {profile.label}
    </option>
  );
}
