/**
 * A pipeline file: YAML, checked against schema/pipeline.schema.json, then
 * for what a schema cannot say: unique step names, `after` naming steps of
 * the file, no cycle, and templates that name a step this one comes after.
 * Pure (text in, steps out); every refusal names what is wrong.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { Parameters, PipelineRequest, Resources, SweepRequest } from '../../contract/wire';
import { invalid } from '../jobs/refusal';
import { type StepReference, referencesIn } from './templates';

export const PIPELINE_FILE_EXPECTED =
  '"file" must be the pipeline file\'s path relative to the Jupyter root, such as "analysis/run.pipeline.yaml"';

/** Larger than this is no pipeline a person wrote. */
export const MAX_PIPELINE_BYTES = 256 * 1024;
/** Aliases resolved at most: a "billion laughs" file is refused, not expanded. */
const MAX_ALIASES = 100;

export interface PipelineStep {
  name: string;
  /** As written: relative to the pipeline file's folder. */
  notebook: string;
  profile?: string;
  resources?: Resources;
  /** Templates ({{ prep.output }}) still in; `references` lists them. */
  parameters?: Parameters;
  sweep?: SweepRequest;
  after: string[];
  /** Start once `after` have ended however they ended (Slurm's afterany), not only completed. */
  afterAny: boolean;
  references: StepReference[];
}

export interface Pipeline {
  /** In the file's order, which is also an order the steps can start in (each after its `after`). */
  steps: PipelineStep[];
}

/** The step as the schema lets it through. */
interface StepInFile {
  name: string;
  notebook: string;
  profile?: string;
  resources?: Resources;
  parameters?: Parameters;
  sweep?: Record<string, unknown[]>;
  sweep_mode?: 'product' | 'zip';
  max_parallel?: number;
  after?: string[];
  after_any?: boolean;
}

interface Validators {
  file: ValidateFunction<{ steps: StepInFile[] }>;
  request: ValidateFunction<PipelineRequest>;
}

let validators: Validators | null = null;

/** Compiled at the first pipeline: a companion that never runs one keeps no validator. */
function compiled(): Validators {
  if (!validators) {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    const submit = require('../../schema/submit.schema.json') as object;
    const pipeline = require('../../schema/pipeline.schema.json') as { $id: string };
    /* eslint-enable @typescript-eslint/no-var-requires */
    const ajv = new Ajv({ verbose: true });
    ajv.addSchema(submit);
    ajv.addSchema(pipeline);
    validators = {
      file: ajv.getSchema(pipeline.$id) as Validators['file'],
      request: ajv.getSchema(`${pipeline.$id}#/definitions/request`) as Validators['request']
    };
  }
  return validators;
}

/** POST /api/pipelines' body, once its shape is right; else a 400 naming the field. */
export function parsePipelineRequest(body: unknown): PipelineRequest {
  const check = compiled().request;
  if (!check(body)) {
    const error = (check.errors ?? [])[0];
    const field =
      error?.instancePath.slice(1) ||
      (error?.params as { missingProperty?: string })?.missingProperty;
    if (error?.keyword === 'additionalProperties') {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      throw invalid(
        `unknown field "${extra}" in the request: a pipeline request has "file" and "idempotencyKey"`
      );
    }
    throw invalid(
      field === 'idempotencyKey'
        ? '"idempotencyKey" must be a string of 1 to 200 characters'
        : PIPELINE_FILE_EXPECTED
    );
  }
  return body;
}

export function parsePipeline(text: string): Pipeline {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_PIPELINE_BYTES) {
    throw invalid(
      `the pipeline file is ${Math.ceil(bytes / 1024)} KB, more than ${MAX_PIPELINE_BYTES / 1024} KB`
    );
  }
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: MAX_ALIASES, uniqueKeys: true, prettyErrors: true });
  } catch (e) {
    throw invalid(`the pipeline file is not YAML a pipeline can be read from: ${firstLine(e)}`);
  }
  const check = compiled().file;
  if (!check(data)) {
    throw invalid(`the pipeline file ${schemaSentence((check.errors ?? [])[0], data)}`);
  }
  const steps = data.steps.map(toStep);
  refuseDuplicates(steps);
  refuseUnknownAfter(steps);
  const ordered = startOrder(steps);
  refuseLooseReferences(ordered);
  return { steps: ordered };
}

function toStep(s: StepInFile): PipelineStep {
  const step: PipelineStep = {
    name: s.name,
    notebook: s.notebook,
    after: s.after ?? [],
    afterAny: s.after_any === true,
    references: referencesIn(s.name, s.parameters ?? {})
  };
  if (s.profile !== undefined) {
    step.profile = s.profile;
  }
  if (s.resources !== undefined) {
    step.resources = s.resources;
  }
  if (s.parameters !== undefined) {
    step.parameters = s.parameters;
  }
  if (s.sweep !== undefined) {
    step.sweep = {
      parameters: s.sweep as SweepRequest['parameters'],
      ...(s.sweep_mode ? { mode: s.sweep_mode } : {}),
      ...(s.max_parallel ? { maxParallel: s.max_parallel } : {})
    };
  }
  return step;
}

function refuseDuplicates(steps: PipelineStep[]): void {
  const seen = new Map<string, number>();
  steps.forEach((step, i) => {
    const first = seen.get(step.name);
    if (first !== undefined) {
      throw invalid(`two steps are named "${step.name}" (steps ${first + 1} and ${i + 1})`);
    }
    seen.set(step.name, i);
  });
}

function refuseUnknownAfter(steps: PipelineStep[]): void {
  const names = new Set(steps.map(s => s.name));
  for (const step of steps) {
    const unknown = step.after.find(name => !names.has(name));
    if (unknown !== undefined) {
      throw invalid(
        `step "${step.name}" comes after "${unknown}", which is not a step of this pipeline`
      );
    }
  }
}

/**
 * The steps in an order they can start in, each after what it comes after
 * (the file's order where it allows); a cycle is refused, named step by step.
 */
function startOrder(steps: PipelineStep[]): PipelineStep[] {
  const byName = new Map(steps.map(s => [s.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const order: PipelineStep[] = [];
  const path: string[] = [];
  // Iterative, so that 1,000 steps in one chain do not exhaust the stack.
  for (const root of steps) {
    const stack: Array<{ step: PipelineStep; next: number }> = [];
    const enter = (step: PipelineStep) => {
      if (state.get(step.name) === 'done') {
        return;
      }
      if (state.get(step.name) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(step.name)), step.name];
        throw invalid(`the steps form a cycle: ${cycle.join(' → ')} (each comes after the next)`);
      }
      state.set(step.name, 'visiting');
      path.push(step.name);
      stack.push({ step, next: 0 });
    };
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < top.step.after.length) {
        enter(byName.get(top.step.after[top.next++]) as PipelineStep);
        continue;
      }
      stack.pop();
      path.pop();
      state.set(top.step.name, 'done');
      order.push(top.step);
    }
  }
  return order;
}

/** A template may only name a step this one comes after, directly or not: else its value is not there yet. */
function refuseLooseReferences(ordered: PipelineStep[]): void {
  const byName = new Map(ordered.map(s => [s.name, s]));
  const before = new Map<string, Set<string>>();
  for (const step of ordered) {
    const all = new Set<string>();
    for (const name of step.after) {
      all.add(name);
      before.get(name)?.forEach(n => all.add(n));
    }
    before.set(step.name, all);
    for (const ref of step.references) {
      const source = byName.get(ref.step);
      if (!source) {
        throw invalid(
          `step "${step.name}" takes ${ref.text} in "${ref.parameter}", but there is no step "${ref.step}"`
        );
      }
      if (!all.has(ref.step)) {
        throw invalid(
          `step "${step.name}" takes ${ref.text} in "${ref.parameter}" but does not come after "${ref.step}": add it to its "after"`
        );
      }
      if (ref.field === 'summary' && !source.sweep) {
        throw invalid(
          `step "${step.name}" takes ${ref.text}, but "${ref.step}" is not a sweep: only a sweep has a summary.csv`
        );
      }
      if (ref.field === 'values' && source.sweep) {
        throw invalid(
          `step "${step.name}" takes ${ref.text}, but "${ref.step}" is a sweep, whose tasks each record their own: take {{ ${ref.step}.summary }}`
        );
      }
    }
  }
}

/** "steps[2].after: must be array", in the file's own terms. */
function schemaSentence(error: ErrorObject | undefined, data: unknown): string {
  if (!error) {
    return 'is not a pipeline';
  }
  if (error.instancePath === '' && (typeof data !== 'object' || data === null)) {
    return 'must be a mapping with a list of "steps"';
  }
  const where = error.instancePath
    .split('/')
    .slice(1)
    .map(part => (/^\d+$/.test(part) ? `[${Number(part) + 1}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  const extra =
    error.keyword === 'additionalProperties'
      ? ` ("${String((error.params as { additionalProperty?: string }).additionalProperty)}" is not a field of a pipeline or a step)`
      : error.keyword === 'maxItems'
        ? ' (1,000 steps at most)'
        : '';
  return `${where ? `${where}: ` : ''}${error.message ?? 'is not valid'}${extra}`;
}

function firstLine(e: unknown): string {
  return String((e as Error).message ?? e).split('\n')[0];
}
