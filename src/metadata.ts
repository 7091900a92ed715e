/** The per-notebook choice stored under `hpc_submit` in the notebook's metadata; pure. */
import {
  NOTEBOOK_METADATA_KEY,
  type NotebookSubmitMetadata,
  type Parameters,
  type ProfileStatus,
  type RunChoice,
  type SweepRequest
} from '../contract/wire';

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
  if (typeof v.environment === 'string' && v.environment) {
    out.environment = v.environment;
  }
  if (typeof v.resources === 'object' && v.resources !== null && !Array.isArray(v.resources)) {
    out.resources = v.resources as NotebookSubmitMetadata['resources'];
  }
  if (isRecord(v.parameters)) {
    out.parameters = v.parameters as Parameters;
  }
  const sweep = readSweep(v.sweep);
  if (sweep) {
    out.sweep = sweep;
  }
  const record = readRecord(v.record);
  if (record.length) {
    out.record = record;
  }
  return out;
}

/** The names to record: a list, or one string "loss, acc", as the job reads them. */
function readRecord(value: unknown): string[] {
  const names = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  return names
    .filter((n): n is string => typeof n === 'string' && n.trim() !== '')
    .map(n => n.trim());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stored sweep, keeping only what a sweep can hold: lists of values, a mode, a positive limit. */
function readSweep(value: unknown): SweepRequest | undefined {
  if (!isRecord(value) || !isRecord(value.parameters)) {
    return undefined;
  }
  const lists = Object.entries(value.parameters).filter(([, values]) => Array.isArray(values));
  if (lists.length === 0) {
    return undefined;
  }
  const sweep: SweepRequest = {
    parameters: Object.fromEntries(lists) as SweepRequest['parameters']
  };
  if (value.mode === 'product' || value.mode === 'zip') {
    sweep.mode = value.mode;
  }
  if (Number.isInteger(value.maxParallel) && (value.maxParallel as number) >= 1) {
    sweep.maxParallel = value.maxParallel as number;
  }
  return sweep;
}

/**
 * The choice a notebook runs with: its own (profile and environment) if it
 * is still offered, else the default profile (a project's environment on it
 * comes first in the list), else the first.
 */
export function chooseProfile<P extends Pick<ProfileStatus, 'id' | 'environment'>>(
  meta: NotebookSubmitMetadata,
  profiles: P[],
  defaultId: string | undefined
): P | undefined {
  return (
    profiles.find(p => p.id === meta.profile && p.environment?.name === meta.environment) ??
    profiles.find(p => p.id === defaultId) ??
    profiles[0]
  );
}

export function withChoice(
  meta: NotebookSubmitMetadata,
  choice: RunChoice
): NotebookSubmitMetadata {
  // A site profile picked after a project's environment: the environment goes.
  const next: NotebookSubmitMetadata = { ...meta, ...choice };
  if (choice.environment === undefined) {
    delete next.environment;
  }
  return next;
}

/** What the notebook holds under `hpc_submit`, read defensively. */
export function loadChoice(notebook: MetadataHolder | null | undefined): NotebookSubmitMetadata {
  return readSubmitMetadata(notebook?.getMetadata(NOTEBOOK_METADATA_KEY));
}

/**
 * Saves the picked profile (and environment), keeping the notebook's
 * resources. Writes nothing when the choice is unchanged, so merely opening
 * a notebook never dirties it. Returns whether it wrote.
 */
export function saveChoice(notebook: MetadataHolder, choice: RunChoice): boolean {
  const meta = loadChoice(notebook);
  if (meta.profile === choice.profile && meta.environment === choice.environment) {
    return false;
  }
  notebook.setMetadata(NOTEBOOK_METADATA_KEY, withChoice(meta, choice));
  return true;
}

/**
 * Saves the values of a run with parameters, to fill "Run with parameters…"
 * in next time: the fixed values, the sweep or none, and the variables to
 * record (which the run itself reads). Keeps the profile and resources.
 * Returns whether it wrote.
 */
export function saveRunValues(
  notebook: MetadataHolder,
  parameters: Parameters,
  sweep: SweepRequest | undefined,
  record: string[] = []
): boolean {
  return saveChanges(notebook, {
    parameters: Object.keys(parameters).length ? parameters : undefined,
    sweep,
    record
  });
}

/** Saves the variables the notebook's runs record (none: the key goes); returns whether it wrote. */
export function saveRecord(notebook: MetadataHolder, record: string[]): boolean {
  return saveChanges(notebook, { record });
}

/** The stored choice with `changes` over it (undefined or no names: the key goes); writes only a change. */
function saveChanges(notebook: MetadataHolder, changes: Partial<NotebookSubmitMetadata>): boolean {
  const before = loadChoice(notebook);
  const next: NotebookSubmitMetadata = { ...before, ...changes };
  for (const key of Object.keys(changes) as Array<keyof NotebookSubmitMetadata>) {
    const value = next[key];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) {
      delete next[key];
    }
  }
  if (JSON.stringify(next) === JSON.stringify(before)) {
    return false;
  }
  notebook.setMetadata(NOTEBOOK_METADATA_KEY, next);
  return true;
}
