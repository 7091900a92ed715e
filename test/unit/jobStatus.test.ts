import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../contract/wire';
import {
  parseJobStatus,
  parseProgress,
  readJobStatus,
  readProgress,
  reconcile,
  endCauseInLog,
  TERMINATED_WAIT_MS,
  type JobStatusEnded,
  type JobStatusStarted
} from '../../server/jobs/jobStatus';

const NOW = '2030-01-01T00:10:00.000Z';
const reachable = { cancelRequested: false, schedulerReachable: true, now: NOW };

function job(over: Partial<Job> = {}): Job {
  return {
    id: 'j1',
    notebook: 'nb.ipynb',
    output: 'executed/nb_executed.ipynb',
    profile: 'gpu',
    kernel: 'k',
    resources: {},
    executor: 'slurm',
    schedulerId: '42',
    state: 'queued',
    submittedAt: '2030-01-01T00:00:00Z',
    ...over
  };
}

const started: JobStatusStarted = {
  phase: 'started',
  host: 'node7',
  gpus: ['0'],
  startedAt: '2030-01-01T00:01:00Z'
};
function ended(over: Partial<JobStatusEnded>): JobStatusEnded {
  return {
    phase: 'ended',
    host: 'node7',
    gpus: ['0'],
    startedAt: '2030-01-01T00:01:00Z',
    endedAt: '2030-01-01T00:05:00Z',
    exitCode: 0,
    outcome: 'completed',
    ...over
  };
}

test('status.json and progress.json parse tolerantly', () => {
  assert.equal(parseJobStatus(''), null);
  assert.equal(parseJobStatus('{"phase":"ended","host":"a"'), null); // partial write
  assert.equal(parseJobStatus('{"phase":"weird"}'), null);
  assert.deepEqual(
    parseJobStatus('{"phase":"started","host":"n","gpus":["0",1],"startedAt":"t","pid":5}'),
    {
      phase: 'started',
      host: 'n',
      gpus: ['0'],
      startedAt: 't',
      pid: 5
    }
  );
  const e = parseJobStatus(
    '{"phase":"ended","host":"n","gpus":[],"startedAt":"a","endedAt":"b","exitCode":1,"outcome":"failed","reason":"no GPU visible on n"}'
  );
  assert.equal(e?.phase, 'ended');
  assert.equal(e?.phase === 'ended' && e.reason, 'no GPU visible on n');
  assert.deepEqual(parseProgress('{"cell": 2, "total": 5}\n'), { cell: 2, total: 5 });
  assert.equal(parseProgress('{"cell": "x"}'), null);
  assert.equal(parseProgress('{"cell": 2'), null);
});

test('reading a job directory without files answers null', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobstatus-'));
  try {
    assert.equal(await readJobStatus(dir), null);
    assert.equal(await readProgress(dir), null);
    writeFileSync(join(dir, 'status.json'), JSON.stringify(started));
    writeFileSync(join(dir, 'progress.json'), '{"cell":1,"total":3}');
    assert.equal((await readJobStatus(dir))?.host, 'node7');
    assert.deepEqual(await readProgress(dir), { cell: 1, total: 3 });
    assert.equal(await readJobStatus(join(dir, 'nope')), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pending: queued with the scheduler reason', () => {
  assert.deepEqual(
    reconcile(job(), null, null, { phase: 'pending', reason: 'Priority' }, reachable),
    {
      reason: 'Priority'
    }
  );
  assert.deepEqual(
    reconcile(
      job({ state: 'unknown' }),
      null,
      null,
      { phase: 'pending', reason: 'Resources' },
      reachable
    ),
    {
      state: 'queued',
      reason: 'Resources'
    }
  );
});

test('running: node from the scheduler, then host, GPUs and start from the job', () => {
  assert.deepEqual(reconcile(job(), null, null, { phase: 'running', node: 'node7' }, reachable), {
    state: 'running',
    node: 'node7'
  });
  const patch = reconcile(
    job({ state: 'running', node: 'node7' }),
    started,
    { cell: 2, total: 4 },
    { phase: 'running', node: 'node7' },
    reachable
  );
  assert.deepEqual(patch, {
    gpus: ['0'],
    startedAt: started.startedAt,
    progress: { cell: 2, total: 4 }
  });
});

test('no change answers an empty patch', () => {
  const j = job({ state: 'running', node: 'node7', gpus: ['0'], startedAt: started.startedAt });
  assert.deepEqual(reconcile(j, started, null, { phase: 'running', node: 'node7' }, reachable), {});
});

test("the job's own end wins over the scheduler", () => {
  const j = job({ state: 'running' });
  const done = reconcile(
    j,
    ended({}),
    { cell: 3, total: 3 },
    { phase: 'running', node: 'node7' },
    reachable
  );
  assert.equal(done.state, 'completed');
  assert.equal(done.exitCode, 0);
  assert.equal(done.endedAt, '2030-01-01T00:05:00Z');
  const gpu = reconcile(
    j,
    ended({ outcome: 'failed', exitCode: 1, reason: 'no GPU visible on node7', gpus: [] }),
    null,
    { phase: 'ended', endState: 'failed' },
    reachable
  );
  assert.equal(gpu.state, 'failed');
  assert.equal(gpu.reason, 'no GPU visible on node7');
  const tl = reconcile(
    j,
    ended({ outcome: 'timeout', exitCode: 1, reason: 'time limit reached' }),
    null,
    { phase: 'ended', endState: 'completed' },
    reachable
  );
  assert.equal(tl.state, 'timeout');
  assert.equal(tl.reason, 'time limit reached');
});

test('terminated: cancelled when asked, timeout when the scheduler says TimeLimit, else failed', () => {
  const j = job({ state: 'running' });
  const term = ended({
    outcome: 'terminated',
    exitCode: 143,
    reason: 'stopped by signal TERM',
    signal: 'TERM'
  });
  assert.equal(
    reconcile(
      j,
      term,
      null,
      { phase: 'ended', endState: 'cancelled' },
      { ...reachable, cancelRequested: true }
    ).state,
    'cancelled'
  );
  const tl = reconcile(
    j,
    term,
    null,
    { phase: 'ended', endState: 'timeout', reason: 'TimeLimit' },
    reachable
  );
  assert.equal(tl.state, 'timeout');
  assert.equal(tl.reason, 'time limit reached');
  const other = reconcile(j, term, null, { phase: 'gone' }, reachable);
  assert.equal(other.state, 'failed');
  assert.equal(other.reason, 'stopped by signal TERM');
});

test('scheduler ends without a job end: out of memory, node failure, timeout', () => {
  const j = job({ state: 'running' });
  const oom = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed', reason: 'OutOfMemory' },
    reachable
  );
  assert.equal(oom.state, 'failed');
  assert.match(oom.reason ?? '', /^out of memory: /);
  assert.equal(oom.endedAt, NOW);
  const nf = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed', reason: 'NodeFail' },
    reachable
  );
  assert.match(nf.reason ?? '', /^node failure: /);
  assert.equal(
    reconcile(
      j,
      started,
      null,
      { phase: 'ended', endState: 'timeout', reason: 'TimeLimit' },
      reachable
    ).state,
    'timeout'
  );
  assert.equal(
    reconcile(
      j,
      null,
      null,
      { phase: 'ended', endState: 'cancelled' },
      { ...reachable, cancelRequested: true }
    ).state,
    'cancelled'
  );
});

test('gone without an end: failed, or cancelled when asked', () => {
  const j = job({ state: 'running' });
  const gone = reconcile(j, started, null, { phase: 'gone' }, reachable);
  assert.equal(gone.state, 'failed');
  assert.equal(gone.reason, 'the job vanished from the scheduler without reporting an end');
  assert.equal(
    reconcile(j, null, null, { phase: 'gone' }, { ...reachable, cancelRequested: true }).state,
    'cancelled'
  );
});

test('an unreachable scheduler never fails a job', () => {
  const unreachable = { cancelRequested: false, schedulerReachable: false, now: NOW };
  assert.deepEqual(reconcile(job({ state: 'running' }), null, null, undefined, unreachable), {});
  assert.equal(
    reconcile(job({ state: 'queued' }), started, null, undefined, unreachable).state,
    'running'
  );
  // ... but the job's own end still counts.
  assert.equal(
    reconcile(job({ state: 'running' }), ended({}), null, undefined, unreachable).state,
    'completed'
  );
});

test('a final job keeps its state; only missing details are filled', () => {
  const j = job({ state: 'cancelled', reason: 'cancelled' });
  const patch = reconcile(j, ended({ outcome: 'completed' }), null, { phase: 'gone' }, reachable);
  assert.equal(patch.state, undefined);
  assert.equal(patch.exitCode, 0);
  assert.equal(patch.node, 'node7');
});

test('terminated: waits for the scheduler to say why, then takes its reason', () => {
  const j = job({ state: 'running' });
  const term = ended({
    outcome: 'terminated',
    exitCode: 143,
    reason: 'stopped by signal TERM',
    signal: 'TERM',
    endedAt: '2030-01-01T00:09:50Z'
  });
  // squeue still says COMPLETING: no verdict yet, and no end time either.
  const waiting = reconcile(j, term, null, { phase: 'running', node: 'node7' }, reachable);
  assert.equal(waiting.state, undefined);
  assert.equal(waiting.endedAt, undefined);
  assert.equal(reconcile(j, term, null, undefined, reachable).state, undefined);
  const nodeFail = reconcile(
    j,
    term,
    null,
    { phase: 'ended', endState: 'failed', reason: 'NodeFail' },
    reachable
  );
  assert.equal(nodeFail.state, 'failed');
  assert.match(nodeFail.reason ?? '', /^node failure: /);
  const outside = reconcile(j, term, null, { phase: 'ended', endState: 'cancelled' }, reachable);
  assert.deepEqual([outside.state, outside.reason], ['cancelled', 'cancelled outside hpc-submit']);
  // The log names the cause before squeue does.
  const logged = reconcile(
    j,
    term,
    null,
    { phase: 'running' },
    { ...reachable, logCause: 'NodeFail' }
  );
  assert.match(logged.reason ?? '', /^node failure: /);
  // A scheduler that never says why: after the wait the job's own word stands.
  const late = new Date(
    Date.parse('2030-01-01T00:09:50Z') + TERMINATED_WAIT_MS + 1000
  ).toISOString();
  const own = reconcile(j, term, null, { phase: 'running' }, { ...reachable, now: late });
  assert.deepEqual([own.state, own.reason], ['failed', 'stopped by signal TERM']);
  // Unreachable: nothing to wait for.
  assert.equal(
    reconcile(j, term, null, { phase: 'running' }, { ...reachable, schedulerReachable: false })
      .state,
    'failed'
  );
});

test('an end the scheduler reports without a reason takes the one in the log', () => {
  const j = job({ state: 'running' });
  // Slurm without cgroups: a memory kill is FAILED/JobLaunchFailure in squeue.
  const oom = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed', reason: 'JobLaunchFailure' },
    { ...reachable, logCause: 'OutOfMemory' }
  );
  assert.equal(oom.state, 'failed');
  assert.match(oom.reason ?? '', /^out of memory: /);
  // The scheduler's specific word beats the log's.
  const nf = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed', reason: 'NodeFail' },
    { ...reachable, logCause: 'OutOfMemory' }
  );
  assert.match(nf.reason ?? '', /^node failure: /);
  const gone = reconcile(
    j,
    started,
    null,
    { phase: 'gone' },
    { ...reachable, logCause: 'TimeLimit' }
  );
  assert.deepEqual([gone.state, gone.reason], ['timeout', 'time limit reached']);
  const failedAtLimit = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed' },
    { ...reachable, logCause: 'TimeLimit' }
  );
  assert.equal(failedAtLimit.state, 'timeout');
});

test("endCauseInLog reads slurmstepd's own lines", () => {
  // As Slurm 22.05 writes them into the job's output.
  assert.equal(
    endCauseInLog(
      'start\nslurmstepd-vm: error: StepId=13.batch exceeded memory limit (273399808 > 209715200), being killed\n'
    ),
    'OutOfMemory'
  );
  assert.equal(
    endCauseInLog(
      'slurmstepd: error: Detected 1 oom_kill event in StepId=7.batch. Some of the step tasks have been OOM Killed.'
    ),
    'OutOfMemory'
  );
  assert.equal(
    endCauseInLog(
      'slurmstepd-vm: error: *** JOB 14 ON vm CANCELLED AT 2026-11-25T12:08:19 DUE TO NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***'
    ),
    'NodeFail'
  );
  assert.equal(
    endCauseInLog(
      'slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2026-11-25T12:00:00 DUE TO TIME LIMIT ***'
    ),
    'TimeLimit'
  );
  assert.equal(
    endCauseInLog(
      'slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2026-11-25T12:00:00 DUE TO PREEMPTION ***'
    ),
    'Preempted'
  );
  assert.equal(
    endCauseInLog('slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2026-11-25T12:00:00 ***'),
    undefined
  );
  assert.equal(endCauseInLog('Traceback ...\nKeyError: memory limit'), undefined);
  assert.equal(
    endCauseInLog('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB'),
    undefined,
    "a notebook's own error is its own"
  );
});
