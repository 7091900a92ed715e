/// <reference lib="dom" />
/**
 * "Run with parameters…": what typed text means as a value, the sentence
 * before submitting, the request a form makes, and the values a notebook
 * keeps for next time.
 */
import { Dialog } from '@jupyterlab/apputils';
import { NotebookModel } from '@jupyterlab/notebook';
import { isFulfilled, sleep } from '@jupyterlab/testing/lib/common';
import { loadChoice, readSubmitMetadata, saveRecord, saveRunValues } from '../../src/metadata';
import { recordLabel } from '../../src/labels';
import {
  formatSweepValues,
  formatValue,
  parseSweepValues,
  parseValue
} from '../../src/parameterValues';
import {
  initialForm,
  type ParametersFormState,
  readForm,
  readRecordNames,
  runCount,
  runsSentence,
  type Submission,
  sweepRequest
} from '../../src/parametersPlan';
import type { NotebookParameter, ParameterValue } from '../../contract/wire';

const SEED: NotebookParameter = { name: 'seed', inferredType: 'int', default: '0', help: '' };
const LR: NotebookParameter = { name: 'lr', inferredType: 'float', default: '0.01', help: '' };
const TARGET: NotebookParameter = {
  name: 'target',
  inferredType: 'str',
  default: "'nzra'",
  help: 'the series to fit'
};

const valueOf = (text: string) => {
  const parsed = parseValue(text);
  if (!parsed.ok) {
    throw new Error(`${text}: ${parsed.error}`);
  }
  return parsed.value;
};

/** A form of seed, lr and target with these texts; a name in `swept` has its sweep toggle on. */
function form(
  texts: Partial<Record<'seed' | 'lr' | 'target', string>>,
  swept: string[] = [],
  rest: Partial<ParametersFormState> = {}
): ParametersFormState {
  return {
    fields: [SEED, LR, TARGET].map(parameter => ({
      parameter,
      text: texts[parameter.name as 'seed'] ?? '',
      sweep: swept.includes(parameter.name)
    })),
    mode: 'product',
    maxParallel: '4',
    record: '',
    ...rest
  };
}

function submission(state: ParametersFormState): Submission {
  const read = readForm(state);
  if (!read.ok) {
    throw new Error(read.error);
  }
  return read.value;
}

describe('a typed value', () => {
  test.each<[string, ParameterValue]>([
    ['0.01', 0.01],
    ['-3', -3],
    ['1e-3', 0.001],
    ['.5', 0.5],
    ['1_000', 1000],
    ['"nzra"', 'nzra'],
    ["'nzra'", 'nzra'],
    ['nzra', 'nzra'],
    ['  two words  ', 'two words'],
    ['[1,2]', [1, 2]],
    ["['a', 'b',]", ['a', 'b']],
    ['(1, 2)', [1, 2]],
    ['{"a": 1}', { a: 1 }],
    ["{'a': None}", { a: null }],
    ['True', true],
    ['false', false],
    ['None', null],
    ['null', null],
    ['"True"', 'True'],
    ['"1"', '1'],
    ["'it\\'s'", "it's"],
    ['"caf\\u00e9"', 'café'],
    ['toString', 'toString']
  ])('%s reads as %j', (text, value) => {
    expect(valueOf(text)).toStrictEqual(value);
  });

  test.each(['[1, 2', '{"a": }', "'open", 'a, b', ''])(
    '%j is refused, saying how to write one',
    text => {
      const parsed = parseValue(text);
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.error).toMatch(/write a number, true or false, null, "text"/);
    }
  );

  test('reads back from its own text, strings bare where they can be', () => {
    const values: ParameterValue[] = ['nzra', 'True', '1', 'a, b', 3, 0.5, [1, 'x'], { k: null }];
    for (const value of values) {
      expect(valueOf(formatValue(value))).toStrictEqual(value);
    }
    expect(formatValue('nzra')).toBe('nzra');
    expect(formatValue('1')).toBe('"1"');
  });
});

describe('the values of a sweep', () => {
  test.each<[string, ParameterValue[]]>([
    ['1,2,3', [1, 2, 3]],
    [' 1, 2 , 3 ', [1, 2, 3]],
    ['[1, 2, 3]', [1, 2, 3]],
    ['a, b', ['a', 'b']],
    ['"a, b", c', ['a, b', 'c']],
    [
      '[1, 2], [3, 4]',
      [
        [1, 2],
        [3, 4]
      ]
    ],
    ['[[1, 2]]', [[1, 2]]],
    ['0.1', [0.1]]
  ])('%s lists %j', (text, values) => {
    const parsed = parseSweepValues(text);
    expect(parsed).toStrictEqual({ ok: true, value: values });
  });

  test.each([
    ['', /list the values/],
    ['[]', /empty/],
    ['1,,2', /empty value between commas/],
    ['1, [2', /\[2 is not a value/]
  ])('%j is refused', (text, error) => {
    const parsed = parseSweepValues(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(error);
  });

  test('read back from their own text', () => {
    const lists: ParameterValue[][] = [[1, 2, 3], ['a', 'b'], [[1, 2]], [[1, 2], [3]], ['x, y']];
    for (const list of lists) {
      expect(parseSweepValues(formatSweepValues(list))).toStrictEqual({ ok: true, value: list });
    }
    expect(formatSweepValues([1, 2, 3])).toBe('1, 2, 3');
  });
});

describe('the runs a form asks for', () => {
  test('names the variables to record, once each, and refuses what is not a variable name', () => {
    expect(submission(form({}, [], { record: ' loss, acc ,loss,' })).record).toStrictEqual([
      'loss',
      'acc'
    ]);
    expect(readRecordNames('loss, val-acc')).toStrictEqual({
      ok: false,
      error: 'record: val-acc is not a variable name'
    });
    expect(readRecordNames('')).toStrictEqual({ ok: true, value: [] });
  });

  test('an untouched form is one run with the notebook defaults', () => {
    const single = submission(form({}));
    expect(single).toStrictEqual({ kind: 'single', parameters: {}, record: [] });
    expect(runsSentence(single, 'GPU node')).toBe('1 run on GPU node');
  });

  test('overrides are the parameters of one run; a list value stays one value', () => {
    expect(submission(form({ lr: '0.1', target: 'ozra', seed: '[1, 2]' }))).toStrictEqual({
      kind: 'single',
      parameters: { seed: [1, 2], lr: 0.1, target: 'ozra' },
      record: []
    });
  });

  test('a swept list is a sweep: product multiplies, fixed values go along', () => {
    const state = form({ seed: '1,2,3', lr: '[0.1, 0.01]', target: 'ozra' }, ['seed', 'lr']);
    const sweep = submission(state);
    expect(sweep).toStrictEqual({
      kind: 'sweep',
      parameters: { target: 'ozra' },
      sweep: { parameters: { seed: [1, 2, 3], lr: [0.1, 0.01] }, mode: 'product', maxParallel: 4 },
      runs: 6,
      record: []
    });
    expect(runsSentence(sweep, 'GPU node')).toBe('6 runs, at most 4 at once, on GPU node');
  });

  test('zip pairs values one to one and needs lists of one length', () => {
    const zipped = submission(
      form({ seed: '1,2,3', lr: '0.1, 0.2, 0.3' }, ['seed', 'lr'], {
        mode: 'zip',
        maxParallel: '2'
      })
    );
    expect(zipped.kind === 'sweep' && zipped.runs).toBe(3);
    expect(runsSentence(zipped, 'CPU node')).toBe('3 runs, at most 2 at once, on CPU node');
    expect(runCount({ seed: [1, 2, 3], lr: [0.1] }, 'zip')).toStrictEqual({
      ok: false,
      error:
        'one to one (zip) pairs the i-th values, so every swept parameter needs as many values: seed has 3, lr has 1'
    });
    expect(runCount({ seed: [1, 2, 3], lr: [0.1, 0.2] }, 'product')).toStrictEqual({
      ok: true,
      value: 6
    });
  });

  test('a sweep of one value is one run', () => {
    expect(runsSentence(submission(form({ seed: '7' }, ['seed'])), 'GPU node')).toBe(
      '1 run on GPU node'
    );
  });

  test.each([
    [form({ seed: '[1,' }), 'seed: [1, is not a value'],
    [form({ seed: '' }, ['seed']), 'seed: list the values to run with'],
    [form({ seed: '1,2' }, ['seed'], { maxParallel: '0' }), 'max at once: 0 is not a whole'],
    [form({ seed: '1,2' }, ['seed'], { maxParallel: '2.5' }), 'max at once: 2.5 is not a whole'],
    [form({ seed: '1,2' }, ['seed'], { maxParallel: ' ' }), 'max at once: nothing is not']
  ])('a form that cannot be sent says why, naming the field (%#)', (state, error) => {
    const read = readForm(state);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.error).toContain(error);
  });

  test('the sweep request carries the profile, resources and fixed values', () => {
    const sweep = submission(form({ seed: '1,2,3', target: 'ozra' }, ['seed']));
    if (sweep.kind !== 'sweep') {
      throw new Error('expected a sweep');
    }
    expect(sweepRequest('dir/sweep.ipynb', { profile: 'gpu' }, { gpus: 1 }, sweep)).toStrictEqual({
      notebook: 'dir/sweep.ipynb',
      profile: 'gpu',
      resources: { gpus: 1 },
      parameters: { target: 'ozra' },
      sweep: { parameters: { seed: [1, 2, 3] }, mode: 'product', maxParallel: 4 }
    });
    const bare = submission(form({ seed: '1,2' }, ['seed']));
    expect(
      bare.kind === 'sweep' && sweepRequest('a.ipynb', { profile: 'cpu' }, undefined, bare)
    ).toStrictEqual({
      notebook: 'a.ipynb',
      profile: 'cpu',
      sweep: { parameters: { seed: [1, 2] }, mode: 'product', maxParallel: 4 }
    });
  });
});

describe('the values a notebook keeps', () => {
  test('the last sweep fills the form next time, keeping the profile', () => {
    const nb = new NotebookModel();
    nb.setMetadata('hpc_submit', { profile: 'cpu' });
    const sweep = submission(
      form({ seed: '1, 2, 3', target: 'ozra' }, ['seed'], { mode: 'zip', maxParallel: '2' })
    );
    expect(sweep.kind).toBe('sweep');
    expect(
      saveRunValues(nb, sweep.parameters, sweep.kind === 'sweep' ? sweep.sweep : undefined)
    ).toBe(true);
    expect(nb.getMetadata('hpc_submit')).toStrictEqual({
      profile: 'cpu',
      parameters: { target: 'ozra' },
      sweep: { parameters: { seed: [1, 2, 3] }, mode: 'zip', maxParallel: 2 }
    });
    expect(initialForm([SEED, LR, TARGET], loadChoice(nb))).toStrictEqual(
      form({ seed: '1, 2, 3', target: 'ozra' }, ['seed'], { mode: 'zip', maxParallel: '2' })
    );

    // The same values again write nothing; a single run drops the sweep.
    expect(
      saveRunValues(nb, { target: 'ozra' }, sweep.kind === 'sweep' ? sweep.sweep : undefined)
    ).toBe(false);
    expect(saveRunValues(nb, { lr: 0.5 }, undefined)).toBe(true);
    expect(nb.getMetadata('hpc_submit')).toStrictEqual({ profile: 'cpu', parameters: { lr: 0.5 } });
    expect(initialForm([SEED, LR, TARGET], loadChoice(nb))).toStrictEqual(form({ lr: '0.5' }));
  });

  test("the toolbar's record entry saves the names alone, keeping the rest", () => {
    const nb = new NotebookModel();
    nb.setMetadata('hpc_submit', { profile: 'cpu', parameters: { lr: 0.1 } });
    expect(recordLabel(loadChoice(nb).record ?? [])).toBe('Record…');
    expect(saveRecord(nb, ['loss', 'accuracy'])).toBe(true);
    expect(nb.getMetadata('hpc_submit')).toStrictEqual({
      profile: 'cpu',
      parameters: { lr: 0.1 },
      record: ['loss', 'accuracy']
    });
    expect(recordLabel(loadChoice(nb).record ?? [])).toBe('record: loss, accuracy');
    expect(saveRecord(nb, ['loss', 'accuracy'])).toBe(false);
    expect(saveRecord(nb, [])).toBe(true);
    expect(nb.getMetadata('hpc_submit')).toStrictEqual({ profile: 'cpu', parameters: { lr: 0.1 } });
  });

  test('the variables to record are kept for the run to read, and fill the form next time', () => {
    const nb = new NotebookModel();
    expect(saveRunValues(nb, {}, undefined, ['loss', 'acc'])).toBe(true);
    expect(nb.getMetadata('hpc_submit')).toStrictEqual({ record: ['loss', 'acc'] });
    expect(initialForm([SEED], loadChoice(nb)).record).toBe('loss, acc');
    // The job also reads one string, as a user may write it by hand.
    expect(readSubmitMetadata({ record: 'loss, acc' }).record).toStrictEqual(['loss', 'acc']);
    expect(saveRunValues(nb, {}, undefined, [])).toBe(true);
    expect(nb.getMetadata('hpc_submit')).toStrictEqual({});
  });

  test('a notebook without saved values starts empty, with 4 at once', () => {
    expect(initialForm([SEED, LR], {})).toStrictEqual({
      fields: [
        { parameter: SEED, text: '', sweep: false },
        { parameter: LR, text: '', sweep: false }
      ],
      mode: 'product',
      maxParallel: '4',
      record: ''
    });
    // The "max at once" setting gives a new sweep its start value.
    expect(initialForm([SEED], {}, 2).maxParallel).toBe('2');
  });

  test('stored values that are not a sweep are ignored', () => {
    expect(
      readSubmitMetadata({ parameters: [1], sweep: { parameters: { seed: 3 } } })
    ).toStrictEqual({});
    expect(
      readSubmitMetadata({
        sweep: { parameters: { seed: [1], lr: 'x' }, mode: 'diagonal', maxParallel: 0 }
      })
    ).toStrictEqual({ sweep: { parameters: { seed: [1] } } });
  });
});

describe('the dialog', () => {
  /**
   * The dialog's module, as jest loads it. It is .tsx, and the companion's
   * tsconfig, which type-checks these tests too, has no JSX: so its one
   * function is typed here rather than imported.
   */
  const { showParametersDialog } = jest.requireActual<{
    showParametersDialog(options: {
      notebook: string;
      profileLabel: string;
      initial: ParametersFormState;
      submit(submission: Submission): Promise<void>;
    }): Promise<boolean>;
  }>('../../src/parametersDialog');

  afterEach(() => Dialog.flush());

  /** Types into an input as a user does: React reads the value from the input event. */
  function type(input: HTMLInputElement, text: string): void {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, text);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }

  /** Resolves with the element once the dialog has rendered it. */
  async function find<E extends Element>(selector: string): Promise<E> {
    for (let i = 0; i < 100; i++) {
      const found = document.querySelector<E>(`.jp-Dialog ${selector}`);
      if (found) {
        return found;
      }
      await sleep(10);
    }
    throw new Error(`no ${selector} in the dialog`);
  }

  const text = (selector: string) => document.querySelector(`.jp-Dialog ${selector}`)?.textContent;

  test('says what Run submits, keeps a refusal in view, and closes once the companion accepts', async () => {
    const sent: Submission[] = [];
    const refusals = ['seed: the notebook has no such parameter'];
    const shown = showParametersDialog({
      notebook: 'sweep.ipynb',
      profileLabel: 'GPU node',
      initial: initialForm([SEED, TARGET], {}),
      submit: async submission => {
        sent.push(submission);
        const refusal = refusals.shift();
        if (refusal) {
          throw new Error(refusal);
        }
      }
    });
    const seed = await find<HTMLInputElement>('#jp-HpcSubmit-param-seed');
    expect(text('[data-parameter="target"] .jp-HpcSubmit-paramDefault')).toBe("'nzra'");
    expect(text('[data-parameter="target"] .jp-HpcSubmit-paramType')).toBe('str');
    expect(text('.jp-HpcSubmit-paramSummary')).toBe('1 run on GPU node');

    (await find<HTMLInputElement>('[aria-label="Sweep seed over several values"]')).click();
    type(seed, '1,2,3');
    await sleep(20);
    expect(text('.jp-HpcSubmit-paramSummary')).toBe('3 runs, at most 4 at once, on GPU node');

    (await find<HTMLButtonElement>('.jp-mod-accept')).click();
    expect((await find('[role="alert"]')).textContent).toBe(
      'seed: the notebook has no such parameter'
    );
    expect(await isFulfilled(shown)).toBe(false);

    (await find<HTMLButtonElement>('.jp-mod-accept')).click();
    expect(await shown).toBe(true);
    expect(document.querySelector('.jp-Dialog')).toBeNull();
    expect(sent).toHaveLength(2);
    expect(sent[1]).toStrictEqual({
      kind: 'sweep',
      parameters: {},
      sweep: { parameters: { seed: [1, 2, 3] }, mode: 'product', maxParallel: 4 },
      runs: 3,
      record: []
    });
  });

  test('refuses to submit a value it cannot read, naming the parameter', async () => {
    const sent: Submission[] = [];
    const shown = showParametersDialog({
      notebook: 'sweep.ipynb',
      profileLabel: 'GPU node',
      initial: initialForm([SEED], {}),
      submit: async submission => {
        sent.push(submission);
      }
    });
    type(await find<HTMLInputElement>('#jp-HpcSubmit-param-seed'), '[1, 2');
    await sleep(20);
    expect(text('#jp-HpcSubmit-param-seed-error')).toMatch(/^\[1, 2 is not a value/);
    (await find<HTMLButtonElement>('.jp-mod-accept')).click();
    expect((await find('[role="alert"]')).textContent).toMatch(/^seed: \[1, 2 is not a value/);
    expect(sent).toHaveLength(0);
    (await find<HTMLButtonElement>('.jp-mod-reject')).click();
    expect(await shown).toBe(false);
  });
});
