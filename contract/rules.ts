/**
 * The few pure rules that the extension (src/), the companion (server/) and
 * the CLI must agree on. Like wire.ts, free of imports beyond the contract.
 */
import { FINAL_STATES, type Job, type JobState } from './wire';

/** A final job never changes again. */
export function isFinal(job: Pick<Job, 'state'>): boolean {
  return FINAL_STATES.includes(job.state);
}

/** Queued, running or unknown: the scheduler may still change it. */
export function isLive(job: Pick<Job, 'state'>): boolean {
  return !isFinal(job);
}

/** Newest first: by submission time, then by id (ids sort by time too). */
export function compareNewestFirst(
  a: Pick<Job, 'submittedAt' | 'id'>,
  b: Pick<Job, 'submittedAt' | 'id'>
): number {
  if (a.submittedAt !== b.submittedAt) {
    return a.submittedAt < b.submittedAt ? 1 : -1;
  }
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export function sortJobs<T extends Pick<Job, 'submittedAt' | 'id'>>(jobs: readonly T[]): T[] {
  return [...jobs].sort(compareNewestFirst);
}

export type { JobState };
