/**
 * The site's hardware profiles: built-in defaults for two pixi environments
 * (gpu and default), or a JSON file checked against schema/profiles.schema.json,
 * and the pure rules by which a notebook's resource request is merged with
 * its profile.
 */
import { readFileSync } from 'node:fs';
import type { Profile, Resources } from '../../contract/wire';
import { invalid } from './refusal';
import { runtimeFile } from '../runtime/jobScript';
import { parseSlurmTime } from '../executors/slurmTime';
import { parseResources, timeExpected } from './submitRequest';

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
 * defaults when it has none). Pure; throws a 400 Refusal naming the field.
 */
export function resolveResources(profile: Profile, requested: unknown): Resources {
  const asked = requested === undefined || requested === null ? {} : parseResources(requested);
  const limits = profile.limits ?? profile.resources;
  checkPartition(profile, asked.partition);
  checkCount(profile, limits, 'gpus', asked.gpus);
  checkCount(profile, limits, 'cpus', asked.cpus);
  checkMemory(profile, limits, asked.memory);
  checkTime(profile, limits, asked.time);
  return { ...profile.resources, ...asked };
}

/** A profile runs on its own partition (or the one its limits name), nowhere else. */
function checkPartition(profile: Profile, partition: string | undefined): void {
  if (partition === undefined) {
    return;
  }
  const allowed = [profile.resources.partition, profile.limits?.partition].filter(Boolean);
  if (!allowed.includes(partition)) {
    throw invalid(
      `the profile "${profile.id}" runs on partition ${allowed.join(' or ') || '(default)'}, not ${JSON.stringify(partition)}`
    );
  }
}

function checkCount(
  profile: Profile,
  limits: Resources,
  key: 'gpus' | 'cpus',
  asked: number | undefined
): void {
  // A profile that names no GPUs has none to give.
  const most = limits[key] ?? (key === 'gpus' ? 0 : undefined);
  if (asked !== undefined && most !== undefined && asked > most) {
    throw invalid(`the profile "${profile.id}" allows at most ${most} ${key}, not ${asked}`);
  }
}

function checkMemory(profile: Profile, limits: Resources, memory: string | undefined): void {
  if (memory === undefined || limits.memory === undefined) {
    return;
  }
  const asked = memoryMegabytes(memory);
  const most = memoryMegabytes(limits.memory);
  if (asked !== null && most !== null && asked > most) {
    throw invalid(
      `the profile "${profile.id}" allows at most ${limits.memory} of memory, not ${memory}`
    );
  }
}

function checkTime(profile: Profile, limits: Resources, time: string | undefined): void {
  if (time === undefined) {
    return;
  }
  const asked = parseSlurmTime(time);
  if (asked === null) {
    // The schema's pattern lets "0" through, which is no length of time.
    throw invalid(timeExpected(time));
  }
  const most = parseSlurmTime(limits.time);
  if (most !== null && asked > most) {
    throw invalid(
      `the profile "${profile.id}" allows at most ${limits.time} of run time, not ${time}`
    );
  }
}
