/**
 * The body of POST /api/jobs, checked against schema/submit.schema.json:
 * the schema says what shape a request has, the sentences here say what is
 * wrong with a field in words a user can act on. What a schema cannot know
 * (the notebook lies inside the Jupyter root, the profile exists, the
 * resources are within its limits) is checked where that is known:
 * paths.ts, JobService.profile and resolveResources.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Resources, SubmitRequest } from '../../contract/wire';
import { invalid } from './refusal';
import { NOTEBOOK_PATH_EXPECTED } from './paths';

interface Validators {
  request: ValidateFunction<SubmitRequest>;
  resources: ValidateFunction<Resources>;
}

let validators: Validators | null = null;

/** Compiled at the first request: an idle companion keeps no schema validator in memory. */
function compiled(): Validators {
  if (!validators) {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    const schema = require('../../schema/submit.schema.json') as { $id: string };
    /* eslint-enable @typescript-eslint/no-var-requires */
    // verbose: an error carries the value and the schema it failed, for its sentence.
    const ajv = new Ajv({ verbose: true });
    ajv.addSchema(schema);
    validators = {
      request: ajv.getSchema<SubmitRequest>(schema.$id) as ValidateFunction<SubmitRequest>,
      resources: ajv.getSchema<Resources>(
        `${schema.$id}#/definitions/resources`
      ) as ValidateFunction<Resources>
    };
  }
  return validators;
}

/** The request as sent, once its shape is right; else a 400 naming the field. */
export function parseSubmitRequest(body: unknown): SubmitRequest {
  return checked(compiled().request, body, '');
}

/** A run's resources as asked for, once their shape is right; else a 400 naming the field. */
export function parseResources(value: unknown): Resources {
  return checked(compiled().resources, value, '/resources');
}

/** `base`: where the value sits in a request, so that a sentence names the right field. */
function checked<T>(validate: ValidateFunction<T>, value: unknown, base: string): T {
  if (!validate(value)) {
    throw invalid(sentenceFor((validate.errors ?? [])[0], base));
  }
  return value;
}

/** What each field must be, in words, given the value that is not. */
const EXPECTED: Record<string, (value: unknown, schema: { minimum?: number }) => string> = {
  notebook: () => NOTEBOOK_PATH_EXPECTED,
  profile: () => '"profile" must be the id of one of this site\'s profiles (GET /api/profiles)',
  environment: value =>
    `"environment" must be the name of an environment of the notebook's pixi project (GET /api/profiles?notebook=), not ${show(value)}`,
  idempotencyKey: () => '"idempotencyKey" must be a string of 1 to 200 characters',
  resources: () => '"resources" must be an object such as {"gpus": 1, "time": "02:00:00"}',
  partition: value => `"partition" must be the name of a partition, not ${show(value)}`,
  gpus: (value, schema) => wholeNumber('gpus', schema.minimum, value),
  cpus: (value, schema) => wholeNumber('cpus', schema.minimum, value),
  memory: value => `"memory" must look like "32G" or "512M", not ${show(value)}`,
  time: value => timeExpected(value)
};

/** Also for a time the schema lets through but that is no length of time ("0"). */
export function timeExpected(value: unknown): string {
  return `"time" must look like "04:00:00", "1-00:00:00" or "30", not ${show(value)}`;
}

const show = (value: unknown): string => JSON.stringify(value);

const wholeNumber = (field: string, least: number | undefined, value: unknown): string =>
  `"${field}" must be a whole number of at least ${least}, not ${show(value)}`;

const BODY_EXPECTED =
  'the request body must be a JSON object: {"notebook": "...", "profile": "..."}';

/** What a value at a path of the request must be, where its field name alone does not say. */
const EXPECTED_AT: [RegExp, (value: unknown, path: string) => string][] = [
  [
    /^\/parameters$/,
    () => '"parameters" must be an object of names and values, such as {"lr": 0.01}'
  ],
  [/^\/sweep$/, () => '"sweep" must be an object such as {"parameters": {"seed": [1, 2, 3]}}'],
  [
    /^\/sweep\/parameters$/,
    () =>
      '"sweep.parameters" must be an object of names and lists of values, such as {"seed": [1, 2, 3]}'
  ],
  [
    /^\/sweep\/parameters\/.+$/,
    (value, path) =>
      `the values of ${show(swept(path))} in "sweep.parameters" must be a list such as [1, 2, 3], not ${show(value)}`
  ],
  [/^\/sweep\/mode$/, value => `"sweep.mode" must be "product" or "zip", not ${show(value)}`],
  [
    /^\/sweep\/maxParallel$/,
    value => `"sweep.maxParallel" must be a whole number of at least 1, not ${show(value)}`
  ],
  [
    /^\/allowUnknownParameters$/,
    value => `"allowUnknownParameters" must be true or false, not ${show(value)}`
  ]
];

/** The parameter's name in a JSON pointer /sweep/parameters/<name> (~1 is "/", ~0 is "~"). */
const swept = (path: string): string =>
  path.slice('/sweep/parameters/'.length).replace(/~1/g, '/').replace(/~0/g, '~');

/** The sentence for one schema error of a value at `base` in a request. */
function sentenceFor(error: ErrorObject, base: string): string {
  const path = base + error.instancePath;
  const params = error.params as { additionalProperty?: string; missingProperty?: string };
  if (error.keyword === 'additionalProperties') {
    const name = JSON.stringify(params.additionalProperty);
    if (path === '') {
      return `unknown field ${name} in the request`;
    }
    const known = Object.keys((error.parentSchema as { properties: object }).properties);
    const what = path === '/sweep' ? `field ${name} in "sweep"` : `resource ${name}`;
    return `unknown ${what}: use ${known.slice(0, -1).join(', ')} or ${known.at(-1)}`;
  }
  const field =
    error.keyword === 'required' ? params.missingProperty : path.split('/').pop() || undefined;
  const at = error.keyword === 'required' ? `${path}/${field}` : path;
  const byPath = EXPECTED_AT.find(([pattern]) => pattern.test(at));
  if (byPath) {
    return byPath[1](error.keyword === 'required' ? undefined : error.data, at);
  }
  const expected = field === undefined ? undefined : EXPECTED[field];
  if (!expected) {
    return BODY_EXPECTED;
  }
  return error.keyword === 'required'
    ? expected(undefined, {})
    : expected(error.data, error.parentSchema as { minimum?: number });
}
