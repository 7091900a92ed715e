import React from 'react';
import { choiceKey } from '../../contract/rules';
import type { ProfileProblem, ProfileStatus, SetupAction } from '../../contract/wire';
import { choiceLabel } from '../labels';

/** The fixes a button may apply: each only makes something in the user's own environment. */
const SAFE_FIX: Partial<Record<ProfileProblem['code'], { action: SetupAction; label: string }>> = {
  'kernel-missing': { action: 'create-kernel', label: 'Create kernel' },
  'environment-missing': { action: 'install-environment', label: 'Install environment' }
};

export interface SetupCheckProps {
  /** The notebook the choices are of, or null with none open. */
  notebook: string | null;
  project?: { name: string; manifest: string };
  choices: ProfileStatus[];
  /** Profiles files and a project manifest that did not load. */
  fileProblems: string[];
  companionError?: string;
  schedulerReachable: boolean;
  schedulerMessage?: string;
  checking: boolean;
  onFix(choice: ProfileStatus, action: SetupAction): void;
  onCheckAgain(): void;
}

/** `hpc-submit doctor`'s findings for the current notebook, with their fixes; renders only. */
export function SetupCheck(props: SetupCheckProps): JSX.Element {
  return (
    <div className="jp-HpcSubmit-setupCheck">
      <header>
        <h2>Check setup{props.notebook ? `: ${props.notebook}` : ''}</h2>
        <button className="jp-mod-styled" disabled={props.checking} onClick={props.onCheckAgain}>
          {props.checking ? 'Checking…' : 'Check again'}
        </button>
      </header>
      <ul className="jp-HpcSubmit-findings" aria-label="Findings">
        <Finding
          ok={!props.companionError}
          what={props.companionError ?? 'the companion answers'}
        />
        <Finding
          ok={props.schedulerReachable}
          what={
            props.schedulerReachable
              ? 'the scheduler answers'
              : `the scheduler does not answer${props.schedulerMessage ? `: ${props.schedulerMessage}` : ''}`
          }
        />
        {props.fileProblems.map(p => (
          <Finding key={p} ok={false} what={p} fix="correct the file; the others still load" />
        ))}
        {props.notebook && (
          <Finding
            ok
            what={
              props.project
                ? `the notebook lies in the pixi project ${props.project.name} (${props.project.manifest})`
                : 'the notebook lies in no pixi project: the site’s environments apply'
            }
          />
        )}
      </ul>
      <h3>Each choice</h3>
      <ul className="jp-HpcSubmit-findings" aria-label="Choices">
        {props.choices.map(choice => (
          <ChoiceFindings key={choiceKey(choice)} choice={choice} onFix={props.onFix} />
        ))}
      </ul>
    </div>
  );
}

function ChoiceFindings(props: {
  choice: ProfileStatus;
  onFix(choice: ProfileStatus, action: SetupAction): void;
}): JSX.Element {
  const { choice } = props;
  const label = choiceLabel(choice);
  if (choice.problems.length === 0) {
    return <Finding ok what={`${label}: ready (kernel ${choice.kernel})`} />;
  }
  return (
    <>
      {choice.problems.map(p => {
        const fix = SAFE_FIX[p.code];
        return (
          <Finding key={p.code} ok={false} what={`${label}: ${p.message}`} fix={p.fix}>
            {fix && (
              <button
                className="jp-mod-styled jp-mod-accept"
                onClick={() => props.onFix(choice, fix.action)}
              >
                {fix.label}
              </button>
            )}
          </Finding>
        );
      })}
    </>
  );
}

function Finding(props: {
  ok: boolean;
  what: string;
  fix?: string;
  children?: React.ReactNode;
}): JSX.Element {
  return (
    <li className={props.ok ? 'jp-HpcSubmit-finding' : 'jp-HpcSubmit-finding jp-mod-problem'}>
      <span className="jp-HpcSubmit-findingMark" aria-label={props.ok ? 'ok' : 'problem'}>
        {props.ok ? '✓' : '✗'}
      </span>{' '}
      {props.what}
      {props.fix && <code className="jp-HpcSubmit-fix">{props.fix}</code>}
      {props.children}
    </li>
  );
}
