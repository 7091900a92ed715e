/**
 * Parameters and sweeps from the command line, as a terminal user runs them:
 * papermill's -p and -y, a sweep waited for, listed as one line, its tasks
 * with their values, and a cancel, with the local executor and real
 * papermill and nbconvert.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, stopCompanionsOf } from '../fixtures/cli';
import { PYTHON, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';

/** A notebook whose first code cell is tagged `parameters`, then the given cells. */
function parameterizedNotebook(defaults: string, cells: string[]): string {
  const nb = JSON.parse(notebookJson([defaults, ...cells]));
  nb.cells[1].metadata = { tags: ['parameters'] };
  return JSON.stringify(nb, null, 1) + '\n';
}

const SWEEP_LINE = /^(\d{8}-\d{6}-[a-z0-9]{6}) {2}study\/echo\.ipynb sweep · /;

describe('hpc-submit run with parameters and sweeps', () => {
  let dir: string, root: string, state: string, profiles: string;
  const cli = (args: string[]) => {
    const r = runCli(args, {
      cwd: root,
      profiles,
      state: { dir: state },
      env: { HPC_SUBMIT_PYTHON: PYTHON }
    });
    return { code: r.code, out: r.stdout + r.stderr, lines: r.stdout.trim().split('\n') };
  };

  beforeAll(() => {
    dir = tempDir('hpc-cli-sweep-');
    root = join(dir, 'work');
    state = join(dir, 'state');
    mkdirSync(join(root, 'study'), { recursive: true });
    writeFileSync(
      join(root, 'study', 'echo.ipynb'),
      parameterizedNotebook("label = 'default'\nn = 0\nxs = None", [
        "assert n >= 0, 'n < 0 fails on purpose'\nprint('got', repr(label), repr(n), repr(xs))"
      ])
    );
    writeFileSync(
      join(root, 'study', 'slow.ipynb'),
      parameterizedNotebook('seed = 0', ['import time; time.sleep(120)'])
    );
    profiles = writeTestProfiles(join(dir, 'profiles.json'), { resources: { cpus: 1 } });
  });

  afterAll(() => {
    stopCompanionsOf(state);
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads -p and -y as papermill does: -y first, -p wins, a list's text stays text", () => {
    const r = cli([
      'run',
      'study/echo.ipynb',
      '--profile',
      'cpu',
      '-p',
      'label',
      'True',
      '-y',
      'n: 3\nlabel: from-yaml',
      '-p',
      'xs',
      '[1, 2]',
      '--wait'
    ]);
    assert.equal(r.code, 0, r.out);
    const id = r.lines[0].split(/\s+/)[0];
    const job = JSON.parse(cli(['status', id]).out);
    assert.deepEqual(job.parameters, { label: true, n: 3, xs: '[1, 2]' });
    assert.match(readFileSync(join(root, job.output), 'utf8'), /got True 3 '\[1, 2\]'/);
  });

  it('refuses a name the notebook does not define, unless allowed', () => {
    const refused = cli(['run', 'study/echo.ipynb', '--profile', 'cpu', '-p', 'nope', '1']);
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /nope/);
    const allowed = cli([
      'run',
      'study/echo.ipynb',
      '--profile',
      'cpu',
      '-p',
      'nope',
      '1',
      '--allow-unknown-parameters',
      '--wait'
    ]);
    assert.equal(allowed.code, 0, allowed.out);
  });

  /** The sweep's line in `status`, once it matches (each CLI run takes about a second). */
  function sweepLineUntil(id: string, wanted: RegExp): string {
    const deadline = Date.now() + 60_000;
    let line = '';
    while (Date.now() < deadline) {
      line = cli(['status', id]).lines[0];
      if (wanted.test(line)) {
        return line;
      }
    }
    throw new Error(`not within 60 s: ${wanted}; last: ${line}`);
  }

  let sweepId = '';

  it('runs a sweep of every combination and waits for all its tasks', () => {
    const r = cli([
      'run',
      'study/echo.ipynb',
      '--profile',
      'cpu',
      '--sweep',
      'n',
      '[1, 2]',
      '--sweep',
      'label',
      '[a, b]',
      '--max-parallel',
      '2',
      '--wait'
    ]);
    assert.equal(r.code, 0, r.out);
    const first = SWEEP_LINE.exec(r.lines[0]);
    assert.ok(first, r.out);
    sweepId = first[1];
    assert.match(
      r.lines[0],
      / · 4 tasks, at most 2 at once · outputs in study\/executed\/echo\/?$/
    );
    assert.equal(
      r.lines[r.lines.length - 1],
      `${sweepId}  study/echo.ipynb sweep · 4 of 4 completed`
    );
    const outputs = readdirSync(join(root, 'study', 'executed', 'echo'));
    assert.equal(outputs.filter(f => f.endsWith('.ipynb')).length, 4, outputs.join(' '));
    assert.ok(outputs.includes('summary.csv'), outputs.join(' '));
  });

  it('list shows the sweep as one line; --tasks and status show its tasks with their values', () => {
    const list = cli(['list']);
    assert.equal(list.code, 0, list.out);
    const sweepLines = list.lines.filter(l => l.includes('sweep'));
    assert.deepEqual(sweepLines, [`${sweepId}  study/echo.ipynb sweep · 4 of 4 completed`]);
    assert.equal(list.lines.filter(l => l.startsWith(`${sweepId}-`)).length, 0);

    const withTasks = cli(['list', '--tasks']);
    const tasks = withTasks.lines.filter(l => l.startsWith(`  ${sweepId}-`));
    assert.equal(tasks.length, 4, withTasks.out);

    const status = cli(['status', sweepId]);
    assert.equal(status.code, 0, status.out);
    assert.equal(status.lines[0], `${sweepId}  study/echo.ipynb sweep · 4 of 4 completed`);
    const values = status.lines
      .slice(1)
      .map(l => /n=\d/.exec(l)?.[0] + ' ' + /label="\w"/.exec(l)?.[0]);
    assert.deepEqual(values.sort(), [
      'n=1 label="a"',
      'n=1 label="b"',
      'n=2 label="a"',
      'n=2 label="b"'
    ]);
    assert.ok(
      status.lines.slice(1).every(l => / completed /.test(l)),
      status.out
    );

    const task = cli(['status', `${sweepId}-0`]);
    assert.equal(JSON.parse(task.out).sweepId, sweepId);
  });

  it('--zip pairs the values; --wait exits 1 when a task failed', () => {
    const r = cli([
      'run',
      'study/echo.ipynb',
      '--profile',
      'cpu',
      '--sweep',
      'n',
      '[0, -1]',
      '--sweep',
      'label',
      '[a, b]',
      '--zip',
      '--wait'
    ]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.lines[0], / · 2 tasks, at most \d+ at once/);
    assert.match(r.lines[r.lines.length - 1], / sweep · 1 of 2 completed · 1 failed$/);
  });

  it('cancel takes one task by its id, or the whole sweep by the sweep id', () => {
    const r = cli([
      'run',
      'study/slow.ipynb',
      '--profile',
      'cpu',
      '--sweep',
      'seed',
      '[1, 2, 3]',
      '--max-parallel',
      '1'
    ]);
    assert.equal(r.code, 0, r.out);
    const id = r.lines[0].split(/\s+/)[0];
    const one = cli(['cancel', `${id}-2`]);
    assert.equal(one.code, 0, one.out);
    assert.match(one.out, new RegExp(`^${id}-2 `));
    assert.match(sweepLineUntil(id, / · 1 cancelled/), / · 0 of 3 completed · 1 cancelled · /);

    const all = cli(['cancel', id]);
    assert.equal(all.code, 0, all.out);
    assert.match(all.lines[0], new RegExp(`^${id} {2}study/slow\\.ipynb sweep · 0 of 3 completed`));
    sweepLineUntil(id, / · 3 cancelled$/);
  });

  it('pipeline FILE --wait runs the steps in order and exits 0 only when all completed; list shows it as one line', () => {
    writeFileSync(
      join(root, 'study', 'two.pipeline.yaml'),
      'steps:\n' +
        '  - {name: first, notebook: echo.ipynb, profile: cpu, parameters: {n: 1}}\n' +
        '  - {name: second, notebook: plain.ipynb, profile: cpu, after: [first]}\n'
    );
    writeFileSync(join(root, 'study', 'plain.ipynb'), notebookJson(["print('second')"]));
    const r = cli(['pipeline', 'study/two.pipeline.yaml', '--wait']);
    assert.equal(r.code, 0, r.out);
    const id = r.lines[0].split(/\s+/)[0];
    assert.match(r.lines[0], / {2}study\/two\.pipeline\.yaml pipeline · 0 of 2 steps completed/);
    assert.match(r.lines[1], /^ {2}first +queued +\S+ {2}study\/echo\.ipynb$/);
    assert.match(r.lines[2], /^ {2}second +queued +\S+ {2}study\/plain\.ipynb after first/);
    assert.match(r.lines[r.lines.length - 3], / pipeline · 2 of 2 steps completed$/);

    const list = cli(['list']);
    assert.equal(list.lines.filter(l => l.startsWith(`${id} `)).length, 1, list.out);
    const status = cli(['status', id]);
    assert.match(status.lines[2], /^ {2}second +completed /);

    const failing = cli(['pipeline', 'study/two.pipeline.yaml'.replace('two', 'bad'), '--wait']);
    assert.equal(failing.code, 2, failing.out);
    assert.match(failing.out, /no pipeline file at study\/bad\.pipeline\.yaml/);
  });
});
