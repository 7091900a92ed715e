/**
 * `hpc-submit results` as a terminal user runs it: a sweep run with --wait,
 * whose notebook records its loss, then its table as text sorted both ways,
 * as CSV and as JSON, and a notebook's runs by the notebook's path. The local
 * executor, real papermill and nbconvert.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, stopCompanionsOf } from '../fixtures/cli';
import { PYTHON, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';

describe('hpc-submit results', () => {
  let dir: string, root: string, state: string, profiles: string;
  const cli = (args: string[]) => {
    const r = runCli(args, {
      cwd: root,
      profiles,
      state: { dir: state },
      env: { HPC_SUBMIT_PYTHON: PYTHON }
    });
    return { code: r.code, out: r.stdout, err: r.stderr };
  };

  beforeAll(() => {
    dir = tempDir('hpc-cli-results-');
    root = join(dir, 'work');
    state = join(dir, 'state');
    mkdirSync(root, { recursive: true });
    const nb = JSON.parse(notebookJson(['seed = 0', 'loss = (seed - 2) ** 2 / 4']));
    nb.cells[1].metadata = { tags: ['parameters'] };
    nb.metadata.hpc_submit = { record: ['loss'] };
    writeFileSync(join(root, 'fit.ipynb'), JSON.stringify(nb));
    profiles = writeTestProfiles(join(dir, 'profiles.json'), { resources: { cpus: 1 } });
  });

  afterAll(() => {
    stopCompanionsOf(state);
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints a sweep's values as a table, sorted, as CSV and as JSON", () => {
    const run = cli([
      'run',
      'fit.ipynb',
      '--profile',
      'cpu',
      '--sweep',
      'seed',
      '[0, 1, 3]',
      '--wait'
    ]);
    assert.equal(run.code, 0, run.out + run.err);
    const sweepId = run.out.split(/\s/)[0];

    const byLoss = cli(['results', sweepId, '--sort', 'loss']);
    assert.equal(byLoss.code, 0, byLoss.err);
    assert.deepEqual(byLoss.out.trim().split('\n'), [
      'task  seed  loss  state',
      '1     1     0.25  completed',
      '2     3     0.25  completed',
      '0     0     1     completed'
    ]);
    const largest = cli(['results', sweepId, '--sort=-loss']);
    assert.equal(largest.out.trim().split('\n')[1], '0     0     1     completed');

    const csv = cli(['results', sweepId, '--csv']);
    assert.equal(
      csv.out,
      'task,seed,loss,state\r\n0,0,1,completed\r\n1,1,0.25,completed\r\n2,3,0.25,completed\r\n'
    );
    const json = JSON.parse(cli(['results', sweepId, '--json']).out);
    assert.deepEqual(json[2], {
      task: 2,
      parameters: { seed: 3 },
      results: { loss: 0.25 },
      state: 'completed'
    });

    const byNotebook = cli(['results', 'fit.ipynb']);
    assert.equal(byNotebook.code, 0, byNotebook.err);
    assert.equal(byNotebook.out.trim().split('\n')[0], 'task  seed  loss  state');

    const unknown = cli(['results', sweepId, '--sort', 'lr']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no column lr to sort by; the columns are task, seed, loss, state/);
    assert.equal(cli(['results', sweepId, '--csv', '--json']).code, 2);
    const dash = cli(['results', sweepId, '--sort', '-loss']);
    assert.equal(dash.code, 2);
    assert.match(
      dash.err,
      /--sort needs a value; one that begins with a dash is written --sort=VALUE/
    );
  });
});
