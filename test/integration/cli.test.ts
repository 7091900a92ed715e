/** The command line as a terminal user runs it: run --wait, list, status, logs, cancel, doctor. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, stopCompanionsOf } from '../fixtures/cli';
import { notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';

describe('hpc-submit command line', () => {
  let dir: string, root: string, state: string, profiles: string;
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = runCli(args, { cwd: root, profiles, state: { dir: state }, env });
    return { code: r.code, out: r.stdout + r.stderr };
  };

  beforeAll(() => {
    dir = tempDir('hpc-cli-');
    root = join(dir, 'work');
    state = join(dir, 'state');
    mkdirSync(join(root, 'nbs'), { recursive: true });
    writeFileSync(join(root, 'nbs', 'hello.ipynb'), notebookJson(["print('hello from the cli')"]));
    profiles = writeTestProfiles(join(dir, 'profiles.json'), { resources: { cpus: 1 } });
  });

  afterAll(() => {
    stopCompanionsOf(state);
    rmSync(dir, { recursive: true, force: true });
  });

  let id = '';

  it('run --wait starts a companion, runs the notebook and exits 0 when it completed', () => {
    const r = cli(['run', 'nbs/hello.ipynb', '--profile', 'cpu', '--wait', '--root-dir', root]);
    assert.equal(r.code, 0, r.out);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0], /^\d{8}-\d{6}-[a-z0-9]{6}\s+queued\s+cpu\s+nbs\/hello\.ipynb/);
    assert.match(lines[lines.length - 1], /completed .* on /);
    id = lines[0].split(/\s+/)[0];
    assert.match(
      readFileSync(join(root, 'nbs', 'executed', 'hello_executed.ipynb'), 'utf8'),
      /hello from the cli/
    );
  });

  it('list, status and logs talk to the same companion', () => {
    assert.match(cli(['list']).out, new RegExp(`${id}\\s+completed`));
    const status = cli(['status', id]);
    assert.equal(status.code, 0);
    assert.equal(JSON.parse(status.out).state, 'completed');
    assert.match(cli(['logs', id]).out, /job ended on .*: completed/);
  });

  it('cancel of an ended job and an unknown command say what is wrong', () => {
    const cancel = cli(['cancel', id]);
    assert.equal(cancel.code, 2);
    assert.match(cancel.out, /already ended \(completed\)/);
    const bad = cli(['status', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.out, /is not a job id/);
    assert.match(cli(['frobnicate']).out, /unknown command frobnicate/);
  });

  it('doctor names each problem with its fix and exits 1', () => {
    const r = cli(['doctor'], { HPC_SUBMIT_PROFILES: '' });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /ok {3}node /);
    assert.match(r.out, /FAIL profile gpu: "pixi" is not on PATH\n\s+fix: install pixi/);
    const good = cli(['doctor']);
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /profile cpu: kernel "python3" is installed/);
  });
});
