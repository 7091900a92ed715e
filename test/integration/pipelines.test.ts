/**
 * Pipelines through the companion's HTTP API, with real papermill and real
 * nbconvert: three steps (a run, a three-task sweep, a summary) where each
 * reads what the one before wrote; a failing step whose later steps end "not
 * run" without executing; `after_any` after a partly failed sweep; a cancel
 * of the whole pipeline; "re-run from the failed step"; hostile files. First
 * with the local executor, then on the real Slurm cluster as hpcuser, where
 * kill -9 of the companion mid-pipeline loses nothing.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Companion, startCompanion, until } from '../fixtures/companion';
import { PYTHON, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { SLURM_USER, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';
import { chownTree, unixUser } from '../fixtures/users';

/** A notebook whose first code cell is tagged `parameters`, then `cells`; records `record`. */
function stepNotebook(defaults: string, cells: string[], record: string[] = []): string {
  const nb = JSON.parse(notebookJson([defaults, ...cells]));
  nb.cells[1].metadata = { tags: ['parameters'] };
  if (record.length > 0) {
    nb.metadata.hpc_submit = { record };
  }
  return JSON.stringify(nb, null, 1) + '\n';
}

/** Writes data.txt and records `answer`; fails while fail.flag lies beside it. */
const PREPARE = stepNotebook(
  'n = 7',
  [
    "import os\nassert not os.path.exists('fail.flag'), 'prepare fails on purpose'",
    "answer = n * 6\nopen('data.txt', 'w').write(str(answer))"
  ],
  ['answer']
);

/** Reads prepare's output and value; seed 2 fails while bad-seed.flag lies beside it. */
const TRAIN = stepNotebook(
  "seed = 0\nprepared = ''\nanswer = 0",
  [
    'import os\n' +
      'assert os.path.exists(prepared), prepared\n' +
      "assert prepared.endswith('prepare_executed.ipynb'), prepared\n" +
      "assert int(open('data.txt').read()) == answer == 42, answer\n" +
      "assert not (seed == 2 and os.path.exists('bad-seed.flag')), 'seed 2 fails on purpose'",
    'score = answer + seed'
  ],
  ['score']
);

/** Reads the sweep's summary.csv; writes evaluated.txt, the marker that it ran. */
const EVALUATE = stepNotebook("summary = ''", [
  'import csv\n' +
    'rows = list(csv.DictReader(open(summary, newline="")))\n' +
    'assert len(rows) == 3, rows\n' +
    "open('evaluated.txt', 'w').write(','.join(r['state'] + ':' + r.get('score', '') for r in rows))"
]);

const PIPELINE = `# prepare, then a sweep of three seeds, then their summary
steps:
  - name: prep
    notebook: prepare.ipynb
    profile: cpu
  - name: train
    notebook: train.ipynb
    after: [prep]
    sweep: {seed: [0, 1, 2]}
    parameters:
      prepared: "{{ prep.output }}"
      answer: "{{ prep.values.answer }}"
  - name: eval
    notebook: evaluate.ipynb
    after: [train]
    parameters: {summary: "{{ train.summary }}"}
`;

const FINAL = ['completed', 'failed', 'cancelled', 'timeout'];

async function pipelineEnded(c: Companion, id: string, timeoutMs: number): Promise<any> {
  return until(
    `pipeline ${id} to end`,
    async () => {
      const answer = (await c.api('GET', `api/pipelines/${id}`)).json;
      return FINAL.includes(answer.pipeline?.state) ? answer : null;
    },
    timeoutMs
  );
}

/** POST /api/pipelines, which must create it; answers the PipelineAnswer. */
async function submitPipeline(c: Companion, file: string): Promise<any> {
  const res = await c.api('POST', 'api/pipelines', { file });
  assert.equal(res.status, 201, res.text);
  return res.json;
}

const stepStates = (answer: any): string[][] =>
  answer.pipeline.steps.map((s: any) => [s.name, s.state]);

/** The notebook with the profile saved in it, as the toolbar's picker saves it. */
function withSavedProfile(json: string): string {
  const nb = JSON.parse(json);
  nb.metadata.hpc_submit = { ...nb.metadata.hpc_submit, profile: 'cpu' };
  return JSON.stringify(nb, null, 1) + '\n';
}

/** The study folder: prep names its profile in the file; train and eval have theirs saved. */
function writeStudy(folder: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'prepare.ipynb'), PREPARE);
  writeFileSync(join(folder, 'train.ipynb'), withSavedProfile(TRAIN));
  writeFileSync(join(folder, 'evaluate.ipynb'), withSavedProfile(EVALUATE));
  writeFileSync(join(folder, 'study.pipeline.yaml'), PIPELINE);
}

describe('pipelines with the local executor', () => {
  let dir: string, root: string, study: string;
  let c: Companion;

  beforeAll(async () => {
    dir = tempDir('hpc-pipelines-');
    root = join(dir, 'root');
    study = join(root, 'study');
    writeStudy(study);
    c = await startCompanion({
      rootDir: root,
      stateDir: join(dir, 'state'),
      profiles: writeTestProfiles(join(dir, 'profiles.json'), {
        resources: { cpus: 1, time: '00:10:00' }
      }),
      env: { HPC_SUBMIT_PYTHON: PYTHON }
    });
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs three steps, each reading what the one before wrote', async () => {
    const res = { json: await submitPipeline(c, 'study/study.pipeline.yaml') };
    const { pipeline, jobs } = res.json;
    assert.equal(pipeline.file, 'study/study.pipeline.yaml');
    assert.deepEqual(
      pipeline.steps.map((s: any) => [s.name, s.notebook, s.after, s.jobIds.length]),
      [
        ['prep', 'study/prepare.ipynb', [], 1],
        ['train', 'study/train.ipynb', ['prep'], 3],
        ['eval', 'study/evaluate.ipynb', ['train'], 1]
      ]
    );
    assert.equal(jobs.length, 5);
    assert.ok(jobs.every((j: any) => j.pipeline.pipelineId === pipeline.id));
    assert.equal(
      jobs.find((j: any) => j.pipeline.step === 'train').parameters.prepared,
      join(study, 'executed', 'prepare_executed.ipynb')
    );

    const done = await pipelineEnded(c, pipeline.id, 240_000);
    assert.deepEqual(stepStates(done), [
      ['prep', 'completed'],
      ['train', 'completed'],
      ['eval', 'completed']
    ]);
    assert.equal(done.pipeline.state, 'completed');
    assert.equal(
      readFileSync(join(study, 'evaluated.txt'), 'utf8'),
      'completed:42,completed:43,completed:44'
    );
    const trained = readFileSync(join(study, 'executed', 'train', '000_seed=0.ipynb'), 'utf8');
    assert.match(trained, /answer = 42/, 'the recorded value was injected at the start');
  });

  it('a failing step: the steps after it end "not run" and never execute', async () => {
    rmSync(join(study, 'evaluated.txt'), { force: true });
    writeFileSync(join(study, 'fail.flag'), '');
    const res = { json: await submitPipeline(c, 'study/study.pipeline.yaml') };
    const done = await pipelineEnded(c, res.json.pipeline.id, 120_000);
    assert.deepEqual(stepStates(done), [
      ['prep', 'failed'],
      ['train', 'cancelled'],
      ['eval', 'cancelled']
    ]);
    assert.equal(done.pipeline.state, 'failed');
    const reasons = await until('the unrun steps to name the failed one', async () => {
      const a = (await c.api('GET', `api/pipelines/${res.json.pipeline.id}`)).json;
      const r = a.pipeline.steps.map((s: any) => s.reason);
      return r[2] === 'not run: train did not complete' ? r : null;
    });
    assert.equal(reasons[1], 'not run: prep failed');
    assert.equal(existsSync(join(study, 'evaluated.txt')), false, 'eval never executed');

    // Re-run from the failed step, once fixed: every step runs again, in a new attempt.
    rmSync(join(study, 'fail.flag'));
    const again = await c.api('POST', `api/pipelines/${res.json.pipeline.id}/rerun`);
    assert.equal(again.status, 201, again.text);
    assert.equal(again.json.pipeline.id, res.json.pipeline.id);
    assert.ok(again.json.jobs.every((j: any) => j.pipeline.attempt === 1));
    const rerun = await pipelineEnded(c, res.json.pipeline.id, 240_000);
    assert.equal(rerun.pipeline.state, 'completed');
    assert.ok(existsSync(join(study, 'evaluated.txt')));
  });

  it('after_any runs the summary after a partly failed sweep; re-run runs only what failed', async () => {
    writeFileSync(join(study, 'bad-seed.flag'), '');
    rmSync(join(study, 'evaluated.txt'), { force: true });
    writeFileSync(
      join(study, 'any.pipeline.yaml'),
      PIPELINE.replace('after: [train]', 'after: [train]\n    after_any: true')
    );
    const res = { json: await submitPipeline(c, 'study/any.pipeline.yaml') };
    const done = await pipelineEnded(c, res.json.pipeline.id, 240_000);
    assert.deepEqual(stepStates(done), [
      ['prep', 'completed'],
      ['train', 'failed'],
      ['eval', 'completed']
    ]);
    assert.equal(
      readFileSync(join(study, 'evaluated.txt'), 'utf8'),
      'completed:42,completed:43,failed:'
    );
    rmSync(join(study, 'bad-seed.flag'));
    const again = await c.api('POST', `api/pipelines/${res.json.pipeline.id}/rerun`);
    assert.equal(again.status, 201, again.text);
    assert.deepEqual(
      [
        ...new Set(
          again.json.jobs
            .filter((j: any) => j.pipeline.attempt === 1)
            .map((j: any) => j.pipeline.step)
        )
      ],
      ['train']
    );
  });

  it('cancels the whole pipeline: its running and waiting steps', async () => {
    await until(
      'the earlier pipelines to end',
      async () => {
        const list = (await c.api('GET', 'api/jobs')).json.jobs;
        return list.every((j: any) => FINAL.includes(j.state));
      },
      240_000
    );
    writeFileSync(
      join(study, 'slow.ipynb'),
      stepNotebook('seed = 0', ['import time; time.sleep(300)'])
    );
    writeFileSync(
      join(study, 'slow.pipeline.yaml'),
      'steps:\n  - {name: slow, notebook: slow.ipynb, profile: cpu}\n' +
        '  - {name: then, notebook: prepare.ipynb, profile: cpu, after: [slow]}\n'
    );
    const res = { json: await submitPipeline(c, 'study/slow.pipeline.yaml') };
    const id = res.json.pipeline.id;
    await until('the first step to run its cell', async () => {
      const a = (await c.api('GET', `api/pipelines/${id}`)).json;
      return a.jobs.some((j: any) => j.state === 'running' && j.progress?.cell === 1);
    });
    const cancel = await c.api('POST', `api/pipelines/${id}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    const done = await pipelineEnded(c, id, 60_000);
    assert.deepEqual(
      stepStates(done),
      [
        ['slow', 'cancelled'],
        ['then', 'cancelled']
      ],
      JSON.stringify(done.jobs.map((j: any) => [j.state, j.reason]))
    );
    const twice = await c.api('POST', `api/pipelines/${id}/cancel`);
    assert.equal(twice.status, 409);
    assert.match(twice.json.error, /already ended/);
  });

  it('refuses hostile pipeline files with 400 naming the fault, and submits nothing', async () => {
    const before = (await c.api('GET', 'api/jobs')).json.jobs.length;
    const many =
      'steps:\n' +
      Array.from({ length: 1001 }, (_, i) => `  - {name: s${i}, notebook: prepare.ipynb}\n`).join(
        ''
      );
    const bomb =
      'a: &a ["x","x","x","x","x","x","x","x","x"]\n' +
      Array.from({ length: 8 }, (_, i) => {
        const prev = i === 0 ? 'a' : `l${i - 1}`;
        return `l${i}: &l${i} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]\n`;
      }).join('') +
      'steps: [{name: x, notebook: prepare.ipynb}]\n';
    const cases: [string, string, RegExp][] = [
      [
        'cycle.yaml',
        'steps:\n  - {name: a, notebook: prepare.ipynb, after: [b]}\n  - {name: b, notebook: train.ipynb, after: [a]}\n',
        /cycle: a → b → a/
      ],
      [
        'unknown.yaml',
        'steps:\n  - {name: a, notebook: prepare.ipynb, after: [nope]}\n',
        /"nope", which is not a step/
      ],
      ['many.yaml', many, /1,000 steps at most/],
      [
        'outside.yaml',
        'steps:\n  - {name: a, notebook: ../../x.ipynb, profile: cpu}\n',
        /leads above the Jupyter root/
      ],
      ['bomb.yaml', bomb, /not YAML a pipeline can be read from/],
      [
        'missing.yaml',
        'steps:\n  - {name: a, notebook: prepare.ipynb, profile: cpu, parameters: {n: "{{ ghost.values.x }}"}}\n',
        /there is no step "ghost"/
      ],
      [
        'dup.yaml',
        'steps:\n  - {name: a, notebook: prepare.ipynb, profile: cpu}\n  - {name: a, notebook: train.ipynb, profile: cpu}\n',
        /two steps are named "a"/
      ],
      [
        'noprofile.yaml',
        'steps:\n  - {name: a, notebook: prepare.ipynb}\n',
        /step "a": the step names no profile/
      ],
      [
        'unknownprofile.yaml',
        'steps:\n  - {name: a, notebook: prepare.ipynb, profile: tpu}\n',
        /step "a": .*tpu/
      ]
    ];
    for (const [name, text, error] of cases) {
      writeFileSync(join(study, name), text);
      const res = await c.api('POST', 'api/pipelines', { file: `study/${name}` });
      assert.ok([400, 404].includes(res.status), `${name}: ${res.status} ${res.text}`);
      assert.match(res.json.error, error, name);
    }
    for (const [body, error] of [
      [{ file: '../x.yaml' }, /may not contain "\.\."/],
      [{ file: 'study/prepare.ipynb' }, /not a pipeline file/],
      [{ file: 'study/none.yaml' }, /no pipeline file at/],
      [{ file: 'study/cycle.yaml', extra: 1 }, /unknown field "extra"/]
    ] as [object, RegExp][]) {
      const res = await c.api('POST', 'api/pipelines', body);
      assert.ok([400, 404].includes(res.status), res.text);
      assert.match(res.json.error, error);
    }
    assert.equal(
      (await c.api('GET', 'api/jobs')).json.jobs.length,
      before,
      'nothing was submitted'
    );
    assert.equal((await c.api('GET', 'api/pipelines/20200101-000000-abcdef')).status, 404);
  });
});

describeUnless(slurmUsable())('pipelines on real Slurm, as hpcuser', () => {
  let dir: string, study: string;
  let c: Companion;
  const start = (): Promise<Companion> =>
    startCompanion({
      rootDir: join(dir, 'root'),
      stateDir: join(dir, 'state'),
      profiles: join(dir, 'profiles.json'),
      executor: 'slurm',
      user: { name: SLURM_USER, home: unixUser(SLURM_USER).home },
      env: { HPC_SUBMIT_PYTHON: PYTHON },
      pollSeconds: 2
    });

  beforeAll(async () => {
    dir = tempDir('hpc-pipelines-slurm-');
    chmodSync(dir, 0o755);
    study = join(dir, 'root', 'study');
    writeStudy(study);
    writeTestProfiles(join(dir, 'profiles.json'), {
      resources: { partition: 'cpu', cpus: 1, memory: '500M', time: '00:10:00' }
    });
    chownTree(dir, unixUser(SLURM_USER));
    c = await start();
  });

  afterAll(async () => {
    await c?.stop();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('three steps as Slurm dependencies; kill -9 of the companion mid-pipeline loses nothing', async () => {
    const res = { json: await submitPipeline(c, 'study/study.pipeline.yaml') };
    const { pipeline, jobs } = res.json;
    const train = jobs.filter((j: any) => j.pipeline.step === 'train');
    assert.equal(
      new Set(train.map((j: any) => j.schedulerId.split('_')[0])).size,
      1,
      'one job array'
    );
    await c.stop('SIGKILL');
    c = await start();
    const done = await pipelineEnded(c, pipeline.id, 300_000);
    assert.deepEqual(stepStates(done), [
      ['prep', 'completed'],
      ['train', 'completed'],
      ['eval', 'completed']
    ]);
    assert.equal(
      readFileSync(join(study, 'evaluated.txt'), 'utf8'),
      'completed:42,completed:43,completed:44'
    );
  });

  it('a failing step\'s dependents end "not run" without executing, as Slurm\'s DependencyNeverSatisfied', async () => {
    rmSync(join(study, 'evaluated.txt'), { force: true });
    writeFileSync(join(study, 'fail.flag'), '');
    chownTree(join(study, 'fail.flag'), unixUser(SLURM_USER));
    const res = { json: await submitPipeline(c, 'study/study.pipeline.yaml') };
    const done = await until(
      'the unrun steps to name the failed one',
      async () => {
        const a = (await c.api('GET', `api/pipelines/${res.json.pipeline.id}`)).json;
        return a.pipeline.steps[2].reason === 'not run: train did not complete' ? a : null;
      },
      180_000
    );
    assert.deepEqual(stepStates(done), [
      ['prep', 'failed'],
      ['train', 'cancelled'],
      ['eval', 'cancelled']
    ]);
    assert.equal(done.pipeline.steps[1].reason, 'not run: prep failed');
    assert.equal(existsSync(join(study, 'evaluated.txt')), false, 'eval never executed');
    rmSync(join(study, 'fail.flag'));
  });

  it('cancels the whole pipeline with one scancel', async () => {
    writeFileSync(
      join(study, 'slow.ipynb'),
      stepNotebook('seed = 0', ['import time; time.sleep(300)'])
    );
    writeFileSync(
      join(study, 'slow.pipeline.yaml'),
      'steps:\n  - {name: slow, notebook: slow.ipynb, profile: cpu}\n' +
        '  - {name: then, notebook: prepare.ipynb, profile: cpu, after: [slow], sweep: {n: [1, 2]}}\n'
    );
    chownTree(study, unixUser(SLURM_USER));
    const res = { json: await submitPipeline(c, 'study/slow.pipeline.yaml') };
    const waiting = await until(
      'the second step to wait for the first',
      async () => {
        const a = (await c.api('GET', `api/pipelines/${res.json.pipeline.id}`)).json;
        return a.pipeline.steps[1].reason === 'waiting for the runs it comes after' ? a : null;
      },
      60_000
    );
    assert.equal(waiting.pipeline.steps[1].state, 'queued');
    const cancel = await c.api('POST', `api/pipelines/${res.json.pipeline.id}/cancel`);
    assert.equal(cancel.status, 200, cancel.text);
    const done = await pipelineEnded(c, res.json.pipeline.id, 120_000);
    assert.deepEqual(stepStates(done), [
      ['slow', 'cancelled'],
      ['then', 'cancelled']
    ]);
  });
});
