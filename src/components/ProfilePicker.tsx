import { caretDownEmptyIcon } from '@jupyterlab/ui-components';
import React from 'react';
import { choiceKey } from '../../contract/rules';
import type { ProfileStatus } from '../../contract/wire';
import { choiceLabel } from '../labels';

/**
 * The hardware picker in a notebook's toolbar; renders only. Drawn like the
 * toolbar's cell-type dropdown (JupyterLab's HTMLSelect markup), with the
 * class on the <select> itself so tests and themes can find it. For a
 * notebook inside a pixi project, its environments on the site's hardware
 * come first, in a group named for the project.
 */
export function ProfilePicker(props: {
  profiles: ProfileStatus[];
  /** The choiceKey of the notebook's choice. */
  value: string | undefined;
  onChange(key: string): void;
}): JSX.Element {
  const project = props.profiles.filter(p => p.environment);
  const site = props.profiles.filter(p => !p.environment);
  return (
    <div className="jp-HTMLSelect jp-DefaultStyle jp-HpcSubmit-pickerWrap">
      <select
        className="jp-HpcSubmit-profilePicker"
        aria-label="Hardware and environment"
        title="Hardware (and environment) this notebook runs on (saved in the notebook)"
        value={props.value ?? ''}
        disabled={props.profiles.length === 0}
        // Keep the toolbar's roving focus out of the way, as HTMLSelect does.
        onFocus={e => e.stopPropagation()}
        onChange={e => props.onChange(e.target.value)}
      >
        {props.profiles.length === 0 && <option value="">(no profiles)</option>}
        {project.length > 0 ? (
          <>
            <optgroup label={`${project[0].environment?.project} (pixi project)`}>
              {project.map(p => (
                <ProfileOption key={choiceKey(p)} profile={p} />
              ))}
            </optgroup>
            <optgroup label="Site environments">
              {site.map(p => (
                <ProfileOption key={choiceKey(p)} profile={p} />
              ))}
            </optgroup>
          </>
        ) : (
          site.map(p => <ProfileOption key={choiceKey(p)} profile={p} />)
        )}
      </select>
      <caretDownEmptyIcon.react tag="span" stylesheet="select" right="4px" top="8px" />
    </div>
  );
}

/** A choice's problems, and where it is defined, show as the option's tooltip. */
function ProfileOption(props: { profile: ProfileStatus }): JSX.Element {
  const { profile } = props;
  const where = profile.environment
    ? `environment of ${profile.environment.manifest}`
    : profile.source
      ? `defined in ${profile.source}`
      : '';
  const tooltip = [...profile.problems.map(x => x.message), where].filter(Boolean);
  return (
    <option value={choiceKey(profile)} title={tooltip.join('; ') || undefined}>
      {choiceLabel(profile)}
    </option>
  );
}
