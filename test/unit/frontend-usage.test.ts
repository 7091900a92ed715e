/**
 * Issue 10 in the extension, in jsdom: the row's live figures and history
 * line, the idle-GPU warning, the expected start, the run details' rows, the
 * start estimate asked at most once per 30 s per profile, and when the
 * browser's own notification is shown. Times are built with local-time
 * constructors so the tests read the same in every time zone.
 */
import type { CompanionApi } from '../../src/api';
import {
  estimateLabel,
  expectedStartLabel,
  hiddenTabNotice,
  localTime,
  resourcesLabel,
  runDetailRows,
  shouldNotifyInBrowser
} from '../../src/labels';
import {
  efficiencyRows,
  formatBytes,
  sparkline,
  usageLine,
  usedOfTotal
} from '../../src/usageLabels';
import { ESTIMATE_INTERVAL_MS } from '../../src/estimates';
import { JobsModel } from '../../src/model';
import { readSettings } from '../../src/settings';
import type {
  Efficiency,
  EstimateAnswer,
  RunRecord,
  UsagePoint,
  UsageSummary
} from '../../contract/wire';
import { companionAnswering, testJob } from '../fixtures/wire';

const GiB = 2 ** 30;

function point(over: Partial<UsagePoint> = {}): UsagePoint {
  return { t: '2026-11-23T12:00:00Z', cpuPercent: 98, rssBytes: 3.2 * GiB, ...over };
}

const A100 = (util: number, used = 12390) => ({
  index: 0,
  util,
  memUsedMiB: used,
  memTotalMiB: 81920
});

function usage(over: Partial<UsageSummary> = {}): UsageSummary {
  const latest = point({ gpus: [A100(87)] });
  return { latest, history: [latest], peakRssBytes: latest.rssBytes, ...over };
}

describe('the live figures of a running row', () => {
  test('GPU utilization, its memory and the RAM against what was asked', () => {
    expect(usageLine(usage({ memoryAskedBytes: 32 * GiB }))).toBe(
      'GPU 87% · 12.1/80 GiB · RAM 3.2/32 GiB'
    );
  });

  test('unknown parts are left out: no memory asked, no GPU memory total', () => {
    expect(usageLine(usage())).toBe('GPU 87% · 12.1/80 GiB · RAM 3.2 GiB');
    const noTotal = point({ gpus: [{ index: 0, util: 40, memUsedMiB: 0, memTotalMiB: 0 }] });
    expect(usageLine(usage({ latest: noTotal }))).toBe('GPU 40% · RAM 3.2 GiB');
  });

  test('several GPUs read as their mean and summed memory; without GPUs the CPU stands in', () => {
    const two = point({ gpus: [A100(80, 10240), { ...A100(90, 20480), index: 1 }] });
    expect(usageLine(usage({ latest: two }))).toBe('2 GPUs 85% · 30/160 GiB · RAM 3.2 GiB');
    const cpu = point({ cpuPercent: 197.4, rssBytes: 310 * 2 ** 20 });
    expect(usageLine(usage({ latest: cpu, memoryAskedBytes: 500 * 2 ** 20 }))).toBe(
      'CPU 197% · RAM 310/500 MiB'
    );
  });

  test('nothing before the first sample', () => {
    expect(usageLine(undefined)).toBeUndefined();
    expect(usageLine({ history: [], peakRssBytes: 0 })).toBeUndefined();
  });

  test('amounts keep the digits that matter at their size', () => {
    expect(usedOfTotal(0.31 * GiB, 32 * GiB)).toBe('0.31/32 GiB');
    expect(usedOfTotal(120 * GiB, 160 * GiB)).toBe('120/160 GiB');
    expect(formatBytes(512 * 2 ** 20)).toBe('512 MiB');
    expect(formatBytes(1.25 * GiB)).toBe('1.3 GiB');
  });
});

describe('the history line', () => {
  test("plots the GPUs' utilization across the width, 100% at the top", () => {
    const history = [0, 50, 100].map(u => point({ gpus: [A100(u)] }));
    const line = sparkline(history, 60, 14);
    expect(line?.kind).toBe('GPU');
    expect(line?.points).toBe('0,14 30,7 60,0');
    expect(line?.label).toBe('GPU utilization over the last 3 samples: 0% to 100%, now 100%');
  });

  test('without GPUs it plots the CPU, its scale growing past one core', () => {
    const line = sparkline([point({ cpuPercent: 100 }), point({ cpuPercent: 200 })], 10, 10);
    expect(line?.kind).toBe('CPU');
    expect(line?.points).toBe('0,5 10,0');
  });

  test('one sample draws no line', () => {
    expect(sparkline([point()], 60, 14)).toBeUndefined();
    expect(sparkline(undefined, 60, 14)).toBeUndefined();
  });
});

describe("Slurm's expected start", () => {
  const now = new Date(2026, 10, 23, 9, 0).getTime();

  test('local HH:MM today, with the date on another day', () => {
    const today = new Date(2026, 10, 23, 14, 32).toISOString();
    const tomorrow = new Date(2026, 10, 24, 8, 5).toISOString();
    expect(expectedStartLabel(today, now)).toBe("expected to start ~14:32 (Slurm's estimate)");
    expect(localTime(tomorrow, now)).toBe('2026-11-24 08:05');
    expect(expectedStartLabel(undefined, now)).toBeUndefined();
    expect(expectedStartLabel('soon', now)).toBeUndefined();
  });

  test("the run button's tooltip line: the estimate, else the companion's sentence", () => {
    const at = new Date(2026, 10, 23, 14, 32).toISOString();
    expect(estimateLabel('GPU node', { expectedStart: at, message: 'x' }, now)).toBe(
      "GPU node: expected to start ~14:32 (Slurm's estimate)"
    );
    expect(estimateLabel('CPU node', { expectedStart: null, message: 'no estimate' }, now)).toBe(
      'CPU node: no estimate'
    );
    // A start within a minute is the companion's "starts now", not a clock time.
    const soon = new Date(now + 30_000).toISOString();
    expect(estimateLabel('GPU node', { expectedStart: soon, message: 'starts now' }, now)).toBe(
      'GPU node: starts now'
    );
    expect(estimateLabel('GPU node', undefined, now)).toBeUndefined();
  });
});

const RUN: RunRecord = {
  jobId: 'j1',
  schedulerId: '4711',
  executor: 'slurm',
  profile: 'gpu',
  resources: { partition: 'gpu', gpus: 1, cpus: 4, memory: '32G', time: '04:00:00' },
  node: 'gpu01',
  gpus: [{ index: 0, name: 'NVIDIA A100', uuid: 'GPU-aaaa' }],
  startedAt: new Date(2026, 10, 23, 12, 0, 5).toISOString(),
  endedAt: new Date(2026, 10, 23, 12, 12, 9).toISOString(),
  durationSeconds: 724,
  state: 'completed',
  kernel: 'convcnp-gpu',
  launcher: ['pixi', 'run', '-e', 'gpu'],
  pythonVersion: '3.12.4',
  git: { commit: '0123456789abcdef0123', dirty: true },
  environment: { source: 'pixi.lock', path: 'pixi.lock', sha256: 'ffeeddccbbaa99887766' }
};

describe('the run details', () => {
  test('the run record as rows', () => {
    const rows = Object.fromEntries(runDetailRows(testJob({ state: 'completed' }), RUN));
    expect(rows).toStrictEqual({
      Notebook: 'exp/a.ipynb',
      State: 'completed',
      Profile: 'gpu',
      Kernel: 'convcnp-gpu',
      Scheduler: 'Slurm job 4711',
      Node: 'gpu01',
      GPUs: '0: NVIDIA A100 (GPU-aaaa)',
      Started: '2026-11-23 12:00:05',
      Ended: '2026-11-23 12:12:09',
      Duration: '12:04',
      'Resources asked': 'partition gpu · 1 GPU · 4 CPUs · 32G memory · 04:00:00 time limit',
      Launcher: 'pixi run -e gpu',
      Python: '3.12.4',
      Git: '0123456789ab with uncommitted changes',
      Environment: 'pixi.lock sha256 ffeeddccbbaa'
    });
  });

  test('before the record exists, the job stands in', () => {
    const job = testJob({ state: 'running', node: 'gpu02', gpus: ['0'] });
    const rows = Object.fromEntries(runDetailRows(job, null));
    expect(rows.State).toBe('running');
    expect(rows.Node).toBe('gpu02');
    expect(rows.GPUs).toBe('0');
    expect(rows.Scheduler).toBe('local run 1');
    expect(rows['Resources asked']).toBe("the profile's defaults");
    expect(rows.Git).toBeUndefined();
    expect(resourcesLabel({ gpus: 2, cpus: 1 })).toBe('2 GPUs · 1 CPU');
  });

  test('efficiency: time and memory against what was asked, and where it was measured', () => {
    const e: Efficiency = {
      wallSeconds: 724,
      timeLimitSeconds: 14_400,
      peakRssBytes: 3.1 * GiB,
      memoryAskedBytes: 32 * GiB,
      meanGpuUtil: 41.6,
      cpuEfficiency: 23,
      source: 'samples',
      hints: ['peak 3.1 GiB of 32 GiB asked']
    };
    expect(Object.fromEntries(efficiencyRows(e))).toStrictEqual({
      'Wall time': '12:04 of 4:00:00 asked (5%)',
      'Peak memory': '3.1 GiB of 32 GiB asked (10%)',
      'Mean GPU utilization': '42%',
      'CPU efficiency': '23%',
      'Measured from': "the job's own samples"
    });
    const withSacct = Object.fromEntries(efficiencyRows({ ...e, source: 'samples+sacct' }));
    expect(withSacct['Measured from']).toBe("the job's own samples and Slurm's accounting (sacct)");
  });
});

/** A stand-in for the companion's routes that counts the estimate requests. */
function estimating(answer: () => Promise<EstimateAnswer>): {
  api: CompanionApi;
  asked: string[];
} {
  const asked: string[] = [];
  const api = companionAnswering({
    details: async id => ({
      job: testJob({ id }),
      run: RUN,
      runSource: 'notebook',
      executed: null,
      status: null
    }),
    estimate: profile => {
      asked.push(profile);
      return answer();
    }
  });
  return { api, asked };
}

describe('the start estimate through the model', () => {
  test('asked at most once per 30 s per profile; the answer is kept and emitted', async () => {
    const answer = { expectedStart: '2026-11-23T14:32:00Z', message: '' };
    const { api, asked } = estimating(async () => answer);
    const model = new JobsModel(api);
    let changes = 0;
    model.changed.connect(() => changes++);

    model.requestEstimate('gpu', 1000);
    model.requestEstimate('gpu', 1000 + ESTIMATE_INTERVAL_MS - 1);
    model.requestEstimate('cpu', 1000);
    await Promise.resolve();
    expect(asked).toStrictEqual(['gpu', 'cpu']);
    expect(model.estimate('gpu')).toBe(answer);
    expect(changes).toBe(2);

    model.requestEstimate('gpu', 1000 + ESTIMATE_INTERVAL_MS);
    expect(asked).toStrictEqual(['gpu', 'cpu', 'gpu']);
    expect(model.estimate('fresh')).toBeUndefined();
  });

  test('a refusal keeps the last answer and is not asked again within 30 s', async () => {
    let fail = false;
    const first = { expectedStart: null, message: 'starts at once' };
    const { api, asked } = estimating(() =>
      fail ? Promise.reject(new Error('HTTP 502')) : Promise.resolve(first)
    );
    const model = new JobsModel(api);
    model.requestEstimate('gpu', 0);
    await Promise.resolve();
    fail = true;
    model.requestEstimate('gpu', ESTIMATE_INTERVAL_MS);
    await new Promise(r => setTimeout(r, 0));
    expect(model.estimate('gpu')).toBe(first);
    model.requestEstimate('gpu', ESTIMATE_INTERVAL_MS + 1);
    expect(asked.length).toBe(2);
  });

  test('details come from the companion', async () => {
    const { api } = estimating(async () => ({ expectedStart: null, message: '' }));
    const model = new JobsModel(api);
    expect((await model.details('j9')).job.id).toBe('j9');
  });
});

describe('the browser notification when the tab is hidden', () => {
  test('only when switched on, the tab is hidden and the browser allows it', () => {
    const all = { enabled: true, hidden: true, permission: 'granted' as const };
    expect(shouldNotifyInBrowser(all)).toBe(true);
    expect(shouldNotifyInBrowser({ ...all, enabled: false })).toBe(false);
    expect(shouldNotifyInBrowser({ ...all, hidden: false })).toBe(false);
    expect(shouldNotifyInBrowser({ ...all, permission: 'denied' })).toBe(false);
    expect(shouldNotifyInBrowser({ ...all, permission: 'default' })).toBe(false);
    expect(shouldNotifyInBrowser({ ...all, permission: 'unsupported' })).toBe(false);
  });

  test('its words, and the setting off unless set to true', () => {
    expect(hiddenTabNotice(testJob({ state: 'failed', reason: 'out of memory' }))).toStrictEqual({
      title: 'a.ipynb finished',
      body: 'Failed: out of memory'
    });
    expect(readSettings({}).notifyWhenHidden).toBe(false);
    expect(readSettings({ notifyWhenHidden: 'yes' }).notifyWhenHidden).toBe(false);
    expect(readSettings({ notifyWhenHidden: true }).notifyWhenHidden).toBe(true);
  });
});
