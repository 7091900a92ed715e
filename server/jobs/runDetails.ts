/**
 * "Run details" of one job: its run record, read from its executed notebook
 * (the output file while it holds this run's, else the copy kept when a
 * later run replaced it), else from what the companion knew at submission,
 * and its status.json.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job, JobDetails, RunRecord } from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import { readJobStatus } from './jobStatus';
import { RUN_FACTS_FILE } from '../runtime/runFacts';

/**
 * The copy of a run's executed notebook that the run replacing it keeps in
 * this run's job directory (KEPT_NOTEBOOK_FILE in nbconvert_config.py).
 */
export const KEPT_NOTEBOOK_FILE = 'executed.ipynb';

/** An executed notebook larger than this is not parsed for its run record: it would stall the companion. */
const NOTEBOOK_PARSE_LIMIT = 50 * 1024 * 1024;

/**
 * "Run details": the job, its run record (the executed notebook's, else what
 * the companion knew at submission) and its status.json.
 */
export async function jobDetails(
  job: Job,
  outputPath: string,
  jobDir: string
): Promise<JobDetails> {
  const keptPath = join(jobDir, KEPT_NOTEBOOK_FILE);
  const [kept, status] = await Promise.all([
    notebookRunRecord(keptPath, job.id),
    readJobStatus(jobDir)
  ]);
  if ('run' in kept) {
    const executed = { path: keptPath, kept: true };
    return { job, run: kept.run, runSource: 'notebook', executed, status };
  }
  const fromNotebook = await notebookRunRecord(outputPath, job.id);
  if ('run' in fromNotebook) {
    const executed = { path: job.output, kept: false };
    return { job, run: fromNotebook.run, runSource: 'notebook', executed, status };
  }
  if (fromNotebook.tooLarge) {
    return { job, run: null, runSource: null, note: fromNotebook.note, executed: null, status };
  }
  const facts = await submissionFacts(jobDir);
  const note =
    fromNotebook.note ??
    (isFinal(job)
      ? 'the executed notebook holds no run record of this run'
      : 'the run record is written into the executed notebook when the run ends');
  return facts
    ? { job, run: facts, runSource: 'submission', note, executed: null, status }
    : { job, run: null, runSource: null, note, executed: null, status };
}

type NotebookRecord = { run: RunRecord } | { note?: string; tooLarge?: boolean };

/**
 * metadata.hpc_submit.run of the executed notebook, when it is this job's:
 * the output path is the same for every run of a notebook, and an earlier
 * run's record must not be shown as this one's.
 */
async function notebookRunRecord(path: string, jobId: string): Promise<NotebookRecord> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return {};
  }
  if (size > NOTEBOOK_PARSE_LIMIT) {
    const mb = Math.round(size / (1024 * 1024));
    return {
      tooLarge: true,
      note: `the executed notebook is ${mb} MB, more than 50 MB: its run record is not read`
    };
  }
  let notebook: { metadata?: { hpc_submit?: { run?: unknown } } };
  try {
    notebook = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    return { note: `the executed notebook cannot be read: ${(e as Error).message}` };
  }
  const run = notebook?.metadata?.hpc_submit?.run;
  if (!run || typeof run !== 'object' || Array.isArray(run)) {
    return {};
  }
  return (run as RunRecord).jobId === jobId ? { run: run as RunRecord } : {};
}

/** run.json's facts in the run record's terms (the notebook's path is the job's own). */
async function submissionFacts(jobDir: string): Promise<Partial<RunRecord> | null> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(jobDir, RUN_FACTS_FILE), 'utf8'));
  } catch {
    return null; // a job submitted before run.json existed, or one being removed
  }
  if (!raw || typeof raw !== 'object') {
    return null;
  }
  const { jobId, executor, profile, resources, launcher } = raw as Partial<RunRecord>;
  return { jobId, executor, profile, resources, launcher };
}
