/**
 * The Slurm executor against a real single-node Slurm cluster
 * (scripts/slurm-cluster.sh up), submitting as the ordinary user `hpcuser`:
 * a --gres=gpu:1 job that passes the GPU guard (Slurm sets CUDA_VISIBLE_DEVICES
 * for one of the cluster's FAKE GPUs, a test double), a cancel, a time limit,
 * and one batched squeue call for several jobs. Skipped, with the reason, when
 * not root or Slurm is absent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSlurmExecutor } from '../../server/executors/slurm';
import {
  SchedulerUnreachableError,
  type Executor,
  type LaunchSpec,
  type Observation
} from '../../server/executors/executor';
import { readJobStatus, readProgress, type JobStatusEnded } from '../../server/jobs/jobStatus';
import { reconcile } from '../../server/jobs/reconcile';
import type { Job } from '../../contract/wire';
import {
  PYTHON,
  REPO,
  TEST_KERNEL,
  jobEnv,
  notebookJson,
  outputsText,
  testJobScript
} from '../fixtures/jobRuntime';
import { describeUnless } from '../fixtures/skip';
import { type UnixUser, chownTree, unixUser } from '../fixtures/users';

const USER = 'hpcuser';

function whySkip(): string | false {
  if (process.getuid?.() !== 0) {
    return 'the Slurm tests need root (they start a real cluster and submit as hpcuser)';
  }
  let out: string;
  try {
    out = execFileSync(join(REPO, 'scripts', 'slurm-cluster.sh'), ['up'], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(
      `scripts/slurm-cluster.sh up failed: ${(error as { stdout?: string }).stdout ?? error}`
    );
  }
  if (/skipped/.test(out)) {
    return out.trim();
  }
  return false;
}

/**
 * The job's Python as hpcuser sees it. The test venv's base interpreter may sit
 * where hpcuser cannot read it (/root/.pyenv); then the system python3 of the
 * same version runs with the venv's site-packages, through a launcher, the
 * way a site's `pixi run` prefix would.
 */
function pythonForUser(): {
  launcher: string[];
  python: string;
  kernelArgv0: string;
  kernelEnv: Record<string, string>;
} {
  const run = (cmd: string[]) => {
    try {
      return execFileSync('runuser', ['-u', USER, '--', ...cmd], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        cwd: '/'
      }).trim();
    } catch {
      return null;
    }
  };
  if (run([PYTHON, '-c', 'import nbconvert, ipykernel']) !== null) {
    return { launcher: [], python: PYTHON, kernelArgv0: PYTHON, kernelEnv: {} };
  }
  const version = execFileSync(
    PYTHON,
    ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
    { encoding: 'utf8' }
  ).trim();
  const site = execFileSync(
    PYTHON,
    ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
    { encoding: 'utf8' }
  ).trim();
  const system = '/usr/bin/python3';
  const ok = run([
    'env',
    `PYTHONPATH=${site}`,
    system,
    '-c',
    `import sys, nbconvert, ipykernel; assert "%d.%d" % sys.version_info[:2] == "${version}"`
  ]);
  if (ok === null) {
    throw new Error(
      `hpcuser can run neither ${PYTHON} nor ${system} with the test venv's packages`
    );
  }
  return {
    launcher: ['env', `PYTHONPATH=${site}`],
    python: system,
    kernelArgv0: system,
    kernelEnv: { PYTHONPATH: site }
  };
}

describeUnless(whySkip())('slurm executor on a real cluster', () => {
  let root: string;
  let user: UnixUser;
  let py: ReturnType<typeof pythonForUser>;
  let jupyterPath: string;
  let squeueCalls: string;
  let executor: Executor;
  let n = 0;

  function prepare(
    name: string,
    cells: string[],
    requireGpu: boolean,
    resources: LaunchSpec['resources']
  ): LaunchSpec {
    const jobId = `slurm-${++n}`;
    const nbDir = join(root, 'notebooks', `${name} dir`);
    const jobDir = join(root, 'jobs', jobId);
    mkdirSync(nbDir, { recursive: true });
    mkdirSync(jobDir, { recursive: true });
    const notebookPath = join(nbDir, `${name}.ipynb`);
    writeFileSync(notebookPath, notebookJson(cells));
    const scriptPath = join(jobDir, 'job.sh');
    writeFileSync(
      scriptPath,
      testJobScript(jobId, jobDir, notebookPath, {
        launcher: py.launcher,
        python: py.python,
        requireGpu
      })
    );
    chmodSync(scriptPath, 0o755);
    chownTree(join(root, 'notebooks'), user);
    chownTree(join(root, 'jobs'), user);
    const env = jobEnv(jupyterPath, { HOME: user.home, USER, LOGNAME: USER });
    return {
      jobId,
      jobDir,
      scriptPath,
      logPath: join(jobDir, 'log.txt'),
      cwd: nbDir,
      resources,
      env,
      name: `${name}.ipynb`
    };
  }

  async function until<T>(
    what: string,
    fn: () => Promise<T | null | undefined | false>,
    timeoutMs: number
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await fn();
      if (v) {
        return v;
      }
      await new Promise(r => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const ended = (s: LaunchSpec) =>
    until(
      `the end of ${s.jobId}`,
      async () => {
        const st = await readJobStatus(s.jobDir);
        return st?.phase === 'ended' ? (st as JobStatusEnded) : null;
      },
      150_000
    );

  let gpuJob: LaunchSpec, cancelJob: LaunchSpec, limitJob: LaunchSpec;
  const sid: Record<string, string> = {};
  let submittedAt = 0;

  beforeAll(async () => {
    user = unixUser(USER);
    root = mkdtempSync(join(tmpdir(), 'hpc-slurm-'));
    chmodSync(root, 0o755);
    py = pythonForUser();
    // The test's kernelspec, readable by hpcuser.
    const kdir = join(root, 'share', 'jupyter', 'kernels', TEST_KERNEL);
    mkdirSync(kdir, { recursive: true });
    writeFileSync(
      join(kdir, 'kernel.json'),
      JSON.stringify({
        argv: [py.kernelArgv0, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        display_name: 'hpc-test',
        language: 'python',
        env: py.kernelEnv
      })
    );
    jupyterPath = join(root, 'share', 'jupyter');
    // A counting wrapper around the real squeue: proves one call per observe.
    squeueCalls = join(root, 'squeue-calls');
    const wrapper = join(root, 'squeue');
    const realSqueue = execFileSync('bash', ['-c', 'command -v squeue'], {
      encoding: 'utf8'
    }).trim();
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${squeueCalls}'\nexec '${realSqueue}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeFileSync(squeueCalls, '');
    chownTree(root, user);
    executor = createSlurmExecutor({ runAs: USER, bin: { squeue: wrapper } });

    gpuJob = prepare(
      'gpu nb',
      ["import os\nprint('CVD=' + os.environ.get('CUDA_VISIBLE_DEVICES', 'unset'))"],
      true,
      {
        partition: 'gpu',
        gpus: 1,
        cpus: 1,
        memory: '500M',
        time: '00:05:00'
      }
    );
    cancelJob = prepare(
      'cancel me',
      ["print('first', flush=True)", 'import time; time.sleep(300)'],
      false,
      {
        partition: 'cpu',
        cpus: 1,
        time: '00:10:00'
      }
    );
    limitJob = prepare(
      'too long',
      ["print('started', flush=True)", 'import time; time.sleep(600)', "print('never')"],
      false,
      {
        partition: 'cpu',
        cpus: 1,
        time: '1'
      }
    );
    submittedAt = Date.now();
    for (const s of [limitJob, gpuJob, cancelJob]) {
      sid[s.jobId] = await executor.submit(s);
    }
  });

  afterAll(async () => {
    if (!root) {
      return;
    }
    try {
      execFileSync('scancel', Object.values(sid), { stdio: 'ignore' });
    } catch {
      // already ended
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('sbatch answered numeric job ids, submitted as hpcuser', async () => {
    for (const id of Object.values(sid)) {
      assert.match(id, /^\d+$/);
    }
    const owner = execFileSync(
      'squeue',
      ['-h', '-j', sid[gpuJob.jobId], '--states=all', '-o', '%u'],
      { encoding: 'utf8' }
    ).trim();
    assert.equal(owner, USER);
  });

  it('describe lists the partitions', async () => {
    const info = await executor.describe();
    assert.equal(info.reachable, true);
    assert.ok(
      info.partitions.includes('cpu') && info.partitions.includes('gpu'),
      info.partitions.join(',')
    );
  });

  it('one squeue call observes several jobs; an unknown id is gone', async () => {
    writeFileSync(squeueCalls, '');
    const all = [sid[gpuJob.jobId], sid[cancelJob.jobId], sid[limitJob.jobId], '99999999'];
    const seen = await executor.observe(all);
    const calls = readFileSync(squeueCalls, 'utf8').trim().split('\n').filter(Boolean);
    assert.equal(calls.length, 1, `one squeue call, got: ${calls.join(' / ')}`);
    assert.match(calls[0], new RegExp(`-j ${all.join(',')}`));
    for (const id of all.slice(0, 3)) {
      assert.ok(
        ['pending', 'running', 'ended'].includes(seen.get(id)?.phase ?? ''),
        `${id}: ${JSON.stringify(seen.get(id))}`
      );
    }
    assert.deepEqual(seen.get('99999999'), { phase: 'gone' });
    // A lone id that left the queue: squeue says "Invalid job id specified"; not an error.
    assert.deepEqual((await executor.observe(['99999998'])).get('99999998'), { phase: 'gone' });
  });

  it('a --gres=gpu:1 job on partition gpu passes the GPU guard with the fake GPU', async () => {
    const running = await until<Observation>(
      'the GPU job to run or end',
      async () => {
        const o = (await executor.observe([sid[gpuJob.jobId]])).get(sid[gpuJob.jobId]);
        return o && o.phase !== 'pending' ? o : null;
      },
      60_000
    );
    if (running.phase === 'running') {
      assert.equal(running.node, hostname());
    }
    const end = await ended(gpuJob);
    assert.equal(end.outcome, 'completed', readFileSync(gpuJob.logPath, 'utf8'));
    assert.deepEqual(end.gpus, ['0']);
    const output = join(gpuJob.cwd, 'executed', 'gpu nb_executed.ipynb');
    assert.match(readFileSync(output, 'utf8'), /CVD=0/);
    assert.equal(statSync(output).uid, user.uid, 'the output belongs to the user');
  });

  it('cancel: scancel stops the run; the job records TERM and keeps its partial notebook', async () => {
    const id = sid[cancelJob.jobId];
    await until(
      'the first cell of the job to cancel',
      async () => ((await readProgress(cancelJob.jobDir))?.cell ?? 0) >= 1,
      90_000
    );
    await executor.cancel(id);
    const end = await ended(cancelJob);
    assert.equal(end.outcome, 'terminated');
    assert.equal(end.signal, 'TERM');
    assert.match(
      readFileSync(join(cancelJob.cwd, 'executed', 'cancel me_executed.ipynb'), 'utf8'),
      /first/
    );
    const o = (await executor.observe([id])).get(id);
    const job: Job = {
      id: cancelJob.jobId,
      notebook: 'x',
      output: 'y',
      profile: 'cpu',
      kernel: TEST_KERNEL,
      resources: {},
      executor: 'slurm',
      schedulerId: id,
      state: 'running',
      submittedAt: new Date().toISOString()
    };
    const patch = reconcile(job, end, null, o, { cancelRequested: true, schedulerReachable: true });
    assert.equal(patch.state, 'cancelled');
    await executor.cancel(id); // cancelling an ended job is not an error
  });

  it('a job over its time limit ends as timeout, with its partial notebook', async () => {
    const end = await ended(limitJob);
    const seconds = Math.round((Date.now() - submittedAt) / 1000);
    assert.equal(end.outcome, 'timeout', readFileSync(limitJob.logPath, 'utf8'));
    assert.equal(end.reason, 'time limit reached');
    const text = outputsText(
      JSON.parse(readFileSync(join(limitJob.cwd, 'executed', 'too long_executed.ipynb'), 'utf8'))
    );
    assert.match(text, /started/);
    assert.match(text, /time limit reached/);
    assert.doesNotMatch(text, /never/);
    process.stdout.write(
      `# time-limit job ended after ${seconds} s (Slurm's minimum limit is 1 min; USR1 comes up to 15 s before it, give or take Slurm's 30 s timer)\n`
    );
  });

  it('a run after a failed one never starts (Slurm ends it); a run after any end starts anyway', async () => {
    const cpu = { partition: 'cpu', cpus: 1, time: '00:05:00' };
    const marker = (name: string) => `open(${JSON.stringify(name)}, 'w').write('ran')`;
    const first = prepare('fails first', ["raise RuntimeError('the step failed')"], false, cpu);
    const okAfter = prepare('after ok', [marker('ran.txt')], false, cpu);
    const anyAfter = prepare('after any', [marker('ran.txt')], false, cpu);
    const firstId = await executor.submit(first);
    const okId = await executor.submit({
      ...okAfter,
      after: { schedulerIds: [firstId], any: false }
    });
    await executor.submit({ ...anyAfter, after: { schedulerIds: [firstId], any: true } });
    assert.equal((await ended(first)).outcome, 'failed');
    assert.equal((await ended(anyAfter)).outcome, 'completed');
    assert.ok(existsSync(join(anyAfter.cwd, 'ran.txt')), 'afterany ran its notebook');
    // --kill-on-invalid-dep: Slurm ends the waiting run itself, it does not wait forever.
    const o = await until(
      'Slurm to end the run whose dependency failed',
      async () => {
        const seen = (await executor.observe([okId])).get(okId);
        return seen && (seen.phase === 'ended' || seen.phase === 'gone') ? seen : null;
      },
      60_000
    );
    if (o.phase === 'ended') {
      assert.equal(o.endState, 'cancelled', JSON.stringify(o));
    }
    assert.equal(await readJobStatus(okAfter.jobDir), null, 'its job never started');
    assert.equal(existsSync(join(okAfter.cwd, 'ran.txt')), false, 'its notebook never ran');
  });

  it('an unreachable scheduler throws SchedulerUnreachableError, never a job failure', async () => {
    const missing = createSlurmExecutor({
      bin: { squeue: '/nonexistent/squeue', sinfo: '/nonexistent/sinfo' }
    });
    await assert.rejects(missing.observe(['1']), SchedulerUnreachableError);
    const info = await missing.describe();
    assert.equal(info.reachable, false);
    assert.match(info.message ?? '', /not installed or not on PATH/);
    // A controller that does not answer (wrong port): squeue hangs; the timeout reports it.
    const bad = join(root, 'bad-slurm.conf');
    writeFileSync(
      bad,
      readFileSync('/etc/slurm/slurm.conf', 'utf8').replace(
        /^ClusterName=.*$/m,
        '$&\nSlurmctldPort=9'
      )
    );
    const down = createSlurmExecutor({ timeoutMs: 1500, env: { ...process.env, SLURM_CONF: bad } });
    await assert.rejects(
      down.observe(['1']),
      (e: unknown) =>
        e instanceof SchedulerUnreachableError &&
        /did not answer|contact/.test((e as Error).message)
    );
    assert.ok(existsSync(bad));
  });
});
