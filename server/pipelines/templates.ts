/**
 * What one step of a pipeline takes from an earlier one, written in a
 * parameter's string: `{{ prep.output }}` (the executed notebook's path),
 * `{{ train.summary }}` (a sweep's summary.csv) or `{{ prep.values.loss }}`
 * (a value the run recorded). A string that is one template alone becomes
 * the value itself (a number stays a number); inside other text, its text.
 */
import type { ParameterValue, Parameters } from '../../contract/wire';
import { invalid } from '../jobs/refusal';

export type ReferenceField = 'output' | 'summary' | 'values';

export interface StepReference {
  /** The parameter it is in (its top-level name). */
  parameter: string;
  /** The template as written, for sentences: "{{ prep.output }}". */
  text: string;
  step: string;
  field: ReferenceField;
  /** For `values`: the recorded value's name. */
  value?: string;
}

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const REFERENCE = /^([A-Za-z_][A-Za-z0-9_-]{0,63})\.(output|summary|values\.([^\s.]{1,200}))$/;

/** Every template in `parameters` of step `stepName`; one that is not of the three forms is refused. */
export function referencesIn(stepName: string, parameters: Parameters): StepReference[] {
  const found: StepReference[] = [];
  for (const [parameter, value] of Object.entries(parameters)) {
    visitStrings(value, text => {
      for (const match of text.matchAll(TEMPLATE)) {
        found.push(reference(stepName, parameter, match[0], match[1]));
      }
    });
  }
  return found;
}

function reference(
  stepName: string,
  parameter: string,
  text: string,
  inner: string
): StepReference {
  const m = REFERENCE.exec(inner);
  if (!m) {
    throw invalid(
      `step "${stepName}" has ${text} in "${parameter}": a template is {{ STEP.output }}, {{ STEP.summary }} or {{ STEP.values.NAME }}`
    );
  }
  const field = (m[2].startsWith('values.') ? 'values' : m[2]) as ReferenceField;
  return { parameter, text, step: m[1], field, ...(m[3] ? { value: m[3] } : {}) };
}

function visitStrings(value: ParameterValue, visit: (text: string) => void): void {
  if (typeof value === 'string') {
    visit(value);
  } else if (Array.isArray(value)) {
    value.forEach(v => visitStrings(v, visit));
  } else if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(v => visitStrings(v, visit));
  }
}

/** What a reference stands for once its step has run; undefined where it has not (the caller says why). */
export type Resolve = (ref: StepReference) => ParameterValue | undefined;

/** The parameters with every template replaced by what it names. */
export function fillTemplates(
  stepName: string,
  parameters: Parameters,
  resolve: Resolve
): Parameters {
  const fill = (value: ParameterValue, parameter: string): ParameterValue => {
    if (typeof value === 'string') {
      return fillString(stepName, parameter, value, resolve);
    }
    if (Array.isArray(value)) {
      return value.map(v => fill(v, parameter));
    }
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, parameter)]));
    }
    return value;
  };
  return Object.fromEntries(Object.entries(parameters).map(([name, v]) => [name, fill(v, name)]));
}

function fillString(
  stepName: string,
  parameter: string,
  text: string,
  resolve: Resolve
): ParameterValue {
  const matches = [...text.matchAll(TEMPLATE)];
  if (matches.length === 0) {
    return text;
  }
  const valueOf = (match: RegExpMatchArray): ParameterValue => {
    const ref = reference(stepName, parameter, match[0], match[1]);
    const value = resolve(ref);
    if (value === undefined) {
      throw invalid(`step "${stepName}" takes ${ref.text}, which "${ref.step}" did not make`);
    }
    return value;
  };
  if (matches.length === 1 && matches[0][0] === text) {
    return valueOf(matches[0]);
  }
  return text.replace(TEMPLATE, (...args) => {
    const value = valueOf(args as unknown as RegExpMatchArray);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}
