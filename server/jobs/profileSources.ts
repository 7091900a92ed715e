/**
 * Where the profiles come from: the file named by --profiles or
 * HPC_SUBMIT_PROFILES when there is one (it wins whole, as before), else
 * `hpc_submit/profiles.json` in each of Jupyter's config directories, which
 * the Python side resolves with jupyter_core (highest priority first, as
 * jupyter_core lists them) and hands over. A later-listed file is read first
 * and a higher-priority one adds or overrides profiles by id; a file that
 * cannot be read or does not match the schema is named in `problems` while
 * the others still load.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Profile } from '../../contract/wire';
import { DEFAULT_PROFILES, loadProfiles } from './profiles';

export const BUILT_IN = 'built-in';
export const CONFIG_FILE = join('hpc_submit', 'profiles.json');

export interface ProfileSet extends ProfileOrigins {
  profiles: Profile[];
}

export interface ProfileOrigins {
  /** Each profile's id → the file it came from, or "built-in". */
  sources: Record<string, string>;
  /** One sentence per file that did not load, naming it. */
  problems: string[];
}

export function loadProfileSet(file: string | undefined, configDirs: string[] = []): ProfileSet {
  if (file) {
    const profiles = loadProfiles(file);
    return { profiles, sources: bySource(profiles, file), problems: [] };
  }
  const merged = new Map<string, Profile>();
  const sources: Record<string, string> = {};
  const problems: string[] = [];
  for (const dir of [...configDirs].reverse()) {
    const candidate = join(dir, CONFIG_FILE);
    if (!existsSync(candidate)) {
      continue;
    }
    try {
      for (const p of loadProfiles(candidate)) {
        merged.set(p.id, p);
        sources[p.id] = candidate;
      }
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (merged.size === 0) {
    return { profiles: DEFAULT_PROFILES, sources: bySource(DEFAULT_PROFILES, BUILT_IN), problems };
  }
  return { profiles: [...merged.values()], sources, problems };
}

/** JUPYTER_CONFIG_PATH's convention: directories joined by the platform's path delimiter. */
export function splitConfigPath(value: string | undefined): string[] {
  return (value ?? '').split(delimiter).filter(Boolean);
}

function bySource(profiles: Profile[], source: string): Record<string, string> {
  return Object.fromEntries(profiles.map(p => [p.id, source]));
}
