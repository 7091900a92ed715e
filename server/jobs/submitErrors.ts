/**
 * A submission's failures in the API's words: the scheduler not answering,
 * papermill's failures, and what went wrong while a job was written or launched.
 */
import { SchedulerUnreachableError } from '../executors/executor';
import { Refusal } from './refusal';
import { storageRefusal } from './storage';

export const notAnswering = (why: string | undefined): string =>
  `the scheduler is not answering${why ? ` (${why})` : ''}`;

export const NOTHING_SUBMITTED = 'nothing was submitted; try again in a minute';

/**
 * Papermill's answer, or its failure in words: a 400 for the request's fault
 * (parameters.ts says which), a 500 naming the Python for the companion's.
 */
export async function papermill<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw e instanceof Refusal ? e : new Refusal('failed', (e as Error).message);
  }
}

/** The answer to a submission that failed while its files were written or the job launched. */
export function submitError(e: unknown): Refusal {
  if (e instanceof Refusal) {
    return e;
  }
  if (e instanceof SchedulerUnreachableError) {
    return new Refusal('scheduler-down', `${notAnswering(e.message)}: ${NOTHING_SUBMITTED}`);
  }
  return (
    storageRefusal(e) ??
    new Refusal('scheduler-refused', `the scheduler refused the job: ${(e as Error).message}`)
  );
}
