/**
 * The values a run records: results.json read into the record (and nothing
 * foreign or oversized), and how the sidebar, Run details and the CLI say them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bestRow,
  resultsLine,
  resultsTable,
  shortResult,
  smallerIsBetter,
  sortedBy
} from '../../contract/results';
import type { Job } from '../../contract/wire';
import { describeTask } from '../../server/cli/jobLines';
import { tableCsv, tableJson, tableText } from '../../server/cli/resultsTable';
import { RESULTS_FILE, parseResults, readResults } from '../../server/jobs/results';
import { runDetailRows } from '../../src/labels';
import {
  chartOptions,
  chartShape,
  chartSpec,
  chartValues,
  defaultChoice
} from '../../src/resultsChart';
import { testJob } from '../fixtures/wire';

describe('results.json', () => {
  it('reads values and notes; anything else reads as nothing recorded', () => {
    expect(
      parseResults('{"values": {"loss": 0.5, "acc": [0.9, "NaN"]}, "notes": ["big: too big", 3]}')
    ).toEqual({ results: { loss: 0.5, acc: [0.9, 'NaN'] }, resultNotes: ['big: too big'] });
    expect(parseResults('{"values": {}, "notes": []}')).toEqual({});
    expect(parseResults('{"values": [1, 2]}')).toEqual({});
    expect(parseResults('[1]')).toEqual({});
    expect(parseResults('{"values": {"loss": 0.5')).toEqual({}); // mid-write
  });

  it('is read from the job directory; an oversized file is not taken into the record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    try {
      expect(await readResults(dir)).toEqual({});
      writeFileSync(join(dir, RESULTS_FILE), '{"values": {"loss": 1}}');
      expect(await readResults(dir)).toEqual({ results: { loss: 1 } });
      writeFileSync(join(dir, RESULTS_FILE), `{"values": {"x": "${'y'.repeat(3_000_000)}"}}`);
      expect(await readResults(dir)).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('recorded values in words', () => {
  it('are short in the sidebar row: 4 significant digits, the first three, then a count', () => {
    expect(shortResult(0.123456)).toBe('0.1235');
    expect(shortResult(1234.5678)).toBe('1235');
    expect(shortResult(42)).toBe('42');
    expect(shortResult('NaN')).toBe('NaN');
    expect(shortResult([0.9, 1])).toBe('[0.9,1]');
    expect(shortResult('x'.repeat(40))).toBe(`${'x'.repeat(23)}…`);
    expect(resultsLine({ loss: 0.123, acc: 0.94 })).toBe('loss 0.123 · acc 0.94');
    expect(resultsLine({ a: 1, b: 2, c: 3, d: 4, e: 5 })).toBe('a 1 · b 2 · c 3 · 2 more');
    expect(resultsLine(undefined)).toBe('');
  });

  it('are whole in Run details, with what was not recorded and why', () => {
    const job = testJob({
      state: 'completed',
      results: { loss: 0.123456789, tag: 'best' },
      resultNotes: ['big: not recorded, its value is 20,002 bytes']
    });
    const rows = runDetailRows(job, null);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['Recorded: loss', '0.123456789'],
        ['Recorded: tag', 'best'],
        ['Not recorded', 'big: not recorded, its value is 20,002 bytes']
      ])
    );
  });

  it("follow a sweep task's values in the CLI", () => {
    const task = testJob({
      id: 's-1',
      state: 'completed',
      sweepId: 's',
      taskIndex: 1,
      parameters: { lr: 0.1 },
      results: { loss: 0.5 }
    });
    expect(describeTask(task)).toBe('s-1  completed lr=0.1  → loss=0.5');
  });
});

describe('hpc-submit results: the table', () => {
  const task = (i: number, results: Job['results'], state: Job['state'] = 'completed'): Job =>
    testJob({
      id: `s-${i}`,
      state,
      sweepId: 's',
      taskIndex: i,
      parameters: { seed: i, opt: i % 2 ? 'adam' : 'sgd' },
      ...(results ? { results } : {})
    });
  const tasks = [
    task(0, { loss: 0.5, acc: 0.8 }),
    task(1, { loss: 0.25 }),
    task(2, { loss: 'NaN', acc: 0.1 }),
    task(3, undefined, 'failed'),
    task(4, { loss: 1, note: 'a,"b"\nc' })
  ];

  it('has the task, each parameter, each recorded value and the state', () => {
    const table = resultsTable(tasks);
    expect(table.columns).toEqual(['task', 'seed', 'opt', 'loss', 'acc', 'note', 'state']);
    expect(table.rows[1].cells).toEqual([1, 1, 'adam', 0.25, undefined, undefined, 'completed']);
    // Runs of a notebook, not of one sweep, are named by their id.
    expect(resultsTable([testJob({ id: 'j1' })]).columns[0]).toBe('id');
  });

  it('sorts by a column either way, the runs without a number last', () => {
    const order = (spec: string) => sortedBy(resultsTable(tasks), spec).rows.map(r => r.cells[0]);
    expect(order('loss')).toEqual([1, 0, 4, 2, 3]);
    expect(order('-loss')).toEqual([4, 0, 1, 2, 3]);
    expect(order('-acc')).toEqual([0, 2, 1, 3, 4]);
    expect(() => sortedBy(resultsTable(tasks), 'lr')).toThrow(
      'no column lr to sort by; the columns are task, seed, opt, loss, acc, note, state'
    );
  });

  it("marks each value's best: the smallest loss, the largest accuracy", () => {
    const table = resultsTable(tasks);
    expect(smallerIsBetter('val_loss')).toBe(true);
    expect(smallerIsBetter('accuracy')).toBe(false);
    expect(bestRow(table, 'loss')).toBe(1);
    expect(bestRow(table, 'acc')).toBe(0);
    expect(bestRow(table, 'note')).toBeUndefined();
  });

  it('prints as aligned text, as CSV whose hostile value stays one cell, and as JSON', () => {
    const table = resultsTable(tasks.slice(0, 2));
    expect(tableText(table).split('\n')).toEqual([
      'task  seed  opt   loss  acc  state',
      '0     0     sgd   0.5   0.8  completed',
      '1     1     adam  0.25       completed'
    ]);
    const csv = tableCsv(resultsTable([tasks[4]]));
    expect(csv).toBe('task,seed,opt,loss,note,state\r\n4,4,sgd,1,"a,""b""\nc",completed\r\n');
    expect(JSON.parse(tableJson(resultsTable([tasks[1]])))).toEqual([
      { task: 1, parameters: { seed: 1, opt: 'adam' }, results: { loss: 0.25 }, state: 'completed' }
    ]);
  });
});

describe('the Results chart', () => {
  const run = (i: number, parameters: Job['parameters'], results: Job['results']): Job =>
    testJob({ id: `s-${i}`, sweepId: 's', taskIndex: i, state: 'completed', parameters, results });

  it('draws the first recorded number against the first swept parameter, by the second', () => {
    const table = resultsTable([
      run(0, { lr: 0.1, seed: 0, fixed: 1 }, { loss: 0.5, tag: 'x' }),
      run(1, { lr: 0.01, seed: 0, fixed: 1 }, { loss: 0.25, tag: 'y' }),
      run(2, { lr: 0.1, seed: 1, fixed: 1 }, { loss: 'NaN', tag: 'z' }),
      run(3, { lr: 0.01, seed: 1, fixed: 1 }, undefined)
    ]);
    expect(chartOptions(table)).toEqual({ ys: ['loss'], xs: ['lr', 'seed'] });
    const choice = defaultChoice(table);
    expect(choice).toEqual({ y: 'loss', x: 'lr', color: 'seed' });
    const spec = chartSpec(table, choice!) as {
      mark: { type: string };
      encoding: { x: { type: string } };
    };
    // One datum per run with a number: NaN and a run without the value are not drawn.
    expect(chartValues(spec)).toEqual([
      { run: 0, x: 0.1, y: 0.5, color: 0 },
      { run: 1, x: 0.01, y: 0.25, color: 0 }
    ]);
    expect(spec.mark.type).toBe('line');
    expect(spec.encoding.x.type).toBe('quantitative');
    // A task's end changes the data alone: the same shape, so the drawn view takes the new runs.
    const more = resultsTable([
      run(0, { lr: 0.1, seed: 0, fixed: 1 }, { loss: 0.5 }),
      run(1, { lr: 0.01, seed: 0, fixed: 1 }, { loss: 0.25 }),
      run(3, { lr: 0.01, seed: 1, fixed: 1 }, { loss: 0.2 })
    ]);
    const next = chartSpec(more, choice!);
    expect(chartShape(next)).toBe(chartShape(spec));
    expect(chartValues(next)).toHaveLength(3);
    expect(chartShape(chartSpec(more, { ...choice!, y: 'loss', color: undefined }))).not.toBe(
      chartShape(spec)
    );
  });

  it('draws points against a parameter that is not a number, and nothing without a choice', () => {
    const table = resultsTable([
      run(0, { opt: 'adam' }, { acc: 0.9 }),
      run(1, { opt: 'sgd' }, { acc: 0.8 })
    ]);
    const spec = chartSpec(table, defaultChoice(table)!) as {
      mark: { type: string };
      encoding: { x: { type: string } };
    };
    expect(spec.mark.type).toBe('point');
    expect(spec.encoding.x.type).toBe('nominal');
    expect(defaultChoice(resultsTable([run(0, { opt: 'adam' }, { acc: 0.9 })]))).toBeUndefined();
  });
});
