/**
 * The body of POST /api/schedules: its shape against
 * schema/schedule.schema.json, then its run or pipeline as their own
 * submissions check them, and its "when" as cron reads it.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { ScheduleRequest } from '../../contract/wire';
import { parsePipelineRequest } from '../pipelines/pipelineFile';
import { invalid } from '../jobs/refusal';
import { parseSubmitRequest } from '../jobs/submitRequest';
import { parseCron } from './cron';

let validate: ValidateFunction<ScheduleRequest> | null = null;

/** Compiled at the first schedule: an idle companion keeps no validator in memory. */
function compiled(): ValidateFunction<ScheduleRequest> {
  if (!validate) {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    const schema = require('../../schema/schedule.schema.json') as object;
    /* eslint-enable @typescript-eslint/no-var-requires */
    validate = new Ajv().compile<ScheduleRequest>(schema);
  }
  return validate;
}

const SHAPE =
  'a schedule is {"when": "0 2 * * *", "run": {"notebook": ..., "profile": ...}} or {"when": ..., "pipeline": {"file": ...}}';

/** The request, each part checked; the "when" given back as its five fields. */
export function parseScheduleRequest(body: unknown): ScheduleRequest {
  const check = compiled();
  if (!check(body)) {
    throw invalid(sentenceFor((check.errors ?? [])[0]));
  }
  const when = parseCron(body.when).text;
  return body.run
    ? { when, run: parseSubmitRequest(body.run) }
    : { when, pipeline: parsePipelineRequest(body.pipeline) };
}

function sentenceFor(error: ErrorObject | undefined): string {
  const extra = (error?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  if (error?.keyword === 'additionalProperties' && error.instancePath === '') {
    return `unknown field ${JSON.stringify(extra)} in the schedule: ${SHAPE}`;
  }
  if (error?.instancePath === '/when') {
    return '"when" must be five cron fields such as "0 2 * * *", or hourly, nightly or weekly';
  }
  return SHAPE;
}
