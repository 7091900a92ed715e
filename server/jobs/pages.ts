/**
 * Pages of GET /api/jobs. The list is newest first (compareNewestFirst); a
 * cursor names the last job of the page before, so a page never repeats or
 * skips a job when new ones arrive (they come before it) or older ones are
 * forgotten. The cursor is opaque to clients: base64url of that job's
 * submission time and id.
 */
import type { Job } from '../../contract/wire';
import { compareNewestFirst } from '../../contract/rules';
import { invalid } from './refusal';

const MAX_PAGE = 1000;

type Key = Pick<Job, 'submittedAt' | 'id'>;

/** `limit` from the query: absent, or a whole number from 1 to 1000. */
export function parseLimit(value: unknown): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = typeof value === 'string' && /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE)) {
    throw invalid(`"limit" must be a whole number from 1 to ${MAX_PAGE}, not ${show(value)}`);
  }
  return n;
}

/** `cursor` from the query: absent, or one a page of this list answered as `next`. */
export function parseCursor(value: unknown): Key | undefined {
  if (value === undefined) {
    return undefined;
  }
  const key = typeof value === 'string' ? decode(value) : null;
  if (!key) {
    throw invalid(
      `"cursor" must be the "next" of an earlier page, not ${show(value)}: start again without it`
    );
  }
  return key;
}

function decode(cursor: string): Key | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      parsed.every(part => typeof part === 'string')
    ) {
      return { submittedAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // not ours
  }
  return null;
}

export function cursorOf(job: Key): string {
  return Buffer.from(JSON.stringify([job.submittedAt, job.id])).toString('base64url');
}

/**
 * Pure: the `limit` items of `sorted` (newest first) that come after
 * `after`, and the cursor of the next page when more remain.
 */
export function pageOf<T extends Key>(
  sorted: readonly T[],
  limit: number,
  after?: Key
): { items: T[]; next?: string } {
  const start = after ? firstAfter(sorted, after) : 0;
  const items = sorted.slice(start, start + limit);
  const more = start + limit < sorted.length;
  return more ? { items, next: cursorOf(items[items.length - 1]) } : { items };
}

/** Binary search: the index of the first item that sorts after `key`. */
function firstAfter(sorted: readonly Key[], key: Key): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareNewestFirst(sorted[mid], key) <= 0) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low;
}

const show = (value: unknown): string => JSON.stringify(value)?.slice(0, 80) ?? String(value);
