/**
 * What a run records, end to end: real notebooks through the real companion
 * with the local executor and the real nbconvert. Values come from outputs
 * of scrapbook's mimetype (written here by hand, as scrapbook.glue writes
 * them) and from the variables the notebook names in metadata.hpc_submit.record,
 * asked of the kernel after the last cell; a failing run keeps what it had.
 * The real scrapbook (PyPI) glues in one test, and one run goes through real Slurm.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, SweepAnswer } from '../../contract/wire';
import { type Companion, jobEnded, startCompanion, until } from '../fixtures/companion';
import { notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { describeUnless } from '../fixtures/skip';
import { companionAsSlurmUser, slurmUsable } from '../fixtures/slurm';

/** What scrapbook.glue(name, value) displays, written by hand. */
const glue = (name: string, value: string): string =>
  'from IPython.display import display\n' +
  `display({'application/scrapbook.scrap.json+json': {'name': ${JSON.stringify(name)}, 'data': ${value}, 'encoder': 'json', 'version': 1}}, metadata={'scrapbook': {'name': ${JSON.stringify(name)}, 'data': True, 'display': False}}, raw=True)`;

/** A notebook whose metadata names the variables to record. */
function recordingNotebook(cells: string[], record: string | string[]): string {
  const nb = JSON.parse(notebookJson(cells));
  nb.metadata.hpc_submit = { record };
  return JSON.stringify(nb);
}

describe('recorded values with the local executor', () => {
  let dir: string, root: string;
  let c: Companion;

  beforeAll(async () => {
    dir = tempDir('hpc-results-');
    root = join(dir, 'root');
    mkdirSync(root);
    c = await startCompanion({
      rootDir: root,
      stateDir: join(dir, 'state'),
      profiles: writeTestProfiles(join(dir, 'profiles.json'), {
        resources: { cpus: 1, time: '00:10:00' }
      })
    });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const ended = (id: string): Promise<Job> => jobEnded(c, id);

  const run = async (name: string, notebook: string): Promise<Job> => {
    writeFileSync(join(root, name), notebook);
    const res = await c.api('POST', 'api/jobs', { notebook: name, profile: 'cpu' });
    assert.equal(res.status, 201, res.text);
    return ended(res.json.id);
  };

  it('records glued values and named variables in the record and the executed notebook', async () => {
    const job = await run(
      'ok.ipynb',
      recordingNotebook(
        [
          glue('epochs', '3'),
          "loss = 0.125\nacc = [0.5, float('nan')]\nbig = 'x' * 20000",
          'tag = "best"'
        ],
        'loss, acc, tag, big, never_defined'
      )
    );
    assert.equal(job.state, 'completed', JSON.stringify(job));
    assert.deepEqual(job.results, { epochs: 3, loss: 0.125, acc: [0.5, 'NaN'], tag: 'best' });
    assert.deepEqual(job.resultNotes, [
      'big: not recorded, its value is 20,002 bytes (a recorded value holds 10,000 at most: save big data to a file)',
      'never_defined: not recorded, the run never defined it'
    ]);
    const executed = JSON.parse(readFileSync(join(root, job.output), 'utf8'));
    assert.deepEqual(executed.metadata.hpc_submit.run.results, job.results);
    // Asked silently: no cell added, no output, the execution counts of a plain run.
    assert.equal(executed.cells.length, 4);
    assert.deepEqual(
      executed.cells
        .filter((cell: { cell_type: string }) => cell.cell_type === 'code')
        .map((cell: { execution_count: number }) => cell.execution_count),
      [1, 2, 3]
    );
  });

  it('records what the real scrapbook glues: JSON and text, and says why not of a DataFrame', async () => {
    const job = await run(
      'glued.ipynb',
      recordingNotebook(
        [
          'import scrapbook as sb\nimport pandas as pd',
          "sb.glue('loss', 0.5)\nsb.glue('label', 'run a')\nsb.glue('curve', [3, 2, 1], encoder='json')",
          "sb.glue('frame', pd.DataFrame({'x': [1]}), encoder='pandas')"
        ],
        []
      )
    );
    assert.equal(job.state, 'completed', JSON.stringify(job));
    assert.deepEqual(job.results, { loss: 0.5, label: 'run a', curve: [3, 2, 1] });
    assert.deepEqual(job.resultNotes, [
      "frame: not recorded, scrapbook's pandas encoder is not JSON (glue it with encoder='json')"
    ]);
  });

  it('a failing run records what it had up to the failing cell', async () => {
    const job = await run(
      'fails.ipynb',
      recordingNotebook(
        [glue('first', '"yes"'), 'loss = 2.5', '1 / 0', 'after = 1'],
        ['loss', 'after']
      )
    );
    assert.equal(job.state, 'failed');
    assert.deepEqual(job.results, { first: 'yes', loss: 2.5 });
    assert.deepEqual(job.resultNotes, ['after: not recorded, the run never defined it']);
  });

  it("a sweep's summary.csv has a column per recorded value, after the parameters", async () => {
    const nb = JSON.parse(recordingNotebook(['seed = 0', 'loss = seed / 4'], ['loss']));
    nb.cells[1].metadata.tags = ['parameters'];
    writeFileSync(join(root, 'sweep.ipynb'), JSON.stringify(nb));
    const res = await c.api('POST', 'api/jobs', {
      notebook: 'sweep.ipynb',
      profile: 'cpu',
      sweep: { parameters: { seed: [1, 2] } }
    });
    assert.equal(res.status, 201, res.text);
    const answer = res.json as SweepAnswer;
    const tasks = await Promise.all(answer.jobs.map(j => ended(j.id)));
    assert.deepEqual(
      tasks.map(t => t.results),
      [{ loss: 0.25 }, { loss: 0.5 }]
    );
    const csv = await until(
      'summary.csv with both values',
      async () => {
        try {
          const text = readFileSync(join(root, 'executed', 'sweep', 'summary.csv'), 'utf8');
          return text.includes('0.5') ? text : null;
        } catch {
          return null;
        }
      },
      30_000
    );
    const [header, first, second] = csv.split('\r\n');
    assert.equal(header, 'task,seed,loss,state,reason,duration_seconds,node,output');
    assert.match(first, /^0,1,0\.25,completed,/);
    assert.match(second, /^1,2,0\.5,completed,/);
  });
});

describeUnless(slurmUsable())(
  'recorded values on real Slurm, through the companion as hpcuser',
  () => {
    it('a Slurm run records its named variables and glued values', async () => {
      const dir = tempDir('hpc-results-slurm-');
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, 'root'));
      writeFileSync(
        join(dir, 'root', 'on-slurm.ipynb'),
        recordingNotebook([glue('epochs', '2'), 'loss = 0.75'], ['loss'])
      );
      writeTestProfiles(join(dir, 'profiles.json'), {
        resources: { partition: 'cpu', cpus: 1, memory: '1G', time: '00:05:00' }
      });
      const c = await companionAsSlurmUser(dir);
      try {
        const res = await c.api('POST', 'api/jobs', { notebook: 'on-slurm.ipynb', profile: 'cpu' });
        assert.equal(res.status, 201, res.text);
        const job = await jobEnded(c, res.json.id, 120_000);
        assert.equal(job.state, 'completed', JSON.stringify(job));
        assert.equal(job.executor, 'slurm');
        assert.deepEqual(job.results, { epochs: 2, loss: 0.75 });
      } finally {
        await c.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
);
