/**
 * The papermill bridge with the real papermill of the test environment
 * (HPC_SUBMIT_TEST_PYTHON): parameters read from a notebook's cell tagged
 * `parameters`, copies injected and executed by nbconvert, values arriving
 * as the exact data sent (never as code), a thousand copies in one process,
 * and summary.csv read back by Python.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Job, Parameters } from '../../contract/wire';
import { Refusal } from '../../server/jobs/refusal';
import {
  inspectParameters,
  taskOutputName,
  writeParameterizedNotebooks
} from '../../server/jobs/parameters';
import { renderSummaryCsv, writeSweepSummary } from '../../server/jobs/sweepSummary';
import {
  PYTHON,
  TEST_KERNEL,
  installTestKernel,
  jobEnv,
  mkdirp,
  notebookJson,
  tempDir,
  type ParsedNotebook
} from '../fixtures/jobRuntime';
import { testUnless } from '../fixtures/skip';

const run = promisify(execFile);

const PARAMETERS_CELL = [
  'seed: int = 0  # random seed\n',
  'lr: float = 0.01\n',
  "name: str = 'nzra'  # the run's name\n",
  'layers: list = [1, 2]\n',
  'untyped = None'
];
/** The values as the kernel holds them after the run, printed as JSON. */
const REPORT_CELL =
  'import json\nprint(json.dumps({"seed": seed, "lr": lr, "name": name, "layers": layers}))';

/** A notebook whose first code cell (tagged `parameters` if asked) sets the defaults. */
function writeParameterNotebook(path: string, tagged = true, cells = [REPORT_CELL]): void {
  const nb = JSON.parse(notebookJson([PARAMETERS_CELL.join(''), ...cells])) as {
    cells: { metadata: Record<string, unknown> }[];
  };
  if (tagged) {
    nb.cells[1].metadata = { tags: ['parameters'] };
  }
  writeFileSync(path, JSON.stringify(nb, null, 1));
}

const HOSTILE = "'); import os; os.system('touch pwned') #";
const HOSTILE_QUOTES = 'line one\n"""; import os; os.system("touch pwned") #\'\\n\' \\" \u00e9';

let root: string;
let kernel: { prefix: string; jupyterPath: string };

beforeAll(() => {
  root = tempDir('hpc-parameterize-');
  kernel = installTestKernel();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(kernel.prefix, { recursive: true, force: true });
});

describe('inspectParameters', () => {
  it("lists the cell's names with papermill's types, defaults and help, even with braces in the path", async () => {
    const path = join(root, 'train {seed}.ipynb');
    writeParameterNotebook(path);
    expect(await inspectParameters(PYTHON, path)).toEqual({
      hasParametersCell: true,
      parameters: [
        { name: 'seed', inferredType: 'int', default: '0', help: 'random seed' },
        { name: 'lr', inferredType: 'float', default: '0.01', help: '' },
        { name: 'name', inferredType: 'str', default: "'nzra'", help: "the run's name" },
        { name: 'layers', inferredType: 'list', default: '[1, 2]', help: '' },
        { name: 'untyped', inferredType: 'None', default: 'None', help: '' }
      ]
    });
  });

  it('says there is no parameters cell when none is tagged', async () => {
    const path = join(root, 'plain.ipynb');
    writeParameterNotebook(path, false);
    expect(await inspectParameters(PYTHON, path)).toEqual({
      hasParametersCell: false,
      parameters: []
    });
  });

  it('refuses a file that is not a notebook with a 400 naming it', async () => {
    const path = join(root, 'broken.ipynb');
    writeFileSync(path, '{"cells": [');
    const error = await inspectParameters(PYTHON, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Refusal);
    expect((error as Refusal).kind).toBe('invalid');
    expect((error as Refusal).message).toContain(`${path} is not a readable notebook`);
  });

  const noPapermill = existsSync('/usr/bin/python3') ? null : 'no /usr/bin/python3';
  testUnless(noPapermill)('answers a clear error from a Python without papermill', async () => {
    const probe = await run('/usr/bin/python3', ['-c', 'import papermill']).then(
      () => true,
      () => false
    );
    expect(probe).toBe(false);
    const path = join(root, 'train {seed}.ipynb');
    await expect(inspectParameters('/usr/bin/python3', path)).rejects.toThrow(
      'parameters need papermill in /usr/bin/python3: /usr/bin/python3 -m pip install papermill'
    );
  });
});

describe('writeParameterizedNotebooks', () => {
  it('injects values that arrive in the kernel as the exact data sent, never as code', async () => {
    const dir = mkdirp(join(root, 'hostile'));
    const source = join(dir, 'train.ipynb');
    writeParameterNotebook(source);
    const runs: { parameters: Parameters; path: string }[] = [
      {
        parameters: { seed: 3, lr: 0.5, name: HOSTILE, layers: [3, { deep: [null, true] }] },
        path: join(dir, 'task0.ipynb')
      },
      {
        parameters: { seed: -1, lr: 1e-9, name: HOSTILE_QUOTES, layers: [] },
        path: join(dir, 'task1.ipynb')
      }
    ];
    await writeParameterizedNotebooks(PYTHON, source, runs);

    for (const { path } of runs) {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const injected = JSON.parse(readFileSync(path, 'utf8')) as {
        cells: { metadata: { tags?: string[] } }[];
      };
      expect(injected.cells.map(c => c.metadata.tags ?? [])).toEqual([
        [],
        ['parameters'],
        ['injected-parameters'],
        []
      ]);
    }
    const outDir = mkdirp(join(dir, 'out'));
    await run(
      PYTHON,
      [
        '-m',
        'nbconvert',
        '--execute',
        '--to',
        'notebook',
        `--ExecutePreprocessor.kernel_name=${TEST_KERNEL}`,
        '--output-dir',
        outDir,
        ...runs.map(r => r.path)
      ],
      { cwd: dir, env: jobEnv(kernel.jupyterPath), timeout: 120_000 }
    );
    for (const { parameters, path } of runs) {
      const executed = JSON.parse(
        readFileSync(join(outDir, path.split('/').pop() as string), 'utf8')
      ) as ParsedNotebook;
      const printed = executed.cells[3].outputs?.[0]?.text as string[] | string;
      const values = JSON.parse([printed].flat().join('')) as Parameters;
      expect(values).toEqual(parameters);
    }
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['out', 'task0.ipynb', 'task1.ipynb', 'train.ipynb']);
  }, 180_000);

  it('refuses a name that would be code, writing nothing', async () => {
    const dir = mkdirp(join(root, 'bad-name'));
    const source = join(dir, 'train.ipynb');
    writeParameterNotebook(source);
    const runs: { parameters: Parameters; path: string }[] = [
      { parameters: { seed: 1 }, path: join(dir, 'ok.ipynb') },
      {
        parameters: { "x = 1\nimport os; os.system('touch pwned')\ny": 1 },
        path: join(dir, 'no.ipynb')
      }
    ];
    await expect(writeParameterizedNotebooks(PYTHON, source, runs)).rejects.toThrow(
      /is not a valid parameter name/
    );
    expect(readdirSync(dir)).toEqual(['train.ipynb']);
  });

  it('writes 1,000 copies in one process within a few seconds', async () => {
    const dir = mkdirp(join(root, 'many'));
    const source = join(dir, 'train.ipynb');
    const body = Array.from({ length: 30 }, (_, i) => `x${i} = ${i} * seed\nprint(x${i})`);
    writeParameterNotebook(source, true, body);
    const names = ['seed', 'lr'];
    const runs = Array.from({ length: 1000 }, (_, i) => {
      const parameters = { seed: i, lr: i / 1000, name: `run ${i}` };
      return { parameters, path: join(dir, taskOutputName('train', i, parameters, names, 3)) };
    });
    const started = Date.now();
    await writeParameterizedNotebooks(PYTHON, source, runs);
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`inject of 1,000 runs (32 cells each): ${seconds.toFixed(2)} s\n`);
    expect(seconds).toBeLessThan(10);
    expect(readdirSync(dir)).toHaveLength(1001);
    const last = JSON.parse(readFileSync(join(dir, '999_seed=999_lr=0.999.ipynb'), 'utf8')) as {
      cells: { source: string | string[] }[];
    };
    expect([last.cells[2].source].flat().join('')).toBe(
      '# Parameters\nseed = 999\nlr = 0.999\nname = "run 999"\n'
    );
  }, 60_000);
});

describe('summary.csv', () => {
  it('reads back in Python (pandas where installed, else csv) as the same table', async () => {
    const task = (taskIndex: number, parameters: Parameters): Job => ({
      id: `20250101-120000-abc123-${taskIndex}`,
      notebook: 'train.ipynb',
      output: `executed/train/${taskIndex}.ipynb`,
      profile: 'gpu',
      kernel: 'python3',
      resources: {},
      executor: 'slurm',
      schedulerId: null,
      state: 'failed',
      reason: 'exit 1, "oops", again',
      node: 'node1',
      taskIndex,
      parameters,
      submittedAt: '2025-01-01T12:00:00Z',
      startedAt: '2025-01-01T12:00:00Z',
      endedAt: '2025-01-01T12:00:01.5Z'
    });
    const path = join(root, 'summary.csv');
    const tasks = [task(0, { name: HOSTILE, l: [1, 2] }), task(1, { name: HOSTILE_QUOTES, l: [] })];
    await writeSweepSummary(path, tasks);
    const read = `
import json, sys
try:
    import pandas
    table = pandas.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
    rows = [list(table.columns)] + table.values.tolist()
except ImportError:
    import csv
    with open(sys.argv[1], newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
print(json.dumps(rows))
`;
    const { stdout } = await run(PYTHON, ['-c', read, path]);
    const expected = renderSummaryCsv(tasks)
      .split('\r\n')
      .slice(0, 1)
      .map(header => header.split(','));
    expect(JSON.parse(stdout)).toEqual([
      ...expected,
      [
        '0',
        HOSTILE,
        '[1,2]',
        'failed',
        'exit 1, "oops", again',
        '1.5',
        'node1',
        'executed/train/0.ipynb'
      ],
      [
        '1',
        HOSTILE_QUOTES,
        '[]',
        'failed',
        'exit 1, "oops", again',
        '1.5',
        'node1',
        'executed/train/1.ipynb'
      ]
    ]);
  });
});
