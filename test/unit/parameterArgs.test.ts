/**
 * The CLI's parameters mean what papermill's own command line means: every
 * expected value here comes from papermill itself (its click command, run in
 * the test Python with execute_notebook replaced by a recorder), never from
 * this file.
 */
import { spawnSync } from 'node:child_process';
import type { ParameterValue } from '../../contract/wire';
import {
  type PairOption,
  type PairSpelling,
  loadYaml,
  parameterFields,
  takePairOptions
} from '../../server/cli/parameterArgs';
import { PYTHON } from '../fixtures/jobRuntime';

type Outcome = { value: ParameterValue } | { refused: string };

/**
 * Papermill's reading of each case: for an argv, the parameters its CLI
 * hands to execute_notebook; for a YAML list (`{list}`), PyYAML's reading
 * with papermill's loader, which must be a non-empty list. `refused` where it
 * fails, or where the value cannot travel as JSON exactly.
 */
const PAPERMILL_ORACLE = `
import json, sys, yaml
import papermill.cli as cli
from papermill.iorw import NoDatesSafeLoader

def sendable(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return True
    if isinstance(v, int):
        return abs(v) <= 2**53 - 1
    if isinstance(v, float):
        return v == v and abs(v) != float('inf')
    if isinstance(v, list):
        return all(sendable(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and sendable(x) for k, x in v.items())
    return False

def reading(case):
    if 'list' in case:
        value = yaml.load(case['list'], Loader=NoDatesSafeLoader)
        if not isinstance(value, list) or not value:
            raise ValueError('not a non-empty list')
        return value
    seen = {}
    cli.execute_notebook = lambda **kw: seen.update(kw['parameters'])
    cli.papermill.main(args=['in.ipynb', 'out.ipynb', *case['argv']], standalone_mode=False)
    return seen

out = []
for case in json.load(sys.stdin):
    try:
        value = reading(case)
    except Exception as e:
        out.append({'refused': type(e).__name__})
        continue
    out.append({'value': value} if sendable(value) else {'refused': 'not JSON: ' + repr(value)})
print(json.dumps(out))
`;

type Case = { argv: string[] } | { list: string };

function papermill(cases: Case[]): Outcome[] {
  const r = spawnSync(PYTHON, ['-c', PAPERMILL_ORACLE], {
    input: JSON.stringify(cases),
    encoding: 'utf8'
  });
  if (r.status !== 0) {
    throw new Error(`papermill's reading failed: ${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

const PAIRS: Record<string, PairSpelling> = {
  '-p': { option: 'parameters', value: 'NAME VALUE' },
  '--parameters': { option: 'parameters', value: 'NAME VALUE' },
  '--sweep': { option: 'sweep', value: 'NAME VALUES' }
};

const outcome = (read: () => ParameterValue): Outcome => {
  try {
    return { value: read() };
  } catch (e) {
    return { refused: (e as Error).message };
  }
};

/** This CLI's reading of the same case. */
function ours(c: Case): Outcome {
  if ('list' in c) {
    return outcome(() => {
      const fields = parameterFields({
        yaml: [],
        pairs: [{ flag: '--sweep', option: 'sweep', name: 'x', value: c.list }],
        zip: false,
        allowUnknown: false
      });
      return fields.sweep?.parameters.x ?? null;
    });
  }
  return outcome(() => {
    const { rest, found } = takePairOptions(c.argv, PAIRS, new Set(['-y']));
    // What parseArgs leaves is -y YAML, -y YAML, ...
    const yaml = rest.filter((_, i) => i % 2 === 1);
    return (
      parameterFields({ yaml, pairs: found, zip: false, allowUnknown: false }).parameters ?? {}
    );
  });
}

const p = (value: string): Case => ({ argv: ['-p', 'x', value] });
const y = (text: string): Case => ({ argv: ['-y', text] });

const CASES: Case[] = [
  // -p: True, False, None, int(), float(), else the text as is
  ...['True', 'False', 'None', 'true', 'none', 'TRUE', ''].map(p),
  ...['0', '42', '-7', '+7', '007', ' 12 ', '1_000', '1__0', '_1', '1_', '-0'].map(p),
  ...['١٢', '１２', '\u00a05\u2003', '5\x1f', '5\x85', '\ufeff5'].map(p),
  ...['1.5', '-0.0', '.5', '5.', '1e5', '1E-3', '1_0.2_5', '1e1_0', '+.5', '1.e3'].map(p),
  ...['inf', '-Infinity', 'nan', 'NaN', '1e400', '12345678901234567890', '9007199254740991'].map(p),
  ...['[1, 2]', '{a: 1}', "'quoted'", '0x10', '1:30', 'lr=0.1', '2024-01-01'].map(p),
  // -y: PyYAML's YAML 1.1, without dates
  y('lr: 0.1'),
  y('{lr: 0.1, layers: [64, 128], name: cnn, flag: yes, off_: No, nothing: ~, also:}'),
  y('{lr: 0.1, on: 1}'),
  y('{lr: 0.1, null: 1}'),
  y('a: [1_000, 0b101, 0x1F, 010, 08, 0o7, 1:30, -1:30, 1:30.5, 0_]'),
  y('a: [1e5, 1.0e5, 1.0e+5, 1., .5, +.5, -.5, 1_0.5, .inf, .NaN]'),
  y('a: 2024-01-01\nb: 2024-01-01 10:00:00'),
  y('a: [y, n, Yes, NO, on, OFF, true, True, TRUE, tRue]'),
  y('a: "1"\nb: \'yes\'\nc: !!str 5\nd: !!int "7"'),
  y('a: 1\na: 2'),
  y('base: &b {c: 1, d: 2}\nmore: {<<: *b, d: 3}'),
  y('a: 0xfffffffffffffffffff'),
  y(''),
  y('false'),
  y('[]'),
  y('[a, b]'),
  y('just text'),
  y('a: [1'),
  y('a: 1\n---\nb: 2'),
  // every -y comes before every -p, and later ones win
  { argv: ['-p', 'a', '1', '-y', 'a: 2\nb: 2', '-y', 'b: 3'] },
  { argv: ['--parameters', 'a', 'x', '-p', 'a', 'y'] },
  { argv: ['-p', 'a', '-p', '-p', 'b', '--'] },
  // --sweep: the values are a YAML list
  { list: '[1, 2, 3]' },
  { list: '[0.1, 1e-3, 1.0e-3, yes, ~, "2", [1, 2], {a: 1}]' },
  { list: '- 1\n- 2' },
  { list: '1' },
  { list: '[]' },
  { list: '{a: 1}' },
  { list: '[1, .inf]' }
];

describe("parameters as papermill's command line reads them", () => {
  const expected = papermill(CASES);

  it.each(CASES.map((c, i) => [JSON.stringify(c), c, i] as const))('%s', (_, c, i) => {
    const mine = ours(c);
    const theirs = expected[i];
    if ('refused' in theirs) {
      expect(mine).toEqual({ refused: expect.any(String) });
    } else {
      expect(mine).toEqual(theirs);
    }
  });

  it("papermill's -p keeps a list's text as a string", () => {
    // The case that looks like YAML but is not read as YAML.
    const i = CASES.findIndex(c => 'argv' in c && c.argv[2] === '[1, 2]');
    expect(expected[i]).toEqual({ value: { x: '[1, 2]' } });
  });
});

describe('takePairOptions', () => {
  const take = (argv: string[]) => takePairOptions(argv, PAIRS, new Set(['--profile', '-y']));

  it('takes each two-value option with its two values and leaves the rest in order', () => {
    const { rest, found } = take([
      'run',
      'nb.ipynb',
      '-p',
      'lr',
      '-1',
      '--wait',
      '--sweep',
      'b',
      '[1]'
    ]);
    expect(rest).toEqual(['run', 'nb.ipynb', '--wait']);
    expect(found).toEqual<PairOption[]>([
      { flag: '-p', option: 'parameters', name: 'lr', value: '-1' },
      { flag: '--sweep', option: 'sweep', name: 'b', value: '[1]' }
    ]);
  });

  it("passes over another option's value and everything after --", () => {
    const { rest, found } = take(['run', '--profile', '-p', '-y', '-p', '--', '-p', 'a', 'b']);
    expect(found).toEqual([]);
    expect(rest).toEqual(['run', '--profile', '-p', '-y', '-p', '--', '-p', 'a', 'b']);
  });

  it('says what is missing when the values are not all there', () => {
    expect(() => take(['run', 'nb.ipynb', '-p', 'lr'])).toThrow('-p needs NAME VALUE');
    expect(() => take(['run', '--sweep'])).toThrow('--sweep needs NAME VALUES');
  });
});

describe('parameterFields', () => {
  const pair = (option: 'parameters' | 'sweep', name: string, value: string): PairOption => ({
    flag: option === 'sweep' ? '--sweep' : '-p',
    option,
    name,
    value
  });
  const fields = (pairs: PairOption[], more: { zip?: boolean; maxParallel?: number } = {}) =>
    parameterFields({ yaml: [], pairs, zip: false, allowUnknown: false, ...more });

  it('builds the sweep: product by default, zip and max-parallel when asked', () => {
    const pairs = [
      pair('parameters', 'epochs', '3'),
      pair('sweep', 'lr', '[0.1, 0.01]'),
      pair('sweep', 'opt', '[adam, sgd]')
    ];
    expect(fields(pairs)).toEqual({
      parameters: { epochs: 3 },
      sweep: { parameters: { lr: [0.1, 0.01], opt: ['adam', 'sgd'] }, mode: 'product' }
    });
    expect(fields(pairs, { zip: true, maxParallel: 2 }).sweep).toEqual({
      parameters: { lr: [0.1, 0.01], opt: ['adam', 'sgd'] },
      mode: 'zip',
      maxParallel: 2
    });
  });

  it('sends nothing it was not given', () => {
    expect(fields([])).toEqual({});
    expect(parameterFields({ yaml: [], pairs: [], zip: false, allowUnknown: true })).toEqual({
      allowUnknownParameters: true
    });
  });

  it.each([
    [
      [pair('sweep', 'lr', '0.1')],
      {},
      "--sweep lr: the values must be a list, as '[0.1, 0.01]', not 0.1"
    ],
    [[pair('sweep', 'lr', '[]')], {}, '--sweep lr: the list of values is empty'],
    [[pair('sweep', 'lr', '[1'), pair('sweep', 'b', '[1]')], {}, /^--sweep lr: unexpected end/],
    [[pair('sweep', 'lr', '[1]'), pair('sweep', 'lr', '[2]')], {}, '--sweep lr is given twice'],
    [
      [pair('parameters', 'lr', '1'), pair('sweep', 'lr', '[2]')],
      {},
      'lr is both fixed (-p or -y) and swept (--sweep)'
    ],
    [[pair('parameters', 'lr', '1')], { zip: true }, '--zip needs --sweep'],
    [[], { maxParallel: 2 }, '--max-parallel needs --sweep'],
    [
      [pair('sweep', 'a', '[1, 2]'), pair('sweep', 'b', '[1]')],
      { zip: true },
      '--zip needs lists of one length: a has 2, b has 1'
    ],
    [[pair('parameters', '1x', '1')], {}, 'parameter: "1x" is not a Python variable name'],
    [[pair('sweep', 'a b', '[1]')], {}, '--sweep: "a b" is not a Python variable name'],
    [[pair('parameters', 'n', '1e999')], {}, '-p n: 1e999 reads as infinity or NaN']
  ])('refuses %j %j: %s', (pairs, more, message) => {
    expect(() => fields(pairs, more)).toThrow(message);
  });

  it('names the -y whose YAML it cannot read', () => {
    expect(() => loadYaml('a: [1', '-y "a: [1"')).toThrow(/^-y "a: \[1": unexpected end/);
  });
});
