/**
 * Slurm's accounting of ended jobs: sacct's parsable lines folded per job,
 * when a record can be used, and the efficiency completed with it. Pure
 * functions; the lines are sacct 22.05's own output on the test cluster.
 */
import type { Efficiency } from '../../contract/wire';
import type { AccountingRecord } from '../../server/executors/executor';
import {
  ACCOUNTING_DISABLED,
  parseSacct,
  sacctArgs,
  sacctBytes,
  sacctSeconds
} from '../../server/executors/sacct';
import { accountingSettled, withAccounting } from '../../server/jobs/accounting';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

test('sacctArgs asks once for every job, steps included, in parsable lines', () => {
  expect(sacctArgs(['1255', '1300_2'])).toStrictEqual([
    '--noheader',
    '--parsable2',
    '--format=JobID,State,ExitCode,Elapsed,TotalCPU,MaxRSS,AllocCPUS',
    '--jobs',
    '1255,1300_2'
  ]);
});

test('parseSacct folds the steps of each job: state from the allocation, peak memory from the steps', () => {
  const records = parseSacct(
    [
      '1255|COMPLETED|0:0|00:00:03|00:00.116||1',
      '1255.batch|COMPLETED|0:0|00:00:03|00:00.116|106019K|1',
      '1255.extern|COMPLETED|0:0|00:00:03|00:00:00|0|1',
      '1300_2|CANCELLED by 1001|0:15|01:02:03|1-00:00:01|           |4',
      '1300_2.batch|CANCELLED|0:15|01:02:03|1-00:00:01|1.50G|4',
      '1300_2.0|CANCELLED|0:15|01:00:00|00:10:00|2G|4',
      '1301|RUNNING|0:0|00:00:10|00:00:00||1',
      ''
    ].join('\n')
  );
  expect(records.get('1255')).toStrictEqual({
    state: 'COMPLETED',
    exitCode: '0:0',
    elapsedSeconds: 3,
    totalCpuSeconds: 0.116,
    allocCpus: 1,
    maxRssBytes: 106019 * 1024,
    final: true,
    hasBatchStep: true
  });
  expect(records.get('1300_2')).toStrictEqual({
    state: 'CANCELLED',
    exitCode: '0:15',
    elapsedSeconds: 3723,
    totalCpuSeconds: 86401,
    allocCpus: 4,
    maxRssBytes: 2 * GiB,
    final: true,
    hasBatchStep: true
  });
  expect(records.get('1301')).toStrictEqual({
    state: 'RUNNING',
    exitCode: '0:0',
    elapsedSeconds: 10,
    totalCpuSeconds: 0,
    allocCpus: 1,
    final: false,
    hasBatchStep: false
  });
  expect(records.size).toBe(3);
});

test("sacct's durations and sizes", () => {
  expect(sacctSeconds('00:00.116')).toBeCloseTo(0.116);
  expect(sacctSeconds('12:34')).toBe(754);
  expect(sacctSeconds('01:02:03')).toBe(3723);
  expect(sacctSeconds('2-01:00:00')).toBe(2 * 86400 + 3600);
  expect(sacctSeconds('')).toBeNull();
  expect(sacctSeconds('INVALID')).toBeNull();
  expect(sacctBytes('106019K')).toBe(106019 * 1024);
  expect(sacctBytes('1.50G')).toBe(1.5 * GiB);
  expect(sacctBytes('512M')).toBe(512 * MiB);
  expect(sacctBytes('0')).toBe(0);
  expect(sacctBytes('')).toBeNull();
  expect(sacctBytes('16?')).toBeNull();
});

test("a site without accounting is recognised by sacct's own sentence", () => {
  expect(ACCOUNTING_DISABLED.test('sacct: error: Slurm accounting storage is disabled')).toBe(true);
  expect(
    ACCOUNTING_DISABLED.test('sacct: error: Problem talking to the database: Connection refused')
  ).toBe(false);
});

test('a record is used once the job ended and its batch step arrived, or after two rounds without it', () => {
  const ended: AccountingRecord = { state: 'COMPLETED', final: true, hasBatchStep: true };
  expect(accountingSettled(ended, 1)).toBe(true);
  expect(accountingSettled({ ...ended, hasBatchStep: false }, 1)).toBe(false);
  expect(accountingSettled({ ...ended, hasBatchStep: false }, 2)).toBe(true);
  // Which states are not final yet is Slurm's to say: parseSacct answers it as `final`.
  const line = (state: string) =>
    `1400|${state}|0:0|00:00:03|00:00.100||1\n1400.batch|${state}|0:0|00:00:03|00:00.100|1K|1\n`;
  for (const state of ['COMPLETING', 'RUNNING', 'PENDING', 'REQUEUED']) {
    const record = parseSacct(line(state)).get('1400') as AccountingRecord;
    expect(record.final).toBe(false);
    expect(accountingSettled(record, 5)).toBe(false);
  }
  expect(accountingSettled(parseSacct(line('COMPLETED')).get('1400') as AccountingRecord, 1)).toBe(
    true
  );
  expect(accountingSettled({ ...ended, final: false }, 5)).toBe(false);
});

describe('withAccounting', () => {
  const sampled: Efficiency = {
    wallSeconds: 118,
    timeLimitSeconds: 3600,
    memoryAskedBytes: 32 * GiB,
    peakRssBytes: 2.9 * GiB,
    meanGpuUtil: 3,
    cpuEfficiency: 40,
    source: 'samples',
    hints: []
  };
  const record: AccountingRecord = {
    state: 'COMPLETED',
    elapsedSeconds: 120,
    totalCpuSeconds: 180,
    allocCpus: 2,
    maxRssBytes: 3.1 * GiB,
    final: true,
    hasBatchStep: true
  };

  test("sacct's wall time, CPU time and peak memory replace the sampled ones; GPU use stays", () => {
    const e = withAccounting({ state: 'completed', resources: { gpus: 1 } }, sampled, record);
    expect(e).toStrictEqual({
      ...sampled,
      wallSeconds: 120,
      peakRssBytes: 3.1 * GiB,
      cpuEfficiency: 75,
      source: 'samples+sacct',
      hints: [
        'peak 3.1 GiB of 32 GiB asked',
        'used 3% of the 1:00:00 asked',
        'GPU busy 3% on average'
      ]
    });
  });

  test('without samples, the accounting alone, against what the run asked for', () => {
    const e = withAccounting(
      { state: 'failed', resources: { memory: '8G', time: '30' } },
      undefined,
      record
    );
    expect(e).toStrictEqual({
      wallSeconds: 120,
      timeLimitSeconds: 1800,
      memoryAskedBytes: 8 * GiB,
      peakRssBytes: 3.1 * GiB,
      cpuEfficiency: 75,
      source: 'sacct',
      // A failed run says nothing of what it would have needed.
      hints: []
    });
  });

  test('a record without figures leaves the samples as they were', () => {
    const bare: AccountingRecord = { state: 'COMPLETED', final: true, hasBatchStep: false };
    expect(withAccounting({ state: 'completed', resources: {} }, undefined, bare)).toBeUndefined();
    expect(
      withAccounting({ state: 'completed', resources: {} }, sampled, { ...bare, maxRssBytes: 0 })
    ).toBe(sampled);
  });
});
