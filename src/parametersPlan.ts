/**
 * "Run with parameters…": the dialog's form state, what it asks for (one run
 * with values, or a sweep), the sentence that says so, and the request it
 * sends. Pure, so it is tested without a browser.
 */
import {
  formatSweepValues,
  formatValue,
  parseSweepValues,
  parseValue,
  type Parsed
} from './parameterValues';
import type {
  NotebookParameter,
  NotebookSubmitMetadata,
  ParameterValue,
  Parameters,
  Resources,
  RunChoice,
  SubmitRequest,
  SweepRequest
} from '../contract/wire';

/** "Max at once" until a notebook's last sweep says otherwise. */
export const DEFAULT_MAX_PARALLEL = 4;

export type SweepMode = 'product' | 'zip';

export interface ParameterField {
  parameter: NotebookParameter;
  /** The override as typed; empty keeps the notebook's default. */
  text: string;
  /** On: the text lists the values to run with, one run each. */
  sweep: boolean;
}

export interface ParametersFormState {
  fields: ParameterField[];
  mode: SweepMode;
  /** As typed. */
  maxParallel: string;
  /** The variables to record after the run, as typed: "loss, accuracy". */
  record: string;
}

/** What the form asks for: one run with these values, or one run per combination. */
export type Submission =
  | { kind: 'single'; parameters: Parameters; record: string[] }
  | { kind: 'sweep'; parameters: Parameters; sweep: SweepRequest; runs: number; record: string[] };

/** The form as the notebook's last run with parameters left it (its metadata), else empty. */
export function initialForm(
  parameters: NotebookParameter[],
  meta: NotebookSubmitMetadata,
  defaultMaxParallel = DEFAULT_MAX_PARALLEL
): ParametersFormState {
  const fields = parameters.map((parameter): ParameterField => {
    const swept = meta.sweep?.parameters[parameter.name];
    if (swept) {
      return { parameter, text: formatSweepValues(swept), sweep: true };
    }
    const fixed = meta.parameters?.[parameter.name];
    return { parameter, text: fixed === undefined ? '' : formatValue(fixed), sweep: false };
  });
  return {
    fields,
    mode: meta.sweep?.mode ?? 'product',
    maxParallel: String(meta.sweep?.maxParallel ?? defaultMaxParallel),
    record: (meta.record ?? []).join(', ')
  };
}

/** Why the field's text is not what it must be; undefined when it is (or is empty, fixed). */
export function fieldError(field: ParameterField): string | undefined {
  if (field.sweep) {
    const values = parseSweepValues(field.text);
    return values.ok ? undefined : values.error;
  }
  if (!field.text.trim()) {
    return undefined;
  }
  const value = parseValue(field.text);
  return value.ok ? undefined : value.error;
}

export function sweptCount(state: ParametersFormState): number {
  return state.fields.filter(f => f.sweep).length;
}

/** The submission the form asks for, or the first reason it cannot be sent, naming the parameter. */
export function readForm(state: ParametersFormState): Parsed<Submission> {
  const record = readRecordNames(state.record);
  if (!record.ok) {
    return record;
  }
  const parameters: Parameters = {};
  const swept: Record<string, ParameterValue[]> = {};
  for (const field of state.fields) {
    const { name } = field.parameter;
    if (field.sweep) {
      const values = parseSweepValues(field.text);
      if (!values.ok) {
        return { ok: false, error: `${name}: ${values.error}` };
      }
      swept[name] = values.value;
    } else if (field.text.trim()) {
      const value = parseValue(field.text);
      if (!value.ok) {
        return { ok: false, error: `${name}: ${value.error}` };
      }
      parameters[name] = value.value;
    }
  }
  if (Object.keys(swept).length === 0) {
    return { ok: true, value: { kind: 'single', parameters, record: record.value } };
  }
  const runs = runCount(swept, state.mode);
  const maxParallel = readMaxParallel(state.maxParallel);
  if (!runs.ok) {
    return runs;
  }
  if (!maxParallel.ok) {
    return maxParallel;
  }
  const sweep: SweepRequest = {
    parameters: swept,
    mode: state.mode,
    maxParallel: maxParallel.value
  };
  return {
    ok: true,
    value: { kind: 'sweep', parameters, sweep, runs: runs.value, record: record.value }
  };
}

/** Python's identifiers (letters, digits, underscores; not first a digit): what the run can ask the kernel for. */
const VARIABLE_NAME = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/** "loss, accuracy" as the names to record, or the first that is not a variable's name. */
export function readRecordNames(text: string): Parsed<string[]> {
  const names = text
    .split(',')
    .map(n => n.trim())
    .filter(Boolean);
  const wrong = names.find(n => !VARIABLE_NAME.test(n));
  if (wrong !== undefined) {
    return { ok: false, error: `record: ${wrong} is not a variable name` };
  }
  return { ok: true, value: [...new Set(names)] };
}

/** How many runs the swept values make: every combination, or the i-th value of each. */
export function runCount(swept: Record<string, ParameterValue[]>, mode: SweepMode): Parsed<number> {
  const lengths = Object.entries(swept).map(([name, values]) => ({ name, n: values.length }));
  if (mode === 'product') {
    return { ok: true, value: lengths.reduce((runs, { n }) => runs * n, 1) };
  }
  if (lengths.some(({ n }) => n !== lengths[0].n)) {
    const counts = lengths.map(({ name, n }) => `${name} has ${n}`).join(', ');
    return {
      ok: false,
      error: `one to one (zip) pairs the i-th values, so every swept parameter needs as many values: ${counts}`
    };
  }
  return { ok: true, value: lengths[0]?.n ?? 1 };
}

function readMaxParallel(text: string): Parsed<number> {
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 1 && text.trim() !== ''
    ? { ok: true, value: n }
    : {
        ok: false,
        error: `max at once: ${text.trim() || 'nothing'} is not a whole number of 1 or more`
      };
}

/** "12 runs, at most 4 at once, on GPU node", or "1 run on GPU node". */
export function runsSentence(submission: Submission, profileLabel: string): string {
  if (submission.kind === 'single' || submission.runs === 1) {
    return `1 run on ${profileLabel}`;
  }
  return `${submission.runs} runs, at most ${submission.sweep.maxParallel} at once, on ${profileLabel}`;
}

/** The body of POST /api/jobs for a sweep (the model adds the idempotency key). */
export function sweepRequest(
  notebook: string,
  choice: RunChoice,
  resources: Resources | undefined,
  submission: Extract<Submission, { kind: 'sweep' }>
): Omit<SubmitRequest, 'idempotencyKey'> {
  return {
    notebook,
    ...choice,
    ...(resources ? { resources } : {}),
    ...(Object.keys(submission.parameters).length > 0 ? { parameters: submission.parameters } : {}),
    sweep: submission.sweep
  };
}
