/**
 * What a pipeline step's job settles at its own start, since only then is it
 * known: the parameters that take a value an earlier step recorded
 * ({{ prep.values.loss }}), read from that run's results.json, and the
 * summary.csv of a sweep it reads ({{ train.summary }}), awaited until every
 * row shows its task's end (the companion writes it as the tasks end, and the
 * scheduler may start this step a moment sooner). nbconvert_config.py does
 * both; until then the injected cell holds the template text.
 */
import { join } from 'node:path';
import type { Parameters } from '../../contract/wire';
import { RESULTS_FILE } from '../jobs/results';
import type { StepReference } from './templates';

/** In the job's directory; read by nbconvert_config.py (LATE_PARAMETERS_FILE there). */
export const LATE_PARAMETERS_FILE = 'late-parameters.json';

export interface LateParameters {
  /** Each parameter that holds a values template, as written (other templates filled). */
  parameters: Parameters;
  /** The results.json of each step named, by step name. */
  sources: Record<string, string>;
  /** Each summary.csv the step reads, and the rows it has once complete. */
  summaries: Array<{ path: string; rows: number }>;
}

/** An earlier step as this one sees it: its (first) run's directory, and its summary if a sweep. */
export interface EarlierStep {
  jobDir: string;
  summary?: { path: string; rows: number };
}

/** The late part of a step's (filled) parameters, or undefined where nothing is late. */
export function lateParameters(
  parameters: Parameters,
  references: readonly StepReference[],
  earlier: (step: string) => EarlierStep
): LateParameters | undefined {
  const values = references.filter(r => r.field === 'values');
  const summaries = [
    ...new Set(references.filter(r => r.field === 'summary').map(r => r.step))
  ].flatMap(s => {
    const summary = earlier(s).summary;
    return summary ? [summary] : [];
  });
  if (values.length === 0 && summaries.length === 0) {
    return undefined;
  }
  const names = new Set(values.map(r => r.parameter));
  return {
    parameters: Object.fromEntries(Object.entries(parameters).filter(([n]) => names.has(n))),
    sources: Object.fromEntries(
      [...new Set(values.map(r => r.step))].map(s => [s, join(earlier(s).jobDir, RESULTS_FILE)])
    ),
    summaries
  };
}
