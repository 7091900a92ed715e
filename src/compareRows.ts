/**
 * Two runs side by side: their parameters, recorded values and run records
 * as rows of one table, each row marked where the two differ. Pure, so it is
 * tested without a browser.
 */
import { type DetailRow, localDateTime, runDetailRows, taskName } from './labels';
import { cellText } from '../contract/results';
import type { Job, JobDetails } from '../contract/wire';

export interface CompareRow {
  label: string;
  /** What each run shows; "—" where it has no such row. */
  a: string;
  b: string;
  differs: boolean;
}

const ABSENT = '—';

/** A run's column header: a sweep's task by its values, any other run by when it was submitted. */
export function runHeading(job: Job): string {
  if (job.taskIndex !== undefined) {
    return taskName(job);
  }
  return `run of ${localDateTime(job.submittedAt) ?? job.submittedAt}`;
}

/** "Parameter: lr" rows, in the order the run was given them. */
export function parameterRows(job: Job): DetailRow[] {
  return Object.entries(job.parameters ?? {}).map(([name, value]) => [
    `Parameter: ${name}`,
    cellText(value)
  ]);
}

/** Every row either run has, in A's order then B's extras; the same label pairs up. */
export function compareRows(a: DetailRow[], b: DetailRow[]): CompareRow[] {
  const fromB = new Map(b);
  const labels = [...new Set([...a.map(([label]) => label), ...b.map(([label]) => label)])];
  const fromA = new Map(a);
  return labels.map(label => {
    const left = fromA.get(label) ?? ABSENT;
    const right = fromB.get(label) ?? ABSENT;
    return { label, a: left, b: right, differs: left !== right };
  });
}

/** The rows of Compare for two runs' details: parameters first, then the run records (values included). */
export function compareDetails(a: JobDetails, b: JobDetails): CompareRow[] {
  const rows = (d: JobDetails) => [...parameterRows(d.job), ...runDetailRows(d.job, d.run)];
  return compareRows(rows(a), rows(b));
}

/** Why one run's executed notebook cannot be diffed, in words; undefined when it can. */
export function undiffable(details: JobDetails): string | undefined {
  if (details.executed) {
    return undefined;
  }
  return details.note
    ? `${runHeading(details.job)} has no executed notebook to diff: ${details.note}`
    : `${runHeading(details.job)} has no executed notebook to diff`;
}

/** The two runs the command's arguments name, or why there are not two, in words. */
export function comparedPair(
  jobs: readonly Job[],
  args: { a?: unknown; b?: unknown; id?: unknown },
  front: string | undefined
): [string, string] | string {
  if (typeof args.a === 'string' && typeof args.b === 'string') {
    return args.a === args.b ? 'Compare needs two different runs.' : [args.a, args.b];
  }
  const single = (j: Job) => !j.outsideRoot && j.sweepId === undefined;
  if (typeof args.id === 'string') {
    const job = jobs.find(j => j.id === args.id);
    const before = job && runBefore(jobs, job);
    return before
      ? [before.id, job.id]
      : `No earlier run of ${job?.notebook ?? args.id} to compare with.`;
  }
  const runs = jobs.filter(j => single(j) && j.notebook === front);
  return runs.length >= 2
    ? [runs[1].id, runs[0].id]
    : "Compare needs two runs of the notebook in front: run it twice, or pick two tasks in a sweep's Results.";
}

/** The run of the same notebook submitted just before `job` (jobs are newest first); a task's is the task before it. */
function runBefore(jobs: readonly Job[], job: Job): Job | undefined {
  const at = jobs.indexOf(job);
  return jobs
    .slice(at + 1)
    .find(
      j =>
        j.notebook === job.notebook &&
        (job.sweepId === undefined ? j.sweepId === undefined : j.sweepId === job.sweepId)
    );
}
