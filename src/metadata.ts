/** The per-notebook choice stored under `hpc_submit` in the notebook's metadata; pure. */
import type { NotebookSubmitMetadata, Profile } from './wire';

export function readSubmitMetadata(value: unknown): NotebookSubmitMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const v = value as Record<string, unknown>;
  const out: NotebookSubmitMetadata = {};
  if (typeof v.profile === 'string') out.profile = v.profile;
  if (typeof v.resources === 'object' && v.resources !== null && !Array.isArray(v.resources)) {
    out.resources = v.resources as NotebookSubmitMetadata['resources'];
  }
  return out;
}

/** The profile a notebook runs with: its own choice if the site still has it, else the default, else the first. */
export function chooseProfile<P extends Pick<Profile, 'id'>>(
  meta: NotebookSubmitMetadata,
  profiles: P[],
  defaultId: string | undefined
): P | undefined {
  return (
    profiles.find((p) => p.id === meta.profile) ??
    profiles.find((p) => p.id === defaultId) ??
    profiles[0]
  );
}

export function withProfile(meta: NotebookSubmitMetadata, profile: string): NotebookSubmitMetadata {
  return { ...meta, profile };
}
