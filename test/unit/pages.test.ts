/**
 * Pages of the job list: every job once across the pages, newest first, and
 * a cursor that still holds when jobs arrive or are forgotten between pages.
 */
import { compareNewestFirst } from '../../contract/rules';
import { cursorOf, pageOf, parseCursor, parseLimit } from '../../server/jobs/pages';

const job = (second: number, id: string) => ({
  submittedAt: `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`,
  id
});

/** Twelve jobs: tasks of one sweep share their submission time. */
const jobs = [
  ...Array.from({ length: 6 }, (_, i) => job(10, `20260101-000010-aaaaaa-${i}`)),
  ...Array.from({ length: 6 }, (_, i) => job(i, `20260101-00000${i}-bbbbbb`))
].sort(compareNewestFirst);

function allPages(list: typeof jobs, limit: number): string[][] {
  const pages: string[][] = [];
  let after: ReturnType<typeof parseCursor>;
  do {
    const { items, next } = pageOf(list, limit, after);
    pages.push(items.map(j => j.id));
    after = next === undefined ? undefined : parseCursor(next);
  } while (after);
  return pages;
}

test('the pages hold every job exactly once, in order', () => {
  for (const limit of [1, 5, 6, 12, 1000]) {
    const pages = allPages(jobs, limit);
    expect(pages.flat()).toEqual(jobs.map(j => j.id));
    expect(pages).toHaveLength(Math.ceil(jobs.length / limit));
  }
});

test('the last page has no next', () => {
  expect(pageOf(jobs, 12).next).toBeUndefined();
  expect(pageOf(jobs, 11).next).toBe(cursorOf(jobs[10]));
  expect(pageOf([], 5)).toEqual({ items: [] });
});

test('a newer job or a forgotten one between pages neither repeats nor skips a job', () => {
  const first = pageOf(jobs, 4);
  const after = parseCursor(first.next);
  const changed = [job(59, '20260101-000059-cccccc'), ...jobs.filter(j => j !== jobs[5])].sort(
    compareNewestFirst
  );
  const second = pageOf(changed, 4, after);
  expect(second.items.map(j => j.id)).toEqual(
    jobs
      .slice(4, 9)
      .filter(j => j !== jobs[5])
      .map(j => j.id)
  );
});

test('limit is a whole number from 1 to 1000', () => {
  expect(parseLimit(undefined)).toBeUndefined();
  expect(parseLimit('1')).toBe(1);
  expect(parseLimit('1000')).toBe(1000);
  for (const bad of ['0', '1001', '-1', '2.5', 'ten', '', ['1', '2']]) {
    expect(() => parseLimit(bad)).toThrow(/"limit" must be a whole number from 1 to 1000/);
  }
});

test('a cursor not made here is refused with a sentence', () => {
  for (const bad of ['nope', '', Buffer.from('[1,2]').toString('base64url'), ['a']]) {
    expect(() => parseCursor(bad)).toThrow(/"cursor" must be the "next" of an earlier page/);
  }
  expect(parseCursor(cursorOf(jobs[3]))).toEqual({
    submittedAt: jobs[3].submittedAt,
    id: jobs[3].id
  });
});
