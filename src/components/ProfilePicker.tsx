import React from 'react';
import type { ProfileStatus } from '../wire';

/** The hardware picker in a notebook's toolbar; renders only. */
export function ProfilePicker(props: {
  profiles: ProfileStatus[];
  value: string | undefined;
  onChange(profile: string): void;
}): JSX.Element {
  return (
    <select
      className="jp-HpcSubmit-profilePicker jp-mod-styled"
      aria-label="Hardware"
      title="Hardware this notebook runs on (saved in the notebook)"
      value={props.value ?? ''}
      onChange={(e) => props.onChange(e.target.value)}
    >
      {props.profiles.length === 0 && <option value="">(no profiles)</option>}
      {props.profiles.map((p) => (
        <option key={p.id} value={p.id}>
          {p.label}
        </option>
      ))}
    </select>
  );
}
