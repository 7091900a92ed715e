/** The per-notebook choice stored under `hpc_submit` in the notebook's metadata; pure. */
import { NOTEBOOK_METADATA_KEY, type NotebookSubmitMetadata, type Profile } from '../contract/wire';

/** The two methods of JupyterLab 4's notebook model this module uses. */
export interface MetadataHolder {
  getMetadata(key: string): unknown;
  setMetadata(key: string, value: unknown): void;
}

export function readSubmitMetadata(value: unknown): NotebookSubmitMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {};
  }
  const v = value as Record<string, unknown>;
  const out: NotebookSubmitMetadata = {};
  if (typeof v.profile === 'string' && v.profile) {
    out.profile = v.profile;
  }
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
    profiles.find(p => p.id === meta.profile) ??
    profiles.find(p => p.id === defaultId) ??
    profiles[0]
  );
}

export function withProfile(meta: NotebookSubmitMetadata, profile: string): NotebookSubmitMetadata {
  return { ...meta, profile };
}

/** What the notebook holds under `hpc_submit`, read defensively. */
export function loadChoice(notebook: MetadataHolder | null | undefined): NotebookSubmitMetadata {
  return readSubmitMetadata(notebook?.getMetadata(NOTEBOOK_METADATA_KEY));
}

/**
 * Saves the picked profile, keeping the notebook's resources. Writes nothing
 * when the choice is unchanged, so merely opening a notebook never dirties it.
 * Returns whether it wrote.
 */
export function saveChoice(notebook: MetadataHolder, profile: string): boolean {
  const meta = loadChoice(notebook);
  if (meta.profile === profile) {
    return false;
  }
  notebook.setMetadata(NOTEBOOK_METADATA_KEY, withProfile(meta, profile));
  return true;
}
