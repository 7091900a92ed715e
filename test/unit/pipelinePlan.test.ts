/** From a checked pipeline to its submissions: notebook paths under the root, and what each step waits for. */
import { parsePipeline } from '../../server/pipelines/pipelineFile';
import { dependencyFor, stepNotebookPath } from '../../server/pipelines/pipelinePlan';

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
