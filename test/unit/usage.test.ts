/**
 * The summaries of a run's own samples (usage.jsonl): live use, the GPU idle
 * warning, and the efficiency after the end with its hints. Pure functions,
 * plus the reader of the file on a temporary directory.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GpuUse, Job, UsagePoint } from '../../contract/wire';
import {
  HISTORY_POINTS,
  TAIL_BYTES,
  USAGE_FILE,
  efficiencyOf,
  emptyTotals,
  finalUsage,
  foldUsage,
  formatBytes,
  formatDuration,
  gpuIdleMinutesFrom,
  gpuIdleWarning,
  parseUsageLines,
  readUsage,
  summarizeUsage
} from '../../server/jobs/usage';

const GiB = 1024 ** 3;
const START = Date.parse('2025-03-01T10:00:00Z');

/** A sample `seconds` after START. */
function point(seconds: number, over: Partial<UsagePoint> = {}): UsagePoint {
  return {
    t: new Date(START + seconds * 1000).toISOString(),
    cpuPercent: 100,
    rssBytes: GiB,
    ...over
  };
}

const gpu = (index: number, util: number): GpuUse => ({
  index,
  util,
  memUsedMiB: 1000,
  memTotalMiB: 81920
});

type JobFacts = Pick<Job, 'state' | 'resources' | 'startedAt' | 'endedAt'>;

function job(over: Partial<JobFacts> = {}): JobFacts {
  return {
    state: 'completed',
    resources: {},
    startedAt: new Date(START).toISOString(),
    ...over
  };
}

/** Samples every `step` seconds from `step` to `until`. */
function every(step: number, until: number, over: (s: number) => Partial<UsagePoint> = () => ({})) {
  const points: UsagePoint[] = [];
  for (let s = step; s <= until; s += step) {
    points.push(point(s, over(s)));
  }
  return points;
}

describe('parseUsageLines', () => {
  test('keeps a partial last line for the next read and skips what is not a sample', () => {
    const whole = JSON.stringify(point(10));
    const text = [whole, '{"t": "torn', 'not json', '{"t":"2025-03-01T10:00:20Z"}', whole].join(
      '\n'
    );
    const { points, rest } = parseUsageLines(`${text}\n{"t":"2025-03-01T10:00:30Z","cpu`);
    assert.equal(points.length, 2);
    assert.equal(rest, '{"t":"2025-03-01T10:00:30Z","cpu');
    assert.deepEqual(parseUsageLines(`${whole}\n`), { points: [point(10)], rest: '' });
  });
});

describe('summarizeUsage', () => {
  test('latest, the last 30 points, peak memory, mean GPU use and the memory asked', () => {
    const points = every(10, 600, s => ({
      rssBytes: s === 300 ? 5 * GiB : GiB,
      gpus: [gpu(0, 40), gpu(1, 60)]
    }));
    const summary = summarizeUsage(
      foldUsage(emptyTotals(), points),
      job({
        resources: { memory: '32G', gpus: 2 }
      })
    );
    assert.equal(summary.history.length, HISTORY_POINTS);
    assert.deepEqual(summary.history, points.slice(-HISTORY_POINTS));
    assert.deepEqual(summary.latest, points[points.length - 1]);
    assert.equal(summary.peakRssBytes, 5 * GiB);
    assert.equal(summary.meanGpuUtil, 50);
    assert.equal(summary.memoryAskedBytes, 32 * GiB);
    assert.equal(summary.gpuIdleWarning, undefined);
  });

  test('without GPUs there is no mean GPU use; without memory asked, no figure for it', () => {
    const summary = summarizeUsage(foldUsage(emptyTotals(), every(10, 30)), job());
    assert.equal(summary.meanGpuUtil, undefined);
    assert.equal(summary.memoryAskedBytes, undefined);
    assert.equal(summary.peakRssBytes, GiB);
  });

  test('folding in pieces gives what folding at once gives', () => {
    const points = every(10, 400, s => ({ cpuPercent: s % 70, gpus: [gpu(0, s % 9)] }));
    const once = foldUsage(emptyTotals(), points);
    const pieces = foldUsage(foldUsage(emptyTotals(), points.slice(0, 7)), points.slice(7));
    assert.deepEqual(pieces, once);
  });
});

describe('the GPU idle warning', () => {
  const gpuJob = job({ resources: { gpus: 1 }, state: 'running' });
  const idle = (until: number) =>
    foldUsage(
      emptyTotals(),
      every(10, until, () => ({ gpus: [gpu(0, 0)] }))
    );

  test('after 5 minutes at 0% since the start, when the job asked for a GPU', () => {
    assert.equal(gpuIdleWarning(idle(290), gpuJob), undefined);
    assert.equal(
      gpuIdleWarning(idle(300), gpuJob),
      'GPU idle for 5 min — is the notebook using it?'
    );
    assert.equal(
      summarizeUsage(idle(300), gpuJob).gpuIdleWarning,
      'GPU idle for 5 min — is the notebook using it?'
    );
  });

  test('the period is an option; under a minute it is said in seconds', () => {
    assert.equal(
      gpuIdleWarning(idle(30), gpuJob, { gpuIdleMinutes: 0.5 }),
      'GPU idle for 30 s — is the notebook using it?'
    );
    assert.equal(gpuIdleWarning(idle(20), gpuJob, { gpuIdleMinutes: 0.5 }), undefined);
  });

  test('not once the GPU was busy, nor for a job that asked for none, nor without GPU figures', () => {
    const busyOnce = foldUsage(
      emptyTotals(),
      every(10, 600, s => ({ gpus: [gpu(0, s === 20 ? 5 : 0)] }))
    );
    assert.equal(gpuIdleWarning(busyOnce, gpuJob), undefined);
    assert.equal(gpuIdleWarning(idle(600), job({ state: 'running' })), undefined);
    assert.equal(gpuIdleWarning(foldUsage(emptyTotals(), every(10, 600)), gpuJob), undefined);
    // One of two GPUs busy: the notebook uses the GPUs.
    const oneBusy = foldUsage(
      emptyTotals(),
      every(10, 600, () => ({ gpus: [gpu(0, 0), gpu(1, 30)] }))
    );
    assert.equal(gpuIdleWarning(oneBusy, job({ resources: { gpus: 2 } })), undefined);
  });

  test('from a file read only at its tail, the period counts from the first sample seen', () => {
    const late = foldUsage(
      emptyTotals(),
      every(10, 120, s => ({ gpus: [gpu(0, 0)] })).map(p => ({
        ...p,
        t: new Date(Date.parse(p.t) + 3600_000).toISOString()
      }))
    );
    assert.ok(gpuIdleWarning(late, gpuJob, { fromStart: true }));
    assert.equal(gpuIdleWarning(late, gpuJob, { fromStart: false }), undefined);
  });
});

describe('efficiencyOf', () => {
  test('wall against the limit, peak against memory asked, mean GPU use, CPU efficiency', () => {
    // 1 hour, 4 CPUs asked, 200% of one core throughout: 50% efficiency.
    const samples = every(10, 3600, () => ({ cpuPercent: 200, gpus: [gpu(0, 60)] }));
    const e = efficiencyOf(
      job({
        endedAt: new Date(START + 3600_000).toISOString(),
        resources: { cpus: 4, memory: '2G', time: '02:00:00', gpus: 1 }
      }),
      samples
    );
    assert.ok(e);
    assert.equal(e.wallSeconds, 3600);
    assert.equal(e.timeLimitSeconds, 7200);
    assert.equal(e.peakRssBytes, GiB);
    assert.equal(e.memoryAskedBytes, 2 * GiB);
    assert.equal(e.meanGpuUtil, 60);
    assert.equal(e.cpuEfficiency, 50);
    assert.equal(e.source, 'samples');
    assert.deepEqual(e.hints, []);
  });

  test('hints where the request was far above use', () => {
    const samples = every(10, 1728, s => ({
      rssBytes: s === 600 ? 3.1 * GiB : GiB,
      gpus: [gpu(0, s % 20 === 0 ? 6 : 0)]
    }));
    const e = efficiencyOf(
      job({
        endedAt: new Date(START + 1728_000).toISOString(),
        resources: { memory: '32G', time: '4:00:00', gpus: 1 }
      }),
      samples
    );
    assert.deepEqual(e?.hints, [
      'peak 3.1 GiB of 32 GiB asked',
      'used 12% of the 4:00:00 asked',
      'GPU busy 3% on average'
    ]);
  });

  test('no hints for a run that did not complete; nothing for one that never started', () => {
    const samples = every(10, 60);
    const failed = efficiencyOf(
      job({
        state: 'failed',
        endedAt: new Date(START + 60_000).toISOString(),
        resources: { memory: '32G', time: '4:00:00' }
      }),
      samples
    );
    assert.deepEqual(failed?.hints, []);
    assert.equal(failed?.wallSeconds, 60);
    assert.equal(efficiencyOf(job({ state: 'cancelled', startedAt: undefined }), []), undefined);
  });

  test('a run without samples still has its wall time, and no figures it did not measure', () => {
    const e = efficiencyOf(
      job({ endedAt: new Date(START + 90_000).toISOString(), resources: { time: '30' } }),
      []
    );
    assert.deepEqual(e, {
      wallSeconds: 90,
      timeLimitSeconds: 1800,
      source: 'samples',
      hints: ['used 5% of the 0:30:00 asked']
    });
  });

  test('formats', () => {
    assert.equal(formatBytes(3.14 * GiB), '3.1 GiB');
    assert.equal(formatBytes(32 * GiB), '32 GiB');
    assert.equal(formatBytes(180 * 1024 * 1024), '180 MiB');
    assert.equal(formatDuration(4 * 3600), '4:00:00');
    assert.equal(formatDuration(86400 + 12 * 3600 + 61), '1-12:01:01');
  });
});

describe('readUsage: only the new bytes of usage.jsonl', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-usage-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const line = (p: UsagePoint) => JSON.stringify(p) + '\n';

  test('no file: no samples; then lines as they come, a torn last line completed later', async () => {
    const none = await readUsage(dir);
    assert.equal(none.totals.points, 0);
    const file = join(dir, USAGE_FILE);
    writeFileSync(file, line(point(10)) + line(point(20)));
    const first = await readUsage(dir, none);
    assert.equal(first.totals.points, 2);
    const whole = line(point(30, { rssBytes: 2 * GiB }));
    appendFileSync(file, whole.slice(0, 20));
    const torn = await readUsage(dir, first);
    assert.equal(torn.totals.points, 2, 'a line still being written is not a sample yet');
    assert.equal(torn.rest, whole.slice(0, 20));
    appendFileSync(file, whole.slice(20));
    const completed = await readUsage(dir, torn);
    assert.equal(completed.totals.points, 3);
    assert.equal(completed.totals.peakRssBytes, 2 * GiB);
    assert.equal(completed.fromStart, true);
    const again = await readUsage(dir, completed);
    assert.equal(again, completed, 'nothing new: the same reading');
  });

  test('a first look at a long file reads its last 64 KiB, from the first whole line', async () => {
    const points = every(1, 2000);
    writeFileSync(join(dir, USAGE_FILE), points.map(line).join(''));
    const tail = await readUsage(dir, undefined, { tail: true });
    assert.equal(tail.fromStart, false);
    assert.ok(tail.totals.points < points.length);
    assert.ok(tail.totals.points * line(points[0]).length <= TAIL_BYTES);
    assert.deepEqual(tail.totals.history[HISTORY_POINTS - 1], points[points.length - 1]);
    // At the end, every sample: the file read whole.
    const all = await finalUsage(dir, tail);
    assert.equal(all.totals.points, points.length);
    assert.equal(all.fromStart, true);
  });

  test('at the end an unfinished last line counts when it is whole JSON', async () => {
    writeFileSync(join(dir, USAGE_FILE), line(point(10)) + JSON.stringify(point(20)));
    const end = await finalUsage(dir);
    assert.equal(end.totals.points, 2);
  });
});

test('HPC_SUBMIT_GPU_IDLE_MINUTES: a positive number, or a clear error', () => {
  assert.equal(gpuIdleMinutesFrom(undefined), 5);
  assert.equal(gpuIdleMinutesFrom('0.05'), 0.05);
  assert.throws(() => gpuIdleMinutesFrom('soon'), /positive number of minutes, not "soon"/);
  assert.throws(() => gpuIdleMinutesFrom('0'), /positive number/);
});
