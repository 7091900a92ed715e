/**
 * The values a run recorded, as nbconvert_config.py leaves them in the job's
 * directory (results.json: {"values": {name: value}, "notes": [...]}), read
 * once at the run's end into its record. Pure but for the read.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Results } from '../../contract/wire';

/** Written by the job (RESULTS_FILE in nbconvert_config.py). */
export const RESULTS_FILE = 'results.json';

/** What the job's limits allow, with room: a record never grows past this whatever wrote the file. */
const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_NOTES = 20;

export interface RecordedResults {
  results?: Results;
  resultNotes?: string[];
}

/** results.json's content as the record's fields; {} when absent, partial or foreign. */
export function parseResults(text: string): RecordedResults {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return {};
  }
  const { values, notes } = raw as { values?: unknown; notes?: unknown };
  const recorded: RecordedResults = {};
  if (values && typeof values === 'object' && !Array.isArray(values)) {
    const entries = Object.entries(values as Results);
    if (entries.length) {
      recorded.results = Object.fromEntries(entries);
    }
  }
  if (Array.isArray(notes)) {
    const kept = notes.filter((n): n is string => typeof n === 'string').slice(0, MAX_NOTES);
    if (kept.length) {
      recorded.resultNotes = kept.map(n => n.slice(0, 300));
    }
  }
  return recorded;
}

export async function readResults(jobDir: string): Promise<RecordedResults> {
  try {
    const text = await readFile(join(jobDir, RESULTS_FILE), 'utf8');
    return text.length > MAX_FILE_BYTES ? {} : parseResults(text);
  } catch {
    return {};
  }
}
