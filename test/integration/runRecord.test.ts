/**
 * The executed notebook says what produced it: its kernelspec is the kernel it
 * ran with, and metadata.hpc_submit.run records the job. Real job scripts run
 * by bash with the real nbconvert (as in jobScript.test.ts), then one run
 * through the companion on the real Slurm cluster.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resources } from '../../contract/wire';
import { readJobStatus, readProgress, type JobStatusEnded } from '../../server/jobs/jobStatus';
import { outputNameFor } from '../../server/runtime/jobScript';
import { RUN_FACTS_FILE, runFactsJson, type RunRecord } from '../../server/runtime/runFacts';
import { jobEnded } from '../fixtures/companion';
import {
  PYTHON,
  TEST_KERNEL,
  mkdirp,
  installTestKernel,
  jobEnv,
  notebookJson,
  testJobScript,
  writeNotebook
} from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { companionAsSlurmUser, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';

interface ExecutedNotebook {
  metadata: {
    kernelspec: { name: string; display_name: string; language: string };
    language_info?: { name: string };
    hpc_submit: { profile?: string; run: RunRecord };
  };
}

const RESOURCES: Resources = { partition: 'gpu', gpus: 1, cpus: 2, memory: '4G', time: '01:00:00' };

let root: string;
let kernel: { prefix: string; jupyterPath: string };
let counter = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hpc-run-record-'));
  kernel = installTestKernel();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(kernel.prefix, { recursive: true, force: true });
});

/** The job script run by bash, as the local executor would, with the run.json the companion writes. */
async function runJob(
  notebookPath: string,
  opts: { launcher?: string[]; env?: NodeJS.ProcessEnv; signal?: NodeJS.Signals } = {}
): Promise<{ jobId: string; jobDir: string; nb: ExecutedNotebook; end: JobStatusEnded }> {
  const jobId = `job-${++counter}`;
  const jobDir = mkdirp(join(root, 'jobs', jobId));
  const nbDir = notebookPath.slice(0, notebookPath.lastIndexOf('/'));
  const launcher = opts.launcher ?? [];
  writeFileSync(
    join(jobDir, RUN_FACTS_FILE),
    runFactsJson({
      jobId,
      executor: 'local',
      profile: 'gpu',
      resources: RESOURCES,
      launcher,
      notebookPath
    })
  );
  const script = testJobScript(jobId, jobDir, notebookPath, { launcher });
  writeFileSync(join(jobDir, 'job.sh'), script);
  const child = spawn('bash', [join(jobDir, 'job.sh')], {
    cwd: nbDir,
    env: opts.env ?? jobEnv(kernel.jupyterPath),
    stdio: 'ignore'
  });
  let poll: NodeJS.Timeout | undefined;
  if (opts.signal) {
    const name = opts.signal;
    poll = setInterval(async () => {
      if (((await readProgress(jobDir))?.cell ?? 0) >= 1) {
        clearInterval(poll);
        child.kill(name);
      }
    }, 100);
  }
  await new Promise(resolve => child.on('close', resolve));
  clearInterval(poll);
  const status = await readJobStatus(jobDir);
  assert.equal(status?.phase, 'ended', 'status.json records the end');
  const output = join(nbDir, 'executed', outputNameFor(notebookPath));
  const nb = JSON.parse(readFileSync(output, 'utf8')) as ExecutedNotebook;
  return { jobId, jobDir, nb, end: status as JobStatusEnded };
}

function python(code: string): string {
  return execFileSync(PYTHON, ['-c', code], { encoding: 'utf8' }).trim();
}

const git = (dir: string, ...args: string[]): string =>
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], {
    encoding: 'utf8'
  }).trim();

/** A fake nvidia-smi listing two GPUs: the test double for the driver. */
function fakeNvidiaSmi(): string {
  const bin = mkdirp(join(root, 'smi-bin'));
  writeFileSync(
    join(bin, 'nvidia-smi'),
    '#!/bin/sh\necho "GPU 0: Fake A100 (UUID: GPU-aaaa)"\necho "GPU 1: Fake H100 (UUID: GPU-bbbb)"\n'
  );
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  return bin;
}

/** The notebook's kernel and run-record times agree with the job's own status.json. */
function assertTimes(run: RunRecord, end: JobStatusEnded): void {
  assert.equal(run.startedAt, end.startedAt);
  assert.ok(Date.parse(run.endedAt) >= Date.parse(run.startedAt));
  assert.ok(Date.parse(run.endedAt) <= Date.parse(end.endedAt));
  assert.equal(run.durationSeconds, (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000);
}

test('a completed run: the kernel it ran with, and every fact of the run', async () => {
  const repo = mkdirp(join(root, 'repo'));
  git(repo, 'init', '-q');
  const path = join(repo, 'analysis.ipynb');
  const source = JSON.parse(notebookJson(['import time; time.sleep(1.2)', 'print(6 * 7)']));
  source.metadata.hpc_submit = { profile: 'gpu' };
  writeFileSync(path, JSON.stringify(source));
  git(repo, 'add', 'analysis.ipynb');
  git(repo, 'commit', '-q', '-m', 'notebook');
  writeFileSync(join(repo, 'untracked-data.csv'), '1,2\n'); // untracked files do not count as dirty
  const env = jobEnv(kernel.jupyterPath, {
    PATH: `${fakeNvidiaSmi()}:${process.env.PATH}`,
    CUDA_VISIBLE_DEVICES: '1'
  });

  const { jobId, nb, end } = await runJob(path, { env });

  assert.equal(end.outcome, 'completed');
  const spec = JSON.parse(
    readFileSync(join(kernel.jupyterPath, 'kernels', TEST_KERNEL, 'kernel.json'), 'utf8')
  );
  assert.deepEqual(nb.metadata.kernelspec, {
    name: TEST_KERNEL,
    display_name: spec.display_name,
    language: 'python'
  });
  assert.equal(nb.metadata.language_info?.name, 'python', 'nbclient records the language');
  assert.equal(nb.metadata.hpc_submit.profile, 'gpu', "the notebook's own choice is kept");
  const run = nb.metadata.hpc_submit.run;
  assertTimes(run, end);
  assert.ok(run.durationSeconds >= 1, `the run took its time (${run.durationSeconds} s)`);
  const packages = python(
    'import hashlib, importlib.metadata as m\n' +
      'lines = sorted(f"{d.metadata[\'Name\']}=={d.version}" for d in m.distributions())\n' +
      'print(hashlib.sha256("\\n".join(lines).encode()).hexdigest())'
  );
  const { startedAt, endedAt, durationSeconds, ...rest } = run;
  assert.ok(startedAt && endedAt && durationSeconds !== undefined);
  assert.deepEqual(rest, {
    jobId,
    schedulerId: jobId,
    executor: 'local',
    profile: 'gpu',
    resources: RESOURCES,
    node: hostname(),
    gpus: [{ index: 1, name: 'Fake H100', uuid: 'GPU-bbbb' }],
    state: 'completed',
    kernel: TEST_KERNEL,
    launcher: [],
    pythonVersion: python('import platform; print(platform.python_version())'),
    git: { commit: git(repo, 'rev-parse', 'HEAD'), dirty: false },
    environment: { source: 'packages', sha256: packages }
  });

  // A tracked file changed since the commit: the same commit, dirty.
  writeFileSync(join(repo, 'helper.py'), 'x = 1\n');
  git(repo, 'add', 'helper.py');
  git(repo, 'commit', '-q', '-m', 'helper');
  writeFileSync(join(repo, 'helper.py'), 'x = 2\n');
  const dirty = (await runJob(path, { env })).nb.metadata.hpc_submit.run;
  assert.deepEqual(dirty.git, { commit: git(repo, 'rev-parse', 'HEAD'), dirty: true });
});

test('launched by pixi: the environment is the sha256 of the pixi.lock above the notebook; no git outside a work tree', async () => {
  const project = mkdirp(join(root, 'pixi project'));
  const lock = join(project, 'pixi.lock');
  writeFileSync(lock, 'version: 6\nenvironments: {}\n');
  const dir = mkdirp(join(project, 'notebooks', 'deep'));
  writeNotebook(join(dir, 'nb.ipynb'), ['print(1)']);
  // The test double for pixi: runs the command it is given, in this environment.
  const bin = mkdirp(join(root, 'pixi-bin'));
  writeFileSync(join(bin, 'pixi'), '#!/bin/sh\nexec "$@"\n');
  chmodSync(join(bin, 'pixi'), 0o755);
  const env = jobEnv(kernel.jupyterPath, {
    PATH: `${bin}:${process.env.PATH}`,
    CUDA_VISIBLE_DEVICES: 'GPU-not-listed'
  });

  const { nb, end } = await runJob(join(dir, 'nb.ipynb'), { launcher: ['pixi'], env });

  assert.equal(end.outcome, 'completed');
  const run = nb.metadata.hpc_submit.run;
  assert.deepEqual(run.launcher, ['pixi']);
  assert.deepEqual(run.environment, {
    source: 'pixi.lock',
    path: lock,
    sha256: createHash('sha256').update(readFileSync(lock)).digest('hex')
  });
  assert.equal(run.git, undefined, 'no git record outside a work tree');
  assert.deepEqual(
    run.gpus,
    [{ uuid: 'GPU-not-listed' }],
    'CUDA_VISIBLE_DEVICES when the driver does not name it'
  );
});

test('a failing run: the partial output carries state failed and the reason of status.json', async () => {
  const dir = mkdirp(join(root, 'fail'));
  writeNotebook(join(dir, 'broken.ipynb'), ["print('before')", '1 / 0', "print('never')"]);
  const { nb, end } = await runJob(join(dir, 'broken.ipynb'));
  assert.equal(end.outcome, 'failed');
  assert.equal(nb.metadata.kernelspec.name, TEST_KERNEL);
  const run = nb.metadata.hpc_submit.run;
  assert.equal(run.state, 'failed');
  assert.equal(run.reason, 'cell 2 of 3 raised ZeroDivisionError: division by zero');
  assert.equal(run.reason, end.reason);
  assertTimes(run, end);
});

test.each([
  ['SIGUSR1', 'timeout', 'time limit reached'],
  ['SIGTERM', 'terminated', 'stopped by signal TERM']
] as const)(
  "a run stopped by %s: state %s, in the job script's words",
  async (signal, state, reason) => {
    const dir = mkdirp(join(root, signal));
    writeNotebook(join(dir, 'slow.ipynb'), [
      "print('one', flush=True)",
      'import time; time.sleep(120)'
    ]);
    const { nb, end } = await runJob(join(dir, 'slow.ipynb'), { signal });
    assert.deepEqual([end.outcome, end.reason], [state, reason]);
    const run = nb.metadata.hpc_submit.run;
    assert.deepEqual([run.state, run.reason], [state, reason]);
    assertTimes(run, end);
  }
);

describeUnless(slurmUsable())(
  'the run record on real Slurm, through the companion as hpcuser',
  () => {
    it('names the Slurm job id and the node', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hpc-run-record-slurm-'));
      chmodSync(dir, 0o755);
      mkdirp(join(dir, 'root'));
      writeNotebook(join(dir, 'root', 'on-slurm.ipynb'), ["print('ran')"]);
      writeTestProfiles(join(dir, 'profiles.json'), {
        resources: { partition: 'cpu', cpus: 1, memory: '1G', time: '00:05:00' }
      });
      const c = await companionAsSlurmUser(dir);
      try {
        const res = await c.api('POST', 'api/jobs', { notebook: 'on-slurm.ipynb', profile: 'cpu' });
        assert.equal(res.status, 201, res.text);
        const job = await jobEnded(c, res.json.id, 120_000);
        assert.equal(job.state, 'completed', JSON.stringify(job));
        const nb = JSON.parse(
          readFileSync(join(dir, 'root', job.output), 'utf8')
        ) as ExecutedNotebook;
        const run = nb.metadata.hpc_submit.run;
        assert.match(job.schedulerId ?? '', /^\d+$/);
        assert.equal(run.schedulerId, job.schedulerId, 'the Slurm job id');
        assert.equal(run.node, job.node);
        assert.equal(run.node, hostname(), "the test cluster's one node is this machine");
        assert.deepEqual(
          [run.jobId, run.executor, run.profile, run.resources, run.state, run.kernel],
          [job.id, 'slurm', 'cpu', job.resources, 'completed', 'python3']
        );
      } finally {
        await c.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
);
