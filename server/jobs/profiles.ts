/**
 * The site's hardware profiles: built-in defaults that follow the seed's two
 * pixi environments, or a JSON file checked against schema/profiles.schema.json,
 * and the pure rules by which a notebook's resource request is merged with
 * its profile.
 */
import { readFileSync } from 'node:fs';
import type { Profile, Resources } from '../../contract/wire';
import { badRequest } from '../http/httpError';
import { runtimeFile } from '../runtime/jobScript';
import { parseSlurmTime } from '../executors/slurmTime';

export const DEFAULT_PROFILES: Profile[] = [
  {
    id: 'gpu',
    label: 'GPU node',
    kernel: 'convcnp-gpu',
    launcher: ['pixi', 'run', '-e', 'gpu'],
    resources: { partition: 'gpu', gpus: 1, cpus: 4, memory: '32G', time: '04:00:00' },
    requireGpu: true
  },
  {
    id: 'cpu',
    label: 'CPU node',
    kernel: 'convcnp-cpu',
    launcher: ['pixi', 'run', '-e', 'default'],
    resources: { partition: 'cpu', cpus: 2, memory: '8G', time: '01:00:00' }
  }
];

/** Loads and validates a profiles file; throws an Error with every problem named. */
export function loadProfiles(file: string | undefined): Profile[] {
  if (!file) {
    return DEFAULT_PROFILES;
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the profiles file ${file}: ${(e as Error).message}`);
  }
  return validateProfiles(data, file);
}

export function validateProfiles(data: unknown, source = 'profiles'): Profile[] {
  // Loaded only here: most of a companion's life needs no schema validator in memory.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const Ajv = (require('ajv') as typeof import('ajv')).default;
  const ajv = new Ajv({ allErrors: true });
  const validate = ajv.compile(
    JSON.parse(readFileSync(runtimeFile('profiles.schema.json'), 'utf8'))
  );
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map(e => `${e.instancePath || '/'} ${e.message}`);
    throw new Error(`${source} does not match the profiles schema: ${problems.join('; ')}`);
  }
  const profiles = (data as { profiles: Profile[] }).profiles;
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.id)) {
      throw new Error(`${source}: the profile id "${p.id}" is used twice`);
    }
    seen.add(p.id);
  }
  return profiles;
}

const MEMORY = /^([1-9][0-9]{0,8})([KMGT]?)$/;
const UNIT_MB: Record<string, number> = { K: 1 / 1024, '': 1, M: 1, G: 1024, T: 1024 * 1024 };

/** Slurm memory ("32G", "512M", "1000" = MB) in megabytes, or null when malformed. */
export function memoryMegabytes(memory: string): number | null {
  const m = MEMORY.exec(memory);
  return m ? Number(m[1]) * UNIT_MB[m[2]] : null;
}

/**
 * The resources of a run: the profile's defaults, overridden by what the
 * notebook asks for, within the profile's limits (its `limits`, or its
 * defaults when it has none). Pure; throws a 400 HttpError naming the field.
 */
export function resolveResources(profile: Profile, requested: unknown): Resources {
  if (requested === undefined || requested === null) {
    return { ...profile.resources };
  }
  if (typeof requested !== 'object' || Array.isArray(requested)) {
    throw badRequest('"resources" must be an object such as {"gpus": 1, "time": "02:00:00"}');
  }
  const r = requested as Record<string, unknown>;
  const limits = profile.limits ?? profile.resources;
  const out: Resources = { ...profile.resources };
  for (const key of Object.keys(r)) {
    if (!['partition', 'gpus', 'cpus', 'memory', 'time'].includes(key)) {
      throw badRequest(`unknown resource "${key}": use partition, gpus, cpus, memory or time`);
    }
  }
  if (r.partition !== undefined) {
    const allowed = [profile.resources.partition, profile.limits?.partition].filter(Boolean);
    if (typeof r.partition !== 'string' || !allowed.includes(r.partition)) {
      throw badRequest(
        `the profile "${profile.id}" runs on partition ${allowed.join(' or ') || '(default)'}, not ${JSON.stringify(r.partition)}`
      );
    }
    out.partition = r.partition;
  }
  for (const key of ['gpus', 'cpus'] as const) {
    const v = r[key];
    if (v === undefined) {
      continue;
    }
    const least = key === 'gpus' ? 0 : 1;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < least) {
      throw badRequest(
        `"${key}" must be a whole number of at least ${least}, not ${JSON.stringify(v)}`
      );
    }
    const most = limits[key] ?? (key === 'gpus' ? 0 : undefined);
    if (most !== undefined && v > most) {
      throw badRequest(`the profile "${profile.id}" allows at most ${most} ${key}, not ${v}`);
    }
    out[key] = v;
  }
  if (r.memory !== undefined) {
    const asked = typeof r.memory === 'string' ? memoryMegabytes(r.memory) : null;
    if (asked === null) {
      throw badRequest(`"memory" must look like "32G" or "512M", not ${JSON.stringify(r.memory)}`);
    }
    const most = limits.memory ? memoryMegabytes(limits.memory) : null;
    if (most !== null && asked > most) {
      throw badRequest(
        `the profile "${profile.id}" allows at most ${limits.memory} of memory, not ${r.memory}`
      );
    }
    out.memory = r.memory as string;
  }
  if (r.time !== undefined) {
    const asked = typeof r.time === 'string' ? parseSlurmTime(r.time) : null;
    if (asked === null) {
      throw badRequest(
        `"time" must look like "04:00:00", "1-00:00:00" or "30", not ${JSON.stringify(r.time)}`
      );
    }
    const most = parseSlurmTime(limits.time);
    if (most !== null && asked > most) {
      throw badRequest(
        `the profile "${profile.id}" allows at most ${limits.time} of run time, not ${r.time}`
      );
    }
    out.time = r.time as string;
  }
  return out;
}
