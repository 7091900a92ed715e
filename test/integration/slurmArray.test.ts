/**
 * A sweep as ONE Slurm job array on the real cluster (scripts/slurm-cluster.sh),
 * submitted as the ordinary user hpcuser: the dispatcher runs each task's own
 * job.sh, squeue -r lists every task in one call, the %K limit holds, and one
 * scancel stops the whole array. The task directories sit under a path with a
 * '%', a space and a quote, which Slurm's file names and the dispatcher must
 * carry as they are. Skipped, with the reason, when not root or Slurm is absent.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor, LaunchSpec, Observation } from '../../server/executors/executor';
import { createSlurmExecutor } from '../../server/executors/slurm';
import { shellQuote } from '../../server/runtime/shellQuote';
import { SLURM_USER, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';
import { type UnixUser, chownTree, unixUser } from '../fixtures/users';

const reasonToSkip = slurmUsable();

describeUnless(reasonToSkip)('a sweep as one Slurm job array', () => {
  let root: string;
  let jobs: string;
  let results: string;
  let user: UnixUser;
  let executor: Executor;
  const calls: Record<'squeue' | 'scancel', string> = { squeue: '', scancel: '' };
  const submitted: string[] = [];

  /** A wrapper that logs each call's arguments, one line per call, then runs the real command. */
  function countingWrapper(command: 'squeue' | 'scancel'): string {
    const real = execFileSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
    calls[command] = join(root, `${command}-calls`);
    writeFileSync(calls[command], '');
    const wrapper = join(root, command);
    writeFileSync(
      wrapper,
      `#!/bin/sh\necho "$*" >> ${shellQuote(calls[command])}\nexec ${shellQuote(real)} "$@"\n`
    );
    chmodSync(wrapper, 0o755);
    return wrapper;
  }

  const callsOf = (command: 'squeue' | 'scancel'): string[] =>
    readFileSync(calls[command], 'utf8').split('\n').filter(Boolean);

  /** The task's job.sh: writes a file naming its task, waits, and exits with `code`. */
  function taskSpec(sweepId: string, i: number, seconds: number, code: number): LaunchSpec {
    const jobId = `${sweepId}-${i}`;
    const jobDir = join(jobs, jobId);
    mkdirSync(jobDir, { recursive: true });
    const scriptPath = join(jobDir, 'job.sh');
    const logPath = join(jobDir, 'log.txt');
    const out = shellQuote(join(results, `${jobId}.txt`));
    writeFileSync(
      scriptPath,
      [
        '#!/bin/bash',
        `echo "task ${i} slurm task $SLURM_ARRAY_TASK_ID" > ${out}`,
        `sleep ${seconds}`,
        code ? `echo "task ${i} fails" >&2` : '',
        `exit ${code}`,
        ''
      ].join('\n'),
      { mode: 0o700 }
    );
    writeFileSync(logPath, '', { mode: 0o600 });
    return {
      jobId,
      jobDir,
      scriptPath,
      logPath,
      cwd: results,
      resources: { partition: 'cpu', cpus: 1, memory: '100M', time: '00:10:00' },
      env: {
        PATH: process.env.PATH,
        HOME: user.home,
        USER: SLURM_USER,
        LOGNAME: SLURM_USER,
        HPC_SUBMIT_JOB_ID: jobId
      },
      name: 'sweep.ipynb'
    };
  }

  async function submitSweep(
    sweepId: string,
    specs: LaunchSpec[],
    maxParallel: number
  ): Promise<{ ids: string[]; sweepDir: string }> {
    const sweepDir = join(root, 'sweeps', sweepId);
    mkdirSync(sweepDir, { recursive: true });
    chownTree(root, user);
    const ids = await executor.submitArray(specs, { sweepId, maxParallel, sweepDir });
    submitted.push(...ids);
    return { ids, sweepDir };
  }

  /** Observes until `done` holds, one observe a second; answers every answer seen. */
  async function watch(
    ids: string[],
    done: (seen: Map<string, Observation>) => boolean,
    timeoutMs: number
  ): Promise<Map<string, Observation>[]> {
    const answers: Map<string, Observation>[] = [];
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const seen = await executor.observe(ids);
      answers.push(seen);
      if (done(seen)) {
        return answers;
      }
      await new Promise(r => setTimeout(r, 1000));
    }
    throw new Error(`timed out; last seen: ${JSON.stringify([...(answers.pop() ?? [])])}`);
  }

  const allEnded = (seen: Map<string, Observation>) =>
    [...seen.values()].every(o => o.phase === 'ended');
  const running = (seen: Map<string, Observation>) =>
    [...seen.values()].filter(o => o.phase === 'running').length;

  beforeAll(() => {
    user = unixUser(SLURM_USER);
    root = mkdtempSync(join(tmpdir(), 'hpc-array-'));
    chmodSync(root, 0o755);
    jobs = join(root, "jobs 50% 'q'");
    results = join(root, 'results');
    mkdirSync(jobs);
    mkdirSync(results);
    executor = createSlurmExecutor({
      runAs: SLURM_USER,
      bin: { squeue: countingWrapper('squeue'), scancel: countingWrapper('scancel') }
    });
    chownTree(root, user);
  });

  afterAll(() => {
    if (submitted.length > 0) {
      spawnSync('scancel', [...new Set(submitted.map(id => id.split('_')[0]))]);
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('six tasks, at most two at once, each observed in one squeue call; the one that exits 1 fails', async () => {
    const sweepId = '20261125-120000-aaaaaa';
    const specs = [0, 1, 2, 3, 4, 5].map(i => taskSpec(sweepId, i, 4, i === 3 ? 1 : 0));
    const { ids, sweepDir } = await submitSweep(sweepId, specs, 2);

    const arrayId = ids[0].split('_')[0];
    assert.match(arrayId, /^\d+$/);
    assert.deepEqual(
      ids,
      [0, 1, 2, 3, 4, 5].map(i => `${arrayId}_${i}`)
    );
    const dispatcher = statSync(join(sweepDir, 'array.sh'));
    assert.equal(dispatcher.mode & 0o777, 0o700);
    assert.equal(dispatcher.uid, user.uid);

    writeFileSync(calls.squeue, '');
    const answers = await watch(ids, allEnded, 180_000);
    const squeues = callsOf('squeue');
    assert.equal(squeues.length, answers.length, 'one squeue call per observe');
    assert.match(squeues[0], new RegExp(`^-h -r --states=all -j ${ids.join(',')} `));
    for (const seen of answers) {
      assert.deepEqual([...seen.keys()].sort(), [...ids].sort());
      assert.ok(
        [...seen.values()].every(o => o.phase !== 'gone'),
        `every task listed: ${JSON.stringify([...seen])}`
      );
    }
    const most = Math.max(...answers.map(running));
    assert.ok(most <= 2, `at most 2 tasks ran at once, saw ${most}`);
    assert.ok(
      answers.some(seen => [...seen.values()].some(o => o.reason === 'JobArrayTaskLimit')),
      'tasks waited for the array limit'
    );

    const last = answers[answers.length - 1];
    assert.deepEqual(
      ids.map(id => last.get(id)?.endState),
      ['completed', 'completed', 'completed', 'failed', 'completed', 'completed']
    );
    for (const [i, spec] of specs.entries()) {
      const text = readFileSync(join(results, `${spec.jobId}.txt`), 'utf8');
      assert.equal(text, `task ${i} slurm task ${i}\n`);
    }
    // stderr reached the task's own log.txt: Slurm expanded %a and kept the escaped '%'.
    assert.match(readFileSync(specs[3].logPath, 'utf8'), /task 3 fails/);
  });

  it('the dispatcher refuses a task id that is not digits', () => {
    const sweepId = '20261125-120000-aaaaaa';
    const dispatcher = join(root, 'sweeps', sweepId, 'array.sh');
    const run = spawnSync('/bin/bash', [dispatcher], {
      env: { PATH: process.env.PATH, SLURM_ARRAY_TASK_ID: '0/../../x' },
      encoding: 'utf8'
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /SLURM_ARRAY_TASK_ID is not a task index: '0\/\.\.\/\.\.\/x'/);
  });

  it('cancel stops one task; cancelArray stops every task with one scancel of the array', async () => {
    const sweepId = '20261125-120000-bbbbbb';
    const specs = [0, 1, 2, 3].map(i => taskSpec(sweepId, i, 300, 0));
    const { ids } = await submitSweep(sweepId, specs, 2);
    const arrayId = ids[0].split('_')[0];
    await watch(ids, seen => running(seen) === 2, 60_000);

    // A running task ends cancelled. A waiting one cancelled alone may leave no
    // record in Slurm (22.05) unless it was the array's own record: 'gone' or
    // cancelled; the job service's cancelRequested makes 'gone' cancelled too.
    await executor.cancel(ids[0]);
    await executor.cancel(ids[3]);
    const [alone] = (await watch(ids, seen => seen.get(ids[0])?.phase === 'ended', 30_000)).slice(
      -1
    );
    assert.equal(alone.get(ids[0])?.endState, 'cancelled');
    const waiting = alone.get(ids[3]);
    assert.ok(
      waiting?.phase === 'gone' || waiting?.endState === 'cancelled',
      JSON.stringify(waiting)
    );
    assert.deepEqual(
      [ids[1], ids[2]].map(id => alone.get(id)?.phase === 'ended'),
      [false, false],
      'the other tasks go on'
    );

    writeFileSync(calls.scancel, '');
    await executor.cancelArray(ids);
    assert.deepEqual(callsOf('scancel'), [arrayId]);
    const [after] = (
      await watch(ids, seen => ids.slice(0, 3).every(id => seen.get(id)?.phase === 'ended'), 60_000)
    ).slice(-1);
    assert.deepEqual(
      ids.slice(0, 3).map(id => after.get(id)?.endState),
      ['cancelled', 'cancelled', 'cancelled']
    );
  });
});
