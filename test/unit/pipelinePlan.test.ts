/** From a checked pipeline to its submissions: notebook paths under the root, and what each step waits for. */
import { parsePipeline } from '../../server/pipelines/pipelineFile';
import { lateParameters } from '../../server/pipelines/lateParameters';
import { dependencyFor, stepNotebookPath, waitIdsOf } from '../../server/pipelines/pipelinePlan';

const refused = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('not refused');
};

describe('step notebook paths', () => {
  it('reads a notebook relative to the pipeline file’s folder, climbing out of it but not above the root', () => {
    expect(stepNotebookPath('exp/run.pipeline.yaml', 'prep', 'prepare.ipynb')).toBe(
      'exp/prepare.ipynb'
    );
    expect(stepNotebookPath('exp/pipes/run.yaml', 'prep', '../data/./prep.ipynb')).toBe(
      'exp/data/prep.ipynb'
    );
    expect(stepNotebookPath('run.yaml', 'prep', 'a//b.ipynb')).toBe('a/b.ipynb');
    expect(refused(() => stepNotebookPath('exp/run.yaml', 'prep', '../../etc/x.ipynb'))).toBe(
      'step "prep": "../../etc/x.ipynb" leads above the Jupyter root'
    );
    expect(refused(() => stepNotebookPath('run.yaml', 'prep', '/etc/x.ipynb'))).toBe(
      'step "prep": the notebook is written relative to the pipeline file\'s folder, not absolute: "/etc/x.ipynb"'
    );
    expect(refused(() => stepNotebookPath('run.yaml', 'prep', 'notes.txt'))).toBe(
      '"notes.txt" is not a notebook: only .ipynb files can be run'
    );
  });
});

describe('what a step waits for', () => {
  const { steps } = parsePipeline(`
steps:
  - {name: prep, notebook: p.ipynb}
  - {name: train, notebook: t.ipynb, after: [prep], sweep: {seed: [0, 1]}}
  - {name: report, notebook: r.ipynb, after: [train, prep], after_any: true}
`);
  it('waits for nothing first, then for the scheduler ids of the steps it comes after', () => {
    const submitted = new Map([
      ['prep', ['101']],
      ['train', ['102']]
    ]);
    expect(dependencyFor(steps[0], submitted)).toBeUndefined();
    expect(dependencyFor(steps[1], submitted)).toStrictEqual({ schedulerIds: ['101'], any: false });
    expect(dependencyFor(steps[2], submitted)).toStrictEqual({
      schedulerIds: ['102', '101'],
      any: true
    });
    expect(refused(() => dependencyFor(steps[2], new Map([['prep', ['101']]])))).toBe(
      'step "report" comes after "train", which has not been submitted yet'
    );
  });
});

describe('what a later step waits for', () => {
  it('waits for a Slurm job array as the array, and for other runs by their own ids', () => {
    expect(waitIdsOf(['123_0', '123_1', '123_2'])).toEqual(['123']);
    expect(waitIdsOf(['77'])).toEqual(['77']);
    expect(waitIdsOf(['123_0', '124_0'])).toEqual(['123_0', '124_0']);
    expect(waitIdsOf(['4101', '4102', '4101'])).toEqual(['4101', '4102']);
  });
});

describe('late parameters', () => {
  const steps = parsePipeline(
    [
      'steps:',
      '  - {name: prep, notebook: p.ipynb}',
      '  - {name: train, notebook: t.ipynb, after: [prep], sweep: {seed: [1, 2]}}',
      '  - name: eval',
      '    notebook: e.ipynb',
      '    after: [train, prep]',
      '    parameters:',
      '      loss: "{{ prep.values.loss }}"',
      '      note: "loss was {{ prep.values.loss }}"',
      '      table: "{{ train.summary }}"',
      '      fixed: 3'
    ].join('\n')
  ).steps;
  const earlier = (step: string) =>
    step === 'train'
      ? { jobDir: '/s/jobs/T-0', summary: { path: '/r/executed/t/summary.csv', rows: 2 } }
      : { jobDir: `/s/jobs/${step}` };

  it('names the values to read at the start, from whose results.json, and the summaries to await', () => {
    const evalStep = steps[2];
    const late = lateParameters(
      {
        loss: '{{ prep.values.loss }}',
        note: 'loss was {{ prep.values.loss }}',
        table: '/r/executed/t/summary.csv',
        fixed: 3
      },
      evalStep.references,
      earlier
    );
    expect(late).toEqual({
      parameters: { loss: '{{ prep.values.loss }}', note: 'loss was {{ prep.values.loss }}' },
      sources: { prep: '/s/jobs/prep/results.json' },
      summaries: [{ path: '/r/executed/t/summary.csv', rows: 2 }]
    });
  });

  it('is nothing for a step that takes nothing late', () => {
    expect(lateParameters({}, steps[1].references, earlier)).toBeUndefined();
  });
});
