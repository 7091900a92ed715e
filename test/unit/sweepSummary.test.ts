/**
 * A sweep's summary.csv: its columns, its rows in task order, RFC 4180
 * quoting of hostile values, and its whole-or-nothing write. That Python
 * reads it back as the same table is in test/integration/parameterize.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../contract/wire';
import { renderSummaryCsv, writeSweepSummary } from '../../server/jobs/sweepSummary';
import { testJob } from '../fixtures/wire';

const SWEEP = '20250101-120000-abc123';

const task = (taskIndex: number, over: Partial<Job> = {}): Job =>
  testJob({
    id: `${SWEEP}-${taskIndex}`,
    notebook: 'train.ipynb',
    output: `executed/train/${taskIndex}.ipynb`,
    executor: 'slurm',
    schedulerId: `42_${taskIndex}`,
    state: 'completed',
    sweepId: SWEEP,
    taskIndex,
    taskCount: 3,
    submittedAt: '2025-01-01T12:00:00Z',
    ...over
  });

describe('renderSummaryCsv', () => {
  it('has one column per recorded value after the parameters; a hostile name stays one cell', () => {
    const csv = renderSummaryCsv([
      task(1, { parameters: { seed: 1 }, results: { loss: 0.5, 'a,"b"\nc': 'x' } }),
      task(0, { parameters: { seed: 0 }, results: { loss: 'NaN', acc: [0.9, 1] } }),
      task(2, { parameters: { seed: 2 }, state: 'failed' })
    ]);
    const [header, ...rows] = csv.split('\r\n');
    expect(header).toBe(
      'task,seed,loss,acc,"a,""b""\nc",state,reason,duration_seconds,node,output'
    );
    expect(rows[0]).toBe('0,0,NaN,"[0.9,1]",,completed,,,,executed/train/0.ipynb');
    expect(rows[1]).toBe('1,1,0.5,,x,completed,,,,executed/train/1.ipynb');
    expect(rows[2]).toBe('2,2,,,,failed,,,,executed/train/2.ipynb');
  });

  it('a parameter or a value named like an object method is still only what the task has', () => {
    const csv = renderSummaryCsv([
      task(0, { parameters: { seed: 0 } }),
      task(1, { parameters: { seed: 1, toString: 'x' } })
    ]);
    expect(csv.split('\r\n')[1]).toBe('0,0,,completed,,,,executed/train/0.ipynb');
  });

  it('has task, one column per parameter, state, reason, duration, node and output, rows in task order', () => {
    const csv = renderSummaryCsv([
      task(2, { parameters: { seed: 2, lr: 0.1 }, state: 'failed', reason: 'exit 1' }),
      task(0, {
        parameters: { seed: 0, lr: 0.1 },
        node: 'node1',
        startedAt: '2025-01-01T12:00:10Z',
        endedAt: '2025-01-01T12:04:22.5Z'
      }),
      task(1, { parameters: { seed: 1, lr: 0.1 }, state: 'running' })
    ]);
    expect(csv).toBe(
      'task,seed,lr,state,reason,duration_seconds,node,output\r\n' +
        '0,0,0.1,completed,,252.5,node1,executed/train/0.ipynb\r\n' +
        '1,1,0.1,running,,,,executed/train/1.ipynb\r\n' +
        '2,2,0.1,failed,exit 1,,,executed/train/2.ipynb\r\n'
    );
  });

  it('writes strings as they are and other values as JSON', () => {
    const csv = renderSummaryCsv([
      task(0, { parameters: { name: 'abc', flag: true, none: null, n: 3, text: '3' } })
    ]);
    expect(csv.split('\r\n')[1]).toBe('0,abc,true,null,3,3,completed,,,,executed/train/0.ipynb');
  });

  it('quotes fields with quotes, commas and line breaks (RFC 4180), leaves formulas as text', () => {
    const hostile = '\'); import os; os.system("touch pwned") #';
    const csv = renderSummaryCsv([
      task(0, { parameters: { s: hostile, l: [1, 2], m: 'a\nb', r: 'c\rd', f: '=1+2' } })
    ]);
    expect(csv.split('\r\n')[1]).toBe(
      '0,"\'); import os; os.system(""touch pwned"") #","[1,2]","a\nb","c\rd",=1+2,completed,,,,executed/train/0.ipynb'
    );
  });

  it('leaves a cell empty for a parameter a task does not have, and gives the header alone for no task', () => {
    const csv = renderSummaryCsv([task(0, { parameters: { a: 1 } }), task(1, {})]);
    expect(csv.split('\r\n').slice(0, 3)).toEqual([
      'task,a,state,reason,duration_seconds,node,output',
      '0,1,completed,,,,executed/train/0.ipynb',
      '1,,completed,,,,executed/train/1.ipynb'
    ]);
    expect(renderSummaryCsv([])).toBe('task,state,reason,duration_seconds,node,output\r\n');
  });
});

describe('writeSweepSummary', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-summary-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file whole and leaves no temporary file', async () => {
    const path = join(dir, 'summary.csv');
    await writeSweepSummary(path, [task(0, { parameters: { seed: 0 } })]);
    await writeSweepSummary(path, [task(0, { parameters: { seed: 0 }, state: 'failed' })]);
    expect(readFileSync(path, 'utf8')).toBe(
      renderSummaryCsv([task(0, { parameters: { seed: 0 }, state: 'failed' })])
    );
    expect(readdirSync(dir)).toEqual(['summary.csv']);
  });

  it('fails without leaving anything when the folder is missing', async () => {
    await expect(writeSweepSummary(join(dir, 'no', 'summary.csv'), [])).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
