/**
 * Compare of two runs: which two the command's arguments name, and the rows
 * side by side with what differs marked; pure, without a browser.
 */
import {
  compareDetails,
  compareRows,
  comparedPair,
  parameterRows,
  runHeading,
  undiffable
} from '../../src/compareRows';
import type { Job, JobDetails } from '../../contract/wire';
import { testJob } from '../fixtures/wire';

const details = (job: Job, over: Partial<JobDetails> = {}): JobDetails => ({
  job,
  run: null,
  runSource: null,
  executed: { path: job.output, kept: false },
  status: null,
  ...over
});

describe('compare rows', () => {
  it('pairs rows by label, keeps A’s order then B’s extras, and marks what differs', () => {
    const rows = compareRows(
      [
        ['State', 'completed'],
        ['Node', 'node1']
      ],
      [
        ['State', 'completed'],
        ['Node', 'node2'],
        ['GPUs', '0: A100']
      ]
    );
    expect(rows).toStrictEqual([
      { label: 'State', a: 'completed', b: 'completed', differs: false },
      { label: 'Node', a: 'node1', b: 'node2', differs: true },
      { label: 'GPUs', a: '—', b: '0: A100', differs: true }
    ]);
  });

  it('shows parameters first, then the run record with the recorded values', () => {
    const a = testJob({
      id: 'a',
      state: 'completed',
      parameters: { lr: 0.1, tags: ['x', 'y'] },
      results: { loss: 0.5 }
    });
    const b = testJob({
      id: 'b',
      state: 'failed',
      reason: 'cell 3 raised',
      parameters: { lr: 0.01, tags: ['x', 'y'] },
      results: { loss: 0.25, extra: 'yes' }
    });
    expect(parameterRows(a)).toStrictEqual([
      ['Parameter: lr', '0.1'],
      ['Parameter: tags', '["x","y"]']
    ]);
    const rows = compareDetails(details(a), details(b));
    const byLabel = new Map(rows.map(r => [r.label, r]));
    expect(rows.slice(0, 2).map(r => r.label)).toStrictEqual(['Parameter: lr', 'Parameter: tags']);
    expect(byLabel.get('Parameter: lr')).toMatchObject({ a: '0.1', b: '0.01', differs: true });
    expect(byLabel.get('Parameter: tags')?.differs).toBe(false);
    expect(byLabel.get('State')).toMatchObject({
      a: 'completed',
      b: 'failed: cell 3 raised',
      differs: true
    });
    expect(byLabel.get('Recorded: loss')).toMatchObject({ a: '0.5', b: '0.25', differs: true });
    expect(byLabel.get('Recorded: extra')).toMatchObject({ a: '—', b: 'yes', differs: true });
    expect(byLabel.get('Notebook')?.differs).toBe(false);
  });

  it('names a task by its values and any other run by when it was submitted', () => {
    expect(runHeading(testJob({ sweepId: 's', taskIndex: 2, parameters: { lr: 0.1 } }))).toBe(
      'lr=0.1'
    );
    expect(runHeading(testJob({ sweepId: 's', taskIndex: 2 }))).toBe('task 3');
    expect(runHeading(testJob())).toMatch(/^run of 2026-11-2\d \d\d:\d\d:00$/);
  });

  it('says why a run cannot be diffed', () => {
    const job = testJob({ taskIndex: 0, sweepId: 's', parameters: { lr: 1 } });
    expect(undiffable(details(job))).toBeUndefined();
    expect(
      undiffable(details(job, { executed: null, note: 'the run failed before writing it' }))
    ).toBe('lr=1 has no executed notebook to diff: the run failed before writing it');
  });
});

describe('the two runs Compare is asked for', () => {
  // Newest first, as the model keeps them.
  const jobs = [
    testJob({ id: 'n3', notebook: 'a.ipynb' }),
    testJob({ id: 's-1', notebook: 'a.ipynb', sweepId: 's', taskIndex: 1 }),
    testJob({ id: 's-0', notebook: 'a.ipynb', sweepId: 's', taskIndex: 0 }),
    testJob({ id: 'o1', notebook: 'other.ipynb' }),
    testJob({ id: 'n2', notebook: 'a.ipynb' }),
    testJob({ id: 'n1', notebook: 'a.ipynb' })
  ];

  it('takes two named runs, refusing one run twice', () => {
    expect(comparedPair(jobs, { a: 'n1', b: 's-0' }, undefined)).toStrictEqual(['n1', 's-0']);
    expect(comparedPair(jobs, { a: 'n1', b: 'n1' }, undefined)).toBe(
      'Compare needs two different runs.'
    );
  });

  it('pairs a run with the run of its notebook before it, skipping sweeps and other notebooks', () => {
    expect(comparedPair(jobs, { id: 'n3' }, undefined)).toStrictEqual(['n2', 'n3']);
    expect(comparedPair(jobs, { id: 's-1' }, undefined)).toStrictEqual(['s-0', 's-1']);
    expect(comparedPair(jobs, { id: 'n1' }, undefined)).toBe(
      'No earlier run of a.ipynb to compare with.'
    );
    expect(comparedPair(jobs, { id: 'gone' }, undefined)).toBe(
      'No earlier run of gone to compare with.'
    );
  });

  it('without arguments, takes the two newest runs of the notebook in front', () => {
    expect(comparedPair(jobs, {}, 'a.ipynb')).toStrictEqual(['n2', 'n3']);
    expect(comparedPair(jobs, {}, 'other.ipynb')).toMatch(/^Compare needs two runs/);
    expect(comparedPair(jobs, {}, undefined)).toMatch(/^Compare needs two runs/);
  });
});
