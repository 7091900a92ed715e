/**
 * A pixi project as its manifest describes it: its name, its environments
 * and the CUDA each needs, and this tool's own `[tool.hpc-submit]` table.
 * Pure: the text of `pixi.toml` or `pyproject.toml` in, a PixiProject out,
 * read with a real TOML parser (smol-toml) and pixi's own rules:
 *
 * - the name is `[workspace].name` (older manifests: `[project].name`); in a
 *   pyproject.toml, `[tool.pixi.workspace]`, else the `[project]` table's;
 * - the `default` environment always exists and holds the default feature
 *   (the manifest's top level); `[environments]` lists the others, each a
 *   list of features or `{ features, no-default-feature }`;
 * - an environment needs CUDA when one of its features (the default one
 *   included, unless left out) names `system-requirements.cuda`; the highest
 *   version named wins, as pixi merges them.
 */
import { basename, dirname } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parse } from 'smol-toml';

export interface PixiEnvironment {
  name: string;
  /** The CUDA version it requires, when it needs CUDA. */
  cuda?: string;
}

/** `[tool.hpc-submit.environments.<env>]`: which hardware it goes with, and its kernel. */
export interface EnvironmentSettings {
  /** Ids of the site's profiles it is offered on (default: see pairing in projectChoices.ts). */
  profiles?: string[];
  /** The kernel's name (default `<project>-<env>`). */
  kernel?: string;
}

export interface PixiProject {
  name: string;
  /** The manifest's absolute path. */
  manifest: string;
  /** The project's folder: where `.pixi/envs/` lies. */
  dir: string;
  environments: PixiEnvironment[];
  /** `[tool.hpc-submit.environments]`: when present, only these environments are offered. */
  settings?: Record<string, EnvironmentSettings>;
}

/** pixi's rule for an environment's name. */
const ENVIRONMENT_NAME = /^[a-z0-9-]{1,64}$/;

type Table = Record<string, unknown>;

const isTable = (v: unknown): v is Table =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const table = (v: unknown): Table => (isTable(v) ? v : {});

/** The TOML of a pyproject.toml says it is a pixi project. */
export function isPixiPyproject(text: string): boolean {
  try {
    return isTable(table(parse(text).tool).pixi);
  } catch {
    return false;
  }
}

/**
 * The project a manifest describes; throws an Error naming the manifest and
 * what is wrong with it.
 */
export function parsePixiManifest(text: string, manifest: string): PixiProject {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (e) {
    throw new Error(`${manifest} is not valid TOML: ${firstLine(e)}`);
  }
  const pyproject = basename(manifest) === 'pyproject.toml';
  const pixi = pyproject ? table(table(doc.tool).pixi) : doc;
  const dir = dirname(manifest);
  const project: PixiProject = {
    name: projectName(doc, pixi, pyproject) ?? basename(dir),
    manifest,
    dir,
    environments: environmentsOf(pixi, manifest)
  };
  const settings = settingsOf(table(doc.tool)['hpc-submit'], project, manifest);
  return settings ? { ...project, settings } : project;
}

function projectName(doc: Table, pixi: Table, pyproject: boolean): string | undefined {
  const names = [table(pixi.workspace).name, table(pixi.project).name];
  if (pyproject) {
    names.push(table(doc.project).name);
  }
  return names.find((n): n is string => typeof n === 'string' && n.trim() !== '');
}

function environmentsOf(pixi: Table, manifest: string): PixiEnvironment[] {
  const defaultCuda = cudaOf(pixi);
  const features = table(pixi.feature);
  const declared = table(pixi.environments);
  const out: PixiEnvironment[] = [];
  if (!('default' in declared)) {
    out.push(withCuda('default', [defaultCuda]));
  }
  for (const [name, value] of Object.entries(declared)) {
    if (!ENVIRONMENT_NAME.test(name)) {
      throw new Error(
        `${manifest}: the environment name ${JSON.stringify(name)} is not one pixi accepts (lowercase letters, digits and -)`
      );
    }
    const spec = Array.isArray(value) ? { features: value } : table(value);
    const listed = Array.isArray(spec.features) ? spec.features : [];
    const cudas = listed.map(f => (typeof f === 'string' ? cudaOf(table(features[f])) : undefined));
    if (spec['no-default-feature'] !== true) {
      cudas.push(defaultCuda);
    }
    out.push(withCuda(name, cudas));
  }
  return out;
}

function cudaOf(feature: Table): string | undefined {
  const cuda = table(feature['system-requirements']).cuda;
  return typeof cuda === 'string' || typeof cuda === 'number' ? String(cuda) : undefined;
}

function withCuda(name: string, cudas: Array<string | undefined>): PixiEnvironment {
  const named = cudas.filter((c): c is string => c !== undefined);
  return named.length ? { name, cuda: named.reduce(higherVersion) } : { name };
}

/** "12.10" is above "12.8": versions compare part by part, as numbers. */
export function higherVersion(a: string, b: string): string {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) {
      return d > 0 ? a : b;
    }
  }
  return a;
}

function settingsOf(
  value: unknown,
  project: PixiProject,
  manifest: string
): Record<string, EnvironmentSettings> | undefined {
  if (value === undefined) {
    return undefined;
  }
  const where = `${manifest} [tool.hpc-submit]`;
  const validate = toolValidator();
  if (!validate(value)) {
    const e = (validate.errors ?? [])[0];
    throw new Error(`${where}${e?.instancePath ?? ''} ${e?.message ?? 'is not valid'}`);
  }
  const environments = (value as { environments?: Record<string, EnvironmentSettings> })
    .environments;
  const known = project.environments.map(e => e.name);
  for (const name of Object.keys(environments ?? {})) {
    if (!known.includes(name)) {
      throw new Error(
        `${where} names the environment "${name}", which the project does not have (it has ${known.join(', ')})`
      );
    }
  }
  return environments;
}

let compiled: ValidateFunction | null = null;

/** Compiled at the first project read: an idle companion keeps no validator. */
function toolValidator(): ValidateFunction {
  if (!compiled) {
    /* eslint-disable @typescript-eslint/no-var-requires */
    const Ajv = (require('ajv') as typeof import('ajv')).default;
    const schema = require('../../schema/pixi-tool.schema.json') as object;
    /* eslint-enable @typescript-eslint/no-var-requires */
    compiled = new Ajv().compile(schema);
  }
  return compiled;
}

function firstLine(e: unknown): string {
  return String((e as Error).message ?? e).split('\n')[0];
}
