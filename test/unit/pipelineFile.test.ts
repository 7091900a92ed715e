/**
 * Pipeline files: what a well-formed one gives, and every refusal a hostile
 * or mistaken one gets (a cycle, an unknown step, 1,001 steps, an alias bomb,
 * a template naming a missing step), each naming what is wrong.
 */
import { MAX_PIPELINE_BYTES, parsePipeline } from '../../server/pipelines/pipelineFile';
import { fillTemplates, referencesIn } from '../../server/pipelines/templates';

const refusal = (text: string): string => {
  try {
    parsePipeline(text);
  } catch (e) {
    expect((e as { kind?: string }).kind).toBe('invalid');
    return (e as Error).message;
  }
  throw new Error('not refused');
};

const THREE_STEPS = `
steps:
  - name: prep
    notebook: prepare.ipynb
    profile: cpu
  - name: train
    notebook: train.ipynb
    profile: gpu
    after: [prep]
    sweep: {seed: [0, 1, 2]}
    max_parallel: 2
    parameters: {data: "{{ prep.output }}"}
  - name: eval
    notebook: evaluate.ipynb
    after: [train]
    after_any: true
    parameters: {summary: "{{ train.summary }}", note: "from {{ prep.values.rows }} rows"}
`;

describe('a pipeline file', () => {
  it('gives its steps in an order they can start in, with what each takes from the others', () => {
    const { steps } = parsePipeline(THREE_STEPS);
    expect(steps.map(s => s.name)).toStrictEqual(['prep', 'train', 'eval']);
    expect(steps[1]).toMatchObject({
      notebook: 'train.ipynb',
      profile: 'gpu',
      after: ['prep'],
      afterAny: false,
      sweep: { parameters: { seed: [0, 1, 2] }, maxParallel: 2 },
      references: [{ parameter: 'data', step: 'prep', field: 'output', text: '{{ prep.output }}' }]
    });
    expect(steps[2].afterAny).toBe(true);
    expect(steps[2].references).toStrictEqual([
      { parameter: 'summary', text: '{{ train.summary }}', step: 'train', field: 'summary' },
      {
        parameter: 'note',
        text: '{{ prep.values.rows }}',
        step: 'prep',
        field: 'values',
        value: 'rows'
      }
    ]);
  });

  it('orders a step after what it comes after, whatever the order in the file', () => {
    const { steps } = parsePipeline(`
steps:
  - {name: c, notebook: c.ipynb, after: [b]}
  - {name: a, notebook: a.ipynb}
  - {name: b, notebook: b.ipynb, after: [a]}
`);
    expect(steps.map(s => s.name)).toStrictEqual(['a', 'b', 'c']);
  });

  it('refuses a cycle, naming it', () => {
    expect(
      refusal(`
steps:
  - {name: a, notebook: a.ipynb, after: [c]}
  - {name: b, notebook: b.ipynb, after: [a]}
  - {name: c, notebook: c.ipynb, after: [b]}
`)
    ).toBe('the steps form a cycle: a → c → b → a (each comes after the next)');
    expect(refusal('steps:\n  - {name: a, notebook: a.ipynb, after: [a]}\n')).toBe(
      'the steps form a cycle: a → a (each comes after the next)'
    );
  });

  it('refuses an unknown step in "after", and two steps of one name', () => {
    expect(
      refusal(
        'steps:\n  - {name: a, notebook: a.ipynb}\n  - {name: b, notebook: b.ipynb, after: [trian]}\n'
      )
    ).toBe('step "b" comes after "trian", which is not a step of this pipeline');
    expect(
      refusal('steps:\n  - {name: a, notebook: a.ipynb}\n  - {name: a, notebook: b.ipynb}\n')
    ).toBe('two steps are named "a" (steps 1 and 2)');
  });

  it('refuses 1,001 steps, and a chain of 1,000 is read without exhausting the stack', () => {
    const chain = (n: number) =>
      'steps:\n' +
      Array.from(
        { length: n },
        (_, i) => `  - {name: s${i}, notebook: n.ipynb${i ? `, after: [s${i - 1}]` : ''}}`
      ).join('\n');
    expect(refusal(chain(1001))).toBe(
      'the pipeline file steps: must NOT have more than 1000 items (1,000 steps at most)'
    );
    const { steps } = parsePipeline(chain(1000));
    expect(steps).toHaveLength(1000);
    expect(steps[999].name).toBe('s999');
  });

  it('refuses an alias bomb without expanding it, and what is not YAML or too large', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 8 }, (_, i) => {
        const prev = i === 0 ? 'a' : `l${i - 1}`;
        return `l${i}: &l${i} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`;
      }),
      'steps: [{name: a, notebook: a.ipynb, parameters: {p: *l7}}]'
    ].join('\n');
    const started = Date.now();
    expect(refusal(bomb)).toMatch(
      /^the pipeline file is not YAML a pipeline can be read from: .*alias/i
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(refusal('steps: [unclosed')).toMatch(/^the pipeline file is not YAML/);
    expect(refusal('steps:\n  - {name: a, notebook: a.ipynb}\nsteps: []\n')).toMatch(
      /^the pipeline file is not YAML .*[Mm]ap keys must be unique/
    );
    expect(refusal(`# ${'x'.repeat(MAX_PIPELINE_BYTES)}\nsteps: []`)).toBe(
      'the pipeline file is 257 KB, more than 256 KB'
    );
  });

  it('refuses a wrong shape in the file’s own terms', () => {
    expect(refusal('- a\n- b\n')).toBe('the pipeline file must be object');
    expect(refusal('42')).toBe('the pipeline file must be a mapping with a list of "steps"');
    expect(refusal('steps:\n  - {name: a, notebook: a.ipynb, afterr: [b]}\n')).toBe(
      'the pipeline file steps[1]: must NOT have additional properties ("afterr" is not a field of a pipeline or a step)'
    );
    expect(refusal('steps:\n  - {name: "a b", notebook: a.ipynb}\n')).toMatch(
      /^the pipeline file steps\[1\]\.name: must match pattern/
    );
    expect(refusal('steps:\n  - {name: a, notebook: a.ipynb, resources: {gpus: -1}}\n')).toBe(
      'the pipeline file steps[1].resources.gpus: must be >= 0'
    );
  });

  it('refuses a template that names a missing step, one not before it, or a field its step has not', () => {
    const two = (params: string, second = 'after: [a]', sweep = '') => `
steps:
  - {name: a, notebook: a.ipynb${sweep}}
  - {name: b, notebook: b.ipynb, ${second}, parameters: ${params}}
`;
    expect(refusal(two('{x: "{{ gone.output }}"}'))).toBe(
      'step "b" takes {{ gone.output }} in "x", but there is no step "gone"'
    );
    expect(refusal(two('{x: "{{ a.output }}"}', 'profile: cpu'))).toBe(
      'step "b" takes {{ a.output }} in "x" but does not come after "a": add it to its "after"'
    );
    expect(refusal(two('{x: "{{ a.summary }}"}'))).toBe(
      'step "b" takes {{ a.summary }}, but "a" is not a sweep: only a sweep has a summary.csv'
    );
    expect(refusal(two('{x: "{{ a.values.loss }}"}', 'after: [a]', ', sweep: {s: [1, 2]}'))).toBe(
      'step "b" takes {{ a.values.loss }}, but "a" is a sweep, whose tasks each record their own: take {{ a.summary }}'
    );
    expect(refusal(two('{x: "{{ a.path }}"}'))).toBe(
      'step "b" has {{ a.path }} in "x": a template is {{ STEP.output }}, {{ STEP.summary }} or {{ STEP.values.NAME }}'
    );
  });
});

describe('templates', () => {
  const resolve = (ref: { step: string; field: string; value?: string }) =>
    ref.field === 'output'
      ? `executed/${ref.step}_executed.ipynb`
      : ref.field === 'values' && ref.value === 'rows'
        ? 1200
        : undefined;

  it('fills a lone template with the value itself, and one in text with its text', () => {
    const parameters = {
      data: '{{ prep.output }}',
      rows: '{{ prep.values.rows }}',
      note: 'read {{ prep.values.rows }} rows from {{prep.output}}',
      nested: { list: ['{{ prep.values.rows }}', 'plain'] },
      untouched: 3
    };
    expect(referencesIn('eval', parameters)).toHaveLength(5);
    expect(fillTemplates('eval', parameters, resolve)).toStrictEqual({
      data: 'executed/prep_executed.ipynb',
      rows: 1200,
      note: 'read 1200 rows from executed/prep_executed.ipynb',
      nested: { list: [1200, 'plain'] },
      untouched: 3
    });
  });

  it('says which template has no value', () => {
    expect(() => fillTemplates('eval', { x: '{{ prep.values.loss }}' }, resolve)).toThrow(
      'step "eval" takes {{ prep.values.loss }}, which "prep" did not make'
    );
  });
});
