import React from 'react';
import {
  fieldError,
  type ParameterField,
  type ParametersFormState,
  sweptCount
} from '../parametersPlan';

/** A change of the form, applied to its state as it is then: two inputs between renders both count. */
export type Change = (change: (state: ParametersFormState) => ParametersFormState) => void;

/**
 * The body of "Run with parameters…": each parameter of the notebook with its
 * default and type, an override, and a sweep toggle; how swept values
 * combine, how many run at once, and what a click on Run submits. Renders
 * only: the dialog holds the state.
 */
export function ParametersForm(props: {
  state: ParametersFormState;
  /** What Run submits ("3 runs, at most 4 at once, on GPU node"), or why it cannot. */
  summary: string;
  summaryIsError: boolean;
  /** The companion's refusal or a failed save, as said. */
  error: string | undefined;
  busy: boolean;
  onChange: Change;
}): JSX.Element {
  const { state, onChange } = props;
  const setField = (index: number, patch: Partial<ParameterField>) =>
    onChange(s => ({
      ...s,
      fields: s.fields.map((f, i) => (i === index ? { ...f, ...patch } : f))
    }));
  const swept = sweptCount(state);
  return (
    <div className="jp-HpcSubmit-parameters" aria-busy={props.busy}>
      <table className="jp-HpcSubmit-paramTable" aria-label="Parameters">
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            <th scope="col">Default</th>
            <th scope="col">Type</th>
            <th scope="col">Value</th>
            <th scope="col">Sweep</th>
          </tr>
        </thead>
        <tbody>
          {state.fields.map((field, i) => (
            <ParameterRow key={field.parameter.name} field={field} onChange={p => setField(i, p)} />
          ))}
        </tbody>
      </table>
      {swept >= 2 && <ModeChoice mode={state.mode} onChange={onChange} />}
      {swept >= 1 && (
        <label className="jp-HpcSubmit-maxParallel">
          Max at once{' '}
          <input
            className="jp-mod-styled"
            type="number"
            min={1}
            step={1}
            value={state.maxParallel}
            onChange={e => {
              const maxParallel = e.target.value;
              onChange(s => ({ ...s, maxParallel }));
            }}
          />
        </label>
      )}
      <label className="jp-HpcSubmit-record">
        Record after the run{' '}
        <input
          className="jp-mod-styled"
          type="text"
          placeholder="loss, accuracy"
          aria-describedby="jp-HpcSubmit-recordHelp"
          value={state.record}
          onChange={e => {
            const record = e.target.value;
            onChange(s => ({ ...s, record }));
          }}
        />
      </label>
      <div id="jp-HpcSubmit-recordHelp" className="jp-HpcSubmit-paramHelp">
        Variables whose values each run keeps, for its row, Run details and the sweep&apos;s results
      </div>
      <p
        className={`jp-HpcSubmit-paramSummary${props.summaryIsError ? ' jp-HpcSubmit-invalid' : ''}`}
        role="status"
      >
        {props.busy ? 'Submitting…' : props.summary}
      </p>
      {props.error && (
        <p className="jp-HpcSubmit-paramError" role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

function ParameterRow(props: {
  field: ParameterField;
  onChange(patch: Partial<ParameterField>): void;
}): JSX.Element {
  const { field, onChange } = props;
  const { name, inferredType, help } = field.parameter;
  const inputId = `jp-HpcSubmit-param-${name}`;
  const error = fieldError(field);
  return (
    <tr data-parameter={name}>
      <th scope="row">
        <label htmlFor={inputId}>{name}</label>
        {help && <div className="jp-HpcSubmit-paramHelp">{help}</div>}
      </th>
      <td>
        <code className="jp-HpcSubmit-paramDefault">{field.parameter.default}</code>
      </td>
      <td className="jp-HpcSubmit-paramType">
        {inferredType === 'None' ? (
          <span title="papermill reads a type from an annotation only: seed: int = 0">—</span>
        ) : (
          inferredType
        )}
      </td>
      <td>
        <input
          id={inputId}
          className="jp-mod-styled jp-HpcSubmit-paramValue"
          type="text"
          spellCheck={false}
          autoComplete="off"
          placeholder={field.sweep ? 'values: 1, 2, 3' : `default: ${field.parameter.default}`}
          value={field.text}
          aria-invalid={error !== undefined}
          aria-describedby={error ? `${inputId}-error` : undefined}
          onChange={e => onChange({ text: e.target.value })}
        />
        {error && (
          <div id={`${inputId}-error`} className="jp-HpcSubmit-fieldError">
            {error}
          </div>
        )}
      </td>
      <td>
        <input
          type="checkbox"
          className="jp-HpcSubmit-paramSweep"
          aria-label={`Sweep ${name} over several values`}
          title="Run once for each of several values"
          checked={field.sweep}
          onChange={e => onChange({ sweep: e.target.checked })}
        />
      </td>
    </tr>
  );
}

function ModeChoice(props: { mode: ParametersFormState['mode']; onChange: Change }): JSX.Element {
  const option = (mode: ParametersFormState['mode'], label: string) => (
    <label>
      <input
        type="radio"
        name="jp-HpcSubmit-sweepMode"
        value={mode}
        checked={props.mode === mode}
        onChange={() => props.onChange(s => ({ ...s, mode }))}
      />{' '}
      {label}
    </label>
  );
  return (
    <fieldset className="jp-HpcSubmit-sweepMode">
      <legend>Combine the swept values</legend>
      {option('product', 'every combination (product)')}
      {option('zip', 'one to one, the i-th of each (zip)')}
    </fieldset>
  );
}

/** The dialog's body when there is nothing to submit: no parameters cell, or none could be read. */
export function ParametersMessage(props: { message: string; hint?: string }): JSX.Element {
  return (
    <div className="jp-HpcSubmit-parameters">
      <p className="jp-HpcSubmit-paramMessage">{props.message}</p>
      {props.hint && <p className="jp-HpcSubmit-paramHint">{props.hint}</p>}
    </div>
  );
}
