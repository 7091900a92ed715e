/**
 * Reasons in words, end to end with the local executor: a notebook nbformat
 * cannot validate is refused at submission with the validator's message, and
 * a run that fails outside any cell ends with the exception that ended it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Companion, startCompanion, until } from '../fixtures/companion';
import { PYTHON, notebookJson } from '../fixtures/jobRuntime';

describe('reasons in words', () => {
  let dir: string, root: string, state: string;
  let c: Companion;
  const jobDirs = () => (existsSync(join(state, 'jobs')) ? readdirSync(join(state, 'jobs')) : []);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-reasons-'));
    root = join(dir, 'root');
    state = join(dir, 'state');
    mkdirSync(root);
    // An environment with Python alone: neither nbformat nor nbconvert.
    const bare = join(dir, 'bare');
    execFileSync(PYTHON, ['-m', 'venv', '--without-pip', bare]);
    const profiles = join(dir, 'profiles.json');
    const base = { launcher: [], kernel: 'python3', resources: {} };
    writeFileSync(
      profiles,
      JSON.stringify({
        profiles: [
          { ...base, id: 'cpu', label: 'CPU', python: PYTHON },
          { ...base, id: 'bare', label: 'Bare', python: join(bare, 'bin', 'python') }
        ]
      })
    );
    c = await startCompanion({ rootDir: root, stateDir: state, profiles });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a notebook nbformat cannot validate with the validator's message, writing nothing", async () => {
    const nb = JSON.parse(notebookJson(['print(1)']));
    delete nb.metadata.kernelspec.name;
    writeFileSync(join(root, 'noname.ipynb'), JSON.stringify(nb));
    const res = await c.api('POST', 'api/jobs', { notebook: 'noname.ipynb', profile: 'cpu' });
    assert.equal(res.status, 400, res.text);
    assert.equal(
      res.json.error,
      '"noname.ipynb" is not a valid notebook: ' +
        "'name' is a required property (in metadata.kernelspec)"
    );
    assert.equal(jobDirs().length, 0, 'no job directory was written');
    assert.equal(existsSync(join(root, 'executed')), false);
    assert.equal((await c.api('GET', 'api/jobs')).json.jobs.length, 0);
  });

  it('ends a run that fails outside any cell with the last exception line of its log', async () => {
    writeFileSync(join(root, 'fine.ipynb'), notebookJson(['print(1)']));
    // The bare environment cannot validate: the notebook goes on unchecked.
    const res = await c.api('POST', 'api/jobs', { notebook: 'fine.ipynb', profile: 'bare' });
    assert.equal(res.status, 201, res.text);
    const done = await until(
      'the end of the job',
      async () => {
        const j = (await c.api('GET', `api/jobs/${res.json.id}`)).json;
        return j.state === 'queued' || j.state === 'running' ? null : j;
      },
      60_000
    );
    assert.equal(done.state, 'failed', JSON.stringify(done));
    assert.equal(done.reason, `${join(dir, 'bare', 'bin', 'python')}: No module named nbconvert`);
  });
});
