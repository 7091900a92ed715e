/**
 * The local executor against real child processes: submit, observe, cancel,
 * the concurrency limit, a time limit, and finding runs again after a restart
 * of the companion (a separate node process plays the first companion).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalExecutor } from '../../server/executors/local';
import { processStartTime } from '../../server/executors/localProcess';
import type { Executor, LaunchSpec, Observation } from '../../server/executors/executor';
import { readJobStatus } from '../../server/jobs/jobStatus';
import {
  REPO,
  mkdirp,
  installTestKernel,
  jobEnv,
  testJobScript,
  writeNotebook
} from '../fixtures/jobRuntime';

let root: string;
let n = 0;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hpc-local-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A job directory with a plain bash script standing in for job.sh. */
function spec(body: string, over: Partial<LaunchSpec> = {}): LaunchSpec {
  const jobId = `job-${++n}`;
  const jobDir = mkdirp(join(root, 'jobs', jobId));
  const scriptPath = join(jobDir, 'job.sh');
  writeFileSync(scriptPath, `#!/bin/bash\n${body}\n`);
  return {
    jobId,
    jobDir,
    scriptPath,
    logPath: join(jobDir, 'log.txt'),
    cwd: jobDir,
    resources: {},
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HPC_MARK: 'from-spec' },
    name: `${jobId}.ipynb`,
    ...over
  };
}

async function waitFor(
  executor: Executor,
  id: string,
  predicate: (o: Observation) => boolean,
  timeoutMs = 20_000
): Promise<Observation> {
  const deadline = Date.now() + timeoutMs;
  let last: Observation | undefined;
  while (Date.now() < deadline) {
    last = (await executor.observe([id])).get(id);
    if (last && predicate(last)) {
      return last;
    }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`job ${id} never reached the expected phase; last: ${JSON.stringify(last)}`);
}

test('a run starts at once, logs, sees its env and cwd, and ends completed', async () => {
  const executor = createLocalExecutor({
    stateDir: mkdirp(join(root, 'state-a')),
    maxConcurrent: 2
  });
  const s = spec('echo "env=$HPC_MARK cwd=$PWD"; echo oops >&2; exit 0');
  const id = await executor.submit(s);
  assert.equal(id, s.jobId);
  const end = await waitFor(executor, id, o => o.phase === 'ended');
  assert.equal(end.endState, 'completed');
  assert.equal(end.exitCode, 0);
  const log = readFileSync(s.logPath, 'utf8');
  assert.match(log, new RegExp(`env=from-spec cwd=${s.cwd}`));
  assert.match(log, /oops/);
  await executor.close?.();
});

test('a failing run ends failed with its exit code; unknown ids are gone', async () => {
  const executor = createLocalExecutor({ stateDir: mkdirp(join(root, 'state-b')) });
  const id = await executor.submit(spec('exit 3'));
  const end = await waitFor(executor, id, o => o.phase === 'ended');
  assert.equal(end.endState, 'failed');
  assert.equal(end.exitCode, 3);
  assert.deepEqual((await executor.observe(['no-such-job'])).get('no-such-job'), { phase: 'gone' });
  await executor.close?.();
});

test('a run after others waits for them; after a failure it ends without running, as on Slurm', async () => {
  const executor = createLocalExecutor({
    stateDir: mkdirp(join(root, 'state-dep')),
    checkIntervalMs: 200
  });
  const first = spec('sleep 1; exit 3');
  const firstId = await executor.submit(first);
  const okAfter = spec('touch ran', { after: { schedulerIds: [firstId], any: false } });
  const anyAfter = spec('touch ran', { after: { schedulerIds: [firstId], any: true } });
  const okId = await executor.submit(okAfter);
  const anyId = await executor.submit(anyAfter);
  // While the first runs, both wait, in Slurm's word for it.
  const early = await executor.observe([okId, anyId]);
  assert.deepEqual(early.get(okId), { phase: 'pending', reason: 'Dependency' });
  assert.deepEqual(early.get(anyId), { phase: 'pending', reason: 'Dependency' });
  assert.equal((await waitFor(executor, firstId, o => o.phase === 'ended')).endState, 'failed');
  const never = await waitFor(executor, okId, o => o.phase === 'ended');
  assert.deepEqual(never, {
    phase: 'ended',
    endState: 'cancelled',
    reason: 'DependencyNeverSatisfied'
  });
  assert.equal(existsSync(join(okAfter.cwd, 'ran')), false, 'its script never ran');
  assert.equal((await waitFor(executor, anyId, o => o.phase === 'ended')).endState, 'completed');
  assert.ok(existsSync(join(anyAfter.cwd, 'ran')), 'afterany ran');
  // A run after one that completed starts; after an unknown id it can never start.
  const chained = spec('exit 0', { after: { schedulerIds: [anyId], any: false } });
  const chainedId = await executor.submit(chained);
  assert.equal(
    (await waitFor(executor, chainedId, o => o.phase === 'ended')).endState,
    'completed'
  );
  const orphan = spec('touch ran', { after: { schedulerIds: ['no-such-run'], any: true } });
  const orphanId = await executor.submit(orphan);
  assert.equal(
    (await waitFor(executor, orphanId, o => o.phase === 'ended')).reason,
    'DependencyNeverSatisfied'
  );
  await executor.close?.();
});

test('the concurrency limit keeps later runs pending and starts them in order', async () => {
  const executor = createLocalExecutor({
    stateDir: mkdirp(join(root, 'state-c')),
    maxConcurrent: 1
  });
  const a = spec('sleep 1.5; date +%s%N > started-a');
  const b = spec('date +%s%N > started-b');
  const c = spec('date +%s%N > started-c');
  for (const s of [a, b, c]) {
    await executor.submit(s);
  }
  const first = await executor.observe([a.jobId, b.jobId, c.jobId]);
  assert.equal(first.get(a.jobId)?.phase, 'running');
  assert.equal(first.get(b.jobId)?.phase, 'pending');
  assert.match(first.get(c.jobId)?.reason ?? '', /1 ahead/);
  await waitFor(executor, c.jobId, o => o.phase === 'ended');
  const t = (s: LaunchSpec, name: string) => Number(readFileSync(join(s.cwd, name), 'utf8'));
  assert.ok(t(b, 'started-b') >= t(a, 'started-a'), 'b started after a ended');
  assert.ok(t(c, 'started-c') >= t(b, 'started-b'), 'c started after b');
  await executor.close?.();
});

test('cancel sends TERM to the run (SIGKILL after the grace period when ignored)', async () => {
  const executor = createLocalExecutor({
    stateDir: mkdirp(join(root, 'state-d')),
    killGraceMs: 500
  });
  const polite = spec("trap 'echo got TERM; exit 143' TERM\nsleep 60 & wait");
  const stubborn = spec("trap '' TERM\nwhile :; do sleep 0.1; done");
  await executor.submit(polite);
  await executor.submit(stubborn);
  await waitFor(executor, polite.jobId, o => o.phase === 'running');
  await new Promise(r => setTimeout(r, 200)); // let bash install its trap
  await executor.cancel(polite.jobId);
  await executor.cancel(stubborn.jobId);
  const p = await waitFor(executor, polite.jobId, o => o.phase === 'ended', 5000);
  assert.equal(p.endState, 'cancelled');
  assert.equal(p.exitCode, 143);
  assert.match(readFileSync(polite.logPath, 'utf8'), /got TERM/);
  const s = await waitFor(executor, stubborn.jobId, o => o.phase === 'ended', 5000);
  assert.equal(s.endState, 'cancelled');
  await executor.close?.();
});

test('cancelling a pending run means it never starts', async () => {
  const executor = createLocalExecutor({
    stateDir: mkdirp(join(root, 'state-e')),
    maxConcurrent: 1
  });
  const blocker = spec('sleep 1');
  const waiting = spec('touch ran');
  await executor.submit(blocker);
  await executor.submit(waiting);
  await executor.cancel(waiting.jobId);
  assert.deepEqual((await executor.observe([waiting.jobId])).get(waiting.jobId), {
    phase: 'ended',
    endState: 'cancelled'
  });
  await waitFor(executor, blocker.jobId, o => o.phase === 'ended');
  await new Promise(r => setTimeout(r, 300));
  assert.equal(existsSync(join(waiting.cwd, 'ran')), false);
  await executor.close?.();
});

test('a time limit sends USR1 to the job script, as Slurm does', async () => {
  const executor = createLocalExecutor({
    stateDir: mkdirp(join(root, 'state-f')),
    killGraceMs: 2000
  });
  const s = spec("trap 'echo time limit; exit 9' USR1\nsleep 30 & wait", {
    resources: { time: '0:01' }
  });
  const started = Date.now();
  await executor.submit(s);
  const end = await waitFor(executor, s.jobId, o => o.phase === 'ended', 10_000);
  assert.equal(end.exitCode, 9);
  assert.ok(Date.now() - started < 8000);
  assert.match(readFileSync(s.logPath, 'utf8'), /time limit/);
  await executor.close?.();
});

test('after a restart, adopt finds runs still going, runs that died, and starts waiting ones', async () => {
  const stateDir = mkdirp(join(root, 'state-g'));
  const going = spec('sleep 3; echo done-going');
  const dies = spec('sleep 30');
  const waiting = spec('echo started-after-restart');
  // maxConcurrent 2: going and dies run, waiting waits.
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'test', 'fixtures', 'localExecutorDriver.ts'), stateDir, '2'],
    { input: JSON.stringify([going, dies, waiting]), encoding: 'utf8', cwd: REPO }
  );
  assert.deepEqual(JSON.parse(out), [going.jobId, dies.jobId, waiting.jobId]);

  // The first companion is gone; its runs are not. Kill one of them as a crash would.
  const record = JSON.parse(
    readFileSync(join(stateDir, 'local-executor', `${dies.jobId}.json`), 'utf8')
  ) as { pid: number; procStart: string };
  assert.equal(processStartTime(record.pid), record.procStart);
  process.kill(-record.pid, 'SIGKILL');

  const executor = createLocalExecutor({ stateDir, maxConcurrent: 2 });
  await executor.adopt?.([going.jobId, dies.jobId, waiting.jobId]);
  const seen = await executor.observe([going.jobId, dies.jobId, waiting.jobId]);
  assert.equal(seen.get(going.jobId)?.phase, 'running', 'a run still going is found again');
  assert.equal(
    (await waitFor(executor, dies.jobId, o => o.phase !== 'running', 3000)).phase,
    'gone',
    'a run that died is gone'
  );
  // The dead run freed its slot: the waiting one starts without waiting for `going`.
  await waitFor(executor, waiting.jobId, o => o.phase !== 'pending', 5000);
  await new Promise(r => setTimeout(r, 500));
  assert.match(readFileSync(waiting.logPath, 'utf8'), /started-after-restart/);
  // The adopted run ends; without a parent's exit status it reads as gone (its status.json tells the rest).
  assert.equal(
    (await waitFor(executor, going.jobId, o => o.phase !== 'running', 8000)).phase,
    'gone'
  );
  assert.match(readFileSync(going.logPath, 'utf8'), /done-going/);
  await executor.close?.();
});

test('a real notebook through the local executor and the real job script', async () => {
  const kernel = installTestKernel();
  try {
    const executor = createLocalExecutor({ stateDir: mkdirp(join(root, 'state-h')) });
    const nbDir = mkdirp(join(root, 'notebooks', 'exp 1'));
    writeNotebook(join(nbDir, 'run me.ipynb'), ["print('local run', 1 + 1)"]);
    const s = spec('');
    writeFileSync(s.scriptPath, testJobScript(s.jobId, s.jobDir, join(nbDir, 'run me.ipynb')));
    await executor.submit({ ...s, cwd: nbDir, env: jobEnv(kernel.jupyterPath) });
    const end = await waitFor(executor, s.jobId, o => o.phase === 'ended', 60_000);
    assert.equal(end.endState, 'completed', readFileSync(s.logPath, 'utf8'));
    assert.equal((await readJobStatus(s.jobDir))?.phase, 'ended');
    assert.match(
      readFileSync(join(nbDir, 'executed', 'run me_executed.ipynb'), 'utf8'),
      /local run 2/
    );
    await executor.close?.();
  } finally {
    rmSync(kernel.prefix, { recursive: true, force: true });
  }
});
