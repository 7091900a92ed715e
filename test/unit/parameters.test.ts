/**
 * The pure rules of runs with parameters: what a request may hold against the
 * notebook's `parameters` cell, a sweep's tasks in their order, and the tasks'
 * output names.
 */
import type { NotebookParameter, Parameters } from '../../contract/wire';
import { Refusal } from '../../server/jobs/refusal';
import {
  type InspectedParameters,
  type ParameterRequest,
  checkParameters,
  expandTasks,
  papermillPython,
  taskCount,
  taskOutputName
} from '../../server/jobs/parameters';

const param = (name: string): NotebookParameter => ({
  name,
  inferredType: 'None',
  default: '0',
  help: ''
});
const KNOWN: InspectedParameters = {
  hasParametersCell: true,
  parameters: ['seed', 'lr', 'name'].map(param)
};
const NO_CELL: InspectedParameters = { hasParametersCell: false, parameters: [] };

/** The 400's message, or null when the request passes. */
function refusal(
  request: ParameterRequest,
  known: InspectedParameters = KNOWN,
  maxTasks = 1000
): string | null {
  try {
    checkParameters(request, known, { maxTasks });
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(Refusal);
    expect((e as Refusal).kind).toBe('invalid');
    return (e as Error).message;
  }
}

describe('papermillPython', () => {
  it("is the companion's HPC_SUBMIT_PYTHON, else python3", () => {
    expect(papermillPython({ HPC_SUBMIT_PYTHON: '/opt/jupyter/bin/python' })).toBe(
      '/opt/jupyter/bin/python'
    );
    expect(papermillPython({})).toBe('python3');
  });
});

describe('checkParameters', () => {
  it('passes known names with any JSON values, and a run without parameters', () => {
    expect(
      refusal({ parameters: { seed: 3, lr: 0.1, name: { a: [1, null, true, 'x'] } } })
    ).toBeNull();
    expect(refusal({ sweep: { parameters: { seed: [1, 2] }, mode: 'product' } })).toBeNull();
    expect(refusal({}, NO_CELL)).toBeNull();
    expect(refusal({ parameters: {} }, NO_CELL)).toBeNull();
  });

  it('refuses parameters for a notebook without a cell tagged parameters, saying how to add one', () => {
    const message = refusal({ parameters: { seed: 1 } }, NO_CELL);
    expect(message).toMatch(/no cell tagged "parameters"/);
    expect(message).toMatch(/property inspector/);
    expect(refusal({ sweep: { parameters: { seed: [1] } } }, NO_CELL)).toMatch(
      /no cell tagged "parameters"/
    );
    expect(refusal({ parameters: { seed: 1 }, allowUnknownParameters: true }, NO_CELL)).toBeNull();
  });

  it('refuses unknown names, listing the known ones, unless allowed', () => {
    const message = refusal({ parameters: { sed: 1 } });
    expect(message).toBe(
      'the notebook\'s "parameters" cell does not define "sed"; it defines: "seed", "lr", "name"'
    );
    expect(refusal({ sweep: { parameters: { epochs: [1, 2] } } })).toMatch(
      /does not define "epochs"/
    );
    expect(refusal({ parameters: { sed: 1 }, allowUnknownParameters: true })).toBeNull();
  });

  it('refuses a name that is not a Python identifier, even when unknown names are allowed', () => {
    for (const name of [
      "x = 1\nimport os; os.system('touch pwned')\ny",
      '1seed',
      'a-b',
      'class',
      ''
    ]) {
      expect(refusal({ parameters: { [name]: 1 }, allowUnknownParameters: true })).toMatch(
        /is not a valid parameter name/
      );
    }
  });

  it('refuses a name both fixed and swept', () => {
    expect(refusal({ parameters: { seed: 1 }, sweep: { parameters: { seed: [1, 2] } } })).toBe(
      '"seed" is both fixed and swept; give each parameter either one value or a list to sweep'
    );
  });

  it('refuses a swept list that is empty or not a list, and a sweep of nothing', () => {
    expect(refusal({ sweep: { parameters: { seed: [] } } })).toMatch(
      /values of "seed" must be a non-empty list/
    );
    const notList = { sweep: { parameters: { seed: 3 } } } as unknown as ParameterRequest;
    expect(refusal(notList)).toMatch(/values of "seed" must be a non-empty list/);
    expect(refusal({ sweep: { parameters: {} } })).toMatch(/at least one parameter/);
    const noLists = { sweep: { mode: 'zip' } } as unknown as ParameterRequest;
    expect(refusal(noLists)).toMatch(/"sweep.parameters" must be an object/);
  });

  it('refuses zip lists of different lengths, naming each length', () => {
    expect(
      refusal({ sweep: { parameters: { seed: [1, 2, 3], lr: [0.1, 0.2] }, mode: 'zip' } })
    ).toMatch(/all lists must have one length \(seed: 3, lr: 2\)/);
    expect(
      refusal({ sweep: { parameters: { seed: [1, 2], lr: [0.1, 0.2] }, mode: 'zip' } })
    ).toBeNull();
  });

  it('refuses more tasks than the limit, saying the count and the limit', () => {
    const values = Array.from({ length: 40 }, (_, i) => i);
    const sweep = { parameters: { seed: values, lr: values } };
    expect(refusal({ sweep }, KNOWN, 1000)).toBe(
      'the sweep has 1,600 tasks; at most 1,000 are allowed'
    );
    expect(refusal({ sweep }, KNOWN, 1600)).toBeNull();
    expect(refusal({ sweep: { ...sweep, mode: 'zip' } }, KNOWN, 40)).toBeNull();
  });

  it('refuses a maxParallel that is not a positive whole number, and an unknown mode', () => {
    for (const maxParallel of [0, -1, 1.5, '4', null]) {
      const request = { sweep: { parameters: { seed: [1] }, maxParallel } };
      expect(refusal(request as unknown as ParameterRequest)).toMatch(
        /maxParallel must be a positive whole number/
      );
    }
    expect(refusal({ sweep: { parameters: { seed: [1] }, maxParallel: 4 } })).toBeNull();
    const grid = { sweep: { parameters: { seed: [1] }, mode: 'grid' } };
    expect(refusal(grid as unknown as ParameterRequest)).toMatch(/"product" or "zip", not "grid"/);
  });

  it('refuses values nested deeper than 32 levels, wherever they are', () => {
    const nested = (depth: number): Parameters[string] =>
      depth === 0 ? 1 : depth % 2 ? [nested(depth - 1)] : { k: nested(depth - 1) };
    expect(refusal({ parameters: { seed: nested(32) } })).toBeNull();
    expect(refusal({ parameters: { seed: nested(33) } })).toBe(
      'parameter "seed" is nested deeper than 32 levels'
    );
    expect(refusal({ sweep: { parameters: { seed: [1, nested(33)] } } })).toBe(
      'value 2 of swept "seed" is nested deeper than 32 levels'
    );
  });

  it('refuses strings over 100,000 characters, as values or keys, and lone surrogates', () => {
    const long = 'x'.repeat(100_001);
    expect(refusal({ parameters: { name: 'x'.repeat(100_000) } })).toBeNull();
    expect(refusal({ parameters: { name: long } })).toBe(
      'parameter "name" is a text of 100001 characters; at most 100000 are allowed'
    );
    expect(refusal({ parameters: { name: { [long]: 1 } } })).toMatch(/a key in parameter "name"/);
    expect(refusal({ parameters: { name: 'a\ud800b' } })).toMatch(/lone surrogate/);
    expect(refusal({ parameters: { name: '😀' } })).toBeNull();
  });

  it('refuses a parameters field that is not an object', () => {
    const list = { parameters: [1, 2] } as unknown as ParameterRequest;
    expect(refusal(list)).toMatch(/"parameters" must be an object/);
  });
});

describe('expandTasks', () => {
  it('is one task of the fixed values without a sweep', () => {
    expect(expandTasks({ seed: 1 }, undefined)).toEqual([{ seed: 1 }]);
    expect(expandTasks(undefined, undefined)).toEqual([{}]);
  });

  it('varies the first swept name slowest in a product, fixed values in every task', () => {
    const tasks = expandTasks({ name: 'a' }, { parameters: { seed: [1, 2], lr: [0.1, 0.2, 0.3] } });
    expect(tasks).toEqual([
      { name: 'a', seed: 1, lr: 0.1 },
      { name: 'a', seed: 1, lr: 0.2 },
      { name: 'a', seed: 1, lr: 0.3 },
      { name: 'a', seed: 2, lr: 0.1 },
      { name: 'a', seed: 2, lr: 0.2 },
      { name: 'a', seed: 2, lr: 0.3 }
    ]);
    expect(taskCount({ parameters: { seed: [1, 2], lr: [0.1, 0.2, 0.3] } })).toBe(tasks.length);
  });

  it('takes the i-th value of each list in a zip', () => {
    const sweep = { parameters: { seed: [1, 2, 3], lr: [0.1, 0.2, 0.3] }, mode: 'zip' as const };
    expect(expandTasks({ name: 'a' }, sweep)).toEqual([
      { name: 'a', seed: 1, lr: 0.1 },
      { name: 'a', seed: 2, lr: 0.2 },
      { name: 'a', seed: 3, lr: 0.3 }
    ]);
    expect(taskCount(sweep)).toBe(3);
  });

  it('keeps structured values whole: a list is one value of a swept name', () => {
    expect(expandTasks({}, { parameters: { layers: [[1, 2], [3]] } })).toEqual([
      { layers: [1, 2] },
      { layers: [3] }
    ]);
  });
});

describe('taskOutputName', () => {
  it('is the padded index and the swept values only', () => {
    const task = { seed: 3, lr: 0.01, name: 'fixed' };
    expect(taskOutputName('train', 7, task, ['seed', 'lr'], 3)).toBe('007_seed=3_lr=0.01.ipynb');
    expect(taskOutputName('train', 12, { seed: 1 }, ['seed'], 1)).toBe('12_seed=1.ipynb');
  });

  it('is the stem after the index when nothing is swept', () => {
    expect(taskOutputName('my train', 0, {}, [], 2)).toBe('00_my_train.ipynb');
  });

  it('replaces unsafe characters: no path, no leading dot or dash, no shell meaning', () => {
    const hostile = [
      '../../etc/passwd',
      '-rf /',
      '.hidden',
      "'); import os; os.system('touch pwned') #",
      'a\nb\0c',
      'ünïcödé 😀'
    ];
    const names = hostile.map((value, i) => taskOutputName('t', i, { s: value }, ['s'], 2));
    for (const name of names) {
      expect(name).toMatch(/^[0-9]{2}_s=[A-Za-z0-9._=+-]*\.ipynb$/);
    }
    expect(names[0]).toBe('00_s=.._.._etc_passwd.ipynb');
    expect(names[1]).toBe('01_s=-rf__.ipynb');
    expect(new Set(names).size).toBe(names.length);
  });

  it('writes non-strings as JSON, cuts each value to 40 characters', () => {
    expect(taskOutputName('t', 1, { l: [1, 2], d: null }, ['l', 'd'], 1)).toBe(
      '1_l=_1_2__d=null.ipynb'
    );
    const name = taskOutputName('t', 1, { s: 'v'.repeat(100) }, ['s'], 1);
    expect(name).toBe(`1_s=${'v'.repeat(40)}.ipynb`);
  });

  it('stays within 200 bytes with many swept names, and unique by its index', () => {
    const names = Array.from({ length: 20 }, (_, i) => `parameter_${i}`);
    const task = Object.fromEntries(names.map(n => [n, 'x'.repeat(40)]));
    const a = taskOutputName('t', 1, task, names, 4);
    const b = taskOutputName('t', 2, task, names, 4);
    expect(Buffer.byteLength(a)).toBe(200);
    expect(a.endsWith('.ipynb')).toBe(true);
    expect(a).not.toBe(b);
  });
});
