import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../contract/wire';
import { endCauseInLog } from '../../server/jobs/endReasons';
import {
  parseJobStatus,
  parseProgress,
  readJobStatus,
  readProgress,
  type JobStatusEnded,
  type JobStatusStarted
} from '../../server/jobs/jobStatus';
import { reconcile, TERMINATED_WAIT_MS } from '../../server/jobs/reconcile';

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
  expect(parseJobStatus('')).toBe(null);
  expect(parseJobStatus('{"phase":"ended","host":"a"')).toBe(null); // partial write
  expect(parseJobStatus('{"phase":"weird"}')).toBe(null);
  expect(
    parseJobStatus('{"phase":"started","host":"n","gpus":["0",1],"startedAt":"t","pid":5}')
  ).toStrictEqual({
    phase: 'started',
    host: 'n',
    gpus: ['0'],
    startedAt: 't',
    pid: 5
  });
  const e = parseJobStatus(
    '{"phase":"ended","host":"n","gpus":[],"startedAt":"a","endedAt":"b","exitCode":1,"outcome":"failed","reason":"no GPU visible on n"}'
  );
  expect(e?.phase).toBe('ended');
  expect(e?.phase === 'ended' && e.reason).toBe('no GPU visible on n');
  // job.sh names the cause as a code; the companion says it in words.
  const coded = parseJobStatus(
    '{"phase":"ended","host":"n7","gpus":[],"startedAt":"a","endedAt":"b","exitCode":1,"outcome":"failed","cause":"output-dir-uncreatable","subject":"/ro/executed"}'
  );
  expect(coded).toMatchObject({
    cause: 'output-dir-uncreatable',
    reason: 'cannot create the output directory /ro/executed on n7'
  });
  expect(parseProgress('{"cell": 2, "total": 5}\n')).toStrictEqual({ cell: 2, total: 5 });
  expect(parseProgress('{"cell": "x"}')).toBe(null);
  expect(parseProgress('{"cell": 2')).toBe(null);
});

test('reading a job directory without files answers null', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobstatus-'));
  try {
    expect(await readJobStatus(dir)).toBe(null);
    expect(await readProgress(dir)).toBe(null);
    writeFileSync(join(dir, 'status.json'), JSON.stringify(started));
    writeFileSync(join(dir, 'progress.json'), '{"cell":1,"total":3}');
    expect((await readJobStatus(dir))?.host).toBe('node7');
    expect(await readProgress(dir)).toStrictEqual({ cell: 1, total: 3 });
    expect(await readJobStatus(join(dir, 'nope'))).toBe(null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pending: queued with the scheduler reason', () => {
  expect(
    reconcile(job(), null, null, { phase: 'pending', reason: 'Priority' }, reachable)
  ).toStrictEqual({
    reason: 'Priority'
  });
  expect(
    reconcile(
      job({ state: 'unknown' }),
      null,
      null,
      { phase: 'pending', reason: 'Resources' },
      reachable
    )
  ).toStrictEqual({
    state: 'queued',
    reason: 'Resources'
  });
});

test('running: node from the scheduler, then host, GPUs and start from the job', () => {
  expect(
    reconcile(job(), null, null, { phase: 'running', node: 'node7' }, reachable)
  ).toStrictEqual({
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
  expect(patch).toStrictEqual({
    gpus: ['0'],
    startedAt: started.startedAt,
    progress: { cell: 2, total: 4 }
  });
});

test('no change answers an empty patch', () => {
  const j = job({ state: 'running', node: 'node7', gpus: ['0'], startedAt: started.startedAt });
  expect(reconcile(j, started, null, { phase: 'running', node: 'node7' }, reachable)).toStrictEqual(
    {}
  );
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
  expect(done.state).toBe('completed');
  expect(done.exitCode).toBe(0);
  expect(done.endedAt).toBe('2030-01-01T00:05:00Z');
  const gpu = reconcile(
    j,
    ended({ outcome: 'failed', exitCode: 1, reason: 'no GPU visible on node7', gpus: [] }),
    null,
    { phase: 'ended', endState: 'failed' },
    reachable
  );
  expect(gpu.state).toBe('failed');
  expect(gpu.reason).toBe('no GPU visible on node7');
  const tl = reconcile(
    j,
    ended({ outcome: 'timeout', exitCode: 1, reason: 'time limit reached' }),
    null,
    { phase: 'ended', endState: 'completed' },
    reachable
  );
  expect(tl.state).toBe('timeout');
  expect(tl.reason).toBe('time limit reached');
});

test('terminated: cancelled when asked, timeout when the scheduler says TimeLimit, else failed', () => {
  const j = job({ state: 'running' });
  const term = ended({
    outcome: 'terminated',
    exitCode: 143,
    reason: 'stopped by signal TERM',
    signal: 'TERM'
  });
  expect(
    reconcile(
      j,
      term,
      null,
      { phase: 'ended', endState: 'cancelled' },
      { ...reachable, cancelRequested: true }
    ).state
  ).toBe('cancelled');
  const tl = reconcile(
    j,
    term,
    null,
    { phase: 'ended', endState: 'timeout', reason: 'TimeLimit' },
    reachable
  );
  expect(tl.state).toBe('timeout');
  expect(tl.reason).toBe('time limit reached');
  const other = reconcile(j, term, null, { phase: 'gone' }, reachable);
  expect(other.state).toBe('failed');
  expect(other.reason).toBe('stopped by signal TERM');
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
  expect(oom.state).toBe('failed');
  expect(oom.reason ?? '').toMatch(/^out of memory: /);
  expect(oom.endedAt).toBe(NOW);
  const nf = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed', reason: 'NodeFail' },
    reachable
  );
  expect(nf.reason ?? '').toMatch(/^node failure: /);
  expect(
    reconcile(
      j,
      started,
      null,
      { phase: 'ended', endState: 'timeout', reason: 'TimeLimit' },
      reachable
    ).state
  ).toBe('timeout');
  expect(
    reconcile(
      j,
      null,
      null,
      { phase: 'ended', endState: 'cancelled' },
      { ...reachable, cancelRequested: true }
    ).state
  ).toBe('cancelled');
});

test('gone without an end: failed, or cancelled when asked', () => {
  const j = job({ state: 'running' });
  const gone = reconcile(j, started, null, { phase: 'gone' }, reachable);
  expect(gone.state).toBe('failed');
  expect(gone.reason).toBe('the job vanished from the scheduler without reporting an end');
  expect(
    reconcile(j, null, null, { phase: 'gone' }, { ...reachable, cancelRequested: true }).state
  ).toBe('cancelled');
});

test('an unreachable scheduler never fails a job', () => {
  const unreachable = { cancelRequested: false, schedulerReachable: false, now: NOW };
  expect(reconcile(job({ state: 'running' }), null, null, undefined, unreachable)).toStrictEqual(
    {}
  );
  expect(reconcile(job({ state: 'queued' }), started, null, undefined, unreachable).state).toBe(
    'running'
  );
  // ... but the job's own end still counts.
  expect(reconcile(job({ state: 'running' }), ended({}), null, undefined, unreachable).state).toBe(
    'completed'
  );
});

test('a final job keeps its state; only missing details are filled', () => {
  const j = job({ state: 'cancelled', reason: 'cancelled' });
  const patch = reconcile(j, ended({ outcome: 'completed' }), null, { phase: 'gone' }, reachable);
  expect(patch.state).toBeUndefined();
  expect(patch.exitCode).toBe(0);
  expect(patch.node).toBe('node7');
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
  expect(waiting.state).toBeUndefined();
  expect(waiting.endedAt).toBeUndefined();
  expect(reconcile(j, term, null, undefined, reachable).state).toBeUndefined();
  const nodeFail = reconcile(
    j,
    term,
    null,
    { phase: 'ended', endState: 'failed', reason: 'NodeFail' },
    reachable
  );
  expect(nodeFail.state).toBe('failed');
  expect(nodeFail.reason ?? '').toMatch(/^node failure: /);
  // A run after a failed one: Slurm (or the local executor, in its words) ends it unrun.
  const queued = { ...j, state: 'queued' as const, startedAt: undefined };
  const unrun = reconcile(
    queued,
    null,
    null,
    { phase: 'ended', endState: 'cancelled', reason: 'DependencyNeverSatisfied' },
    reachable
  );
  expect([unrun.state, unrun.reason]).toStrictEqual([
    'cancelled',
    'not run: a run it comes after did not complete'
  ]);
  const behind = reconcile(
    queued,
    null,
    null,
    { phase: 'pending', reason: 'Dependency' },
    reachable
  );
  expect(behind.reason).toBe('waiting for the runs it comes after');
  const outside = reconcile(j, term, null, { phase: 'ended', endState: 'cancelled' }, reachable);
  expect([outside.state, outside.reason]).toStrictEqual([
    'cancelled',
    'cancelled outside hpc-submit'
  ]);
  // The log names the cause before squeue does.
  const logged = reconcile(
    j,
    term,
    null,
    { phase: 'running' },
    { ...reachable, logCause: 'NodeFail' }
  );
  expect(logged.reason ?? '').toMatch(/^node failure: /);
  // A scheduler that never says why: after the wait the job's own word stands.
  const late = new Date(
    Date.parse('2030-01-01T00:09:50Z') + TERMINATED_WAIT_MS + 1000
  ).toISOString();
  const own = reconcile(j, term, null, { phase: 'running' }, { ...reachable, now: late });
  expect([own.state, own.reason]).toStrictEqual(['failed', 'stopped by signal TERM']);
  // Unreachable: nothing to wait for.
  expect(
    reconcile(j, term, null, { phase: 'running' }, { ...reachable, schedulerReachable: false })
      .state
  ).toBe('failed');
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
  expect(oom.state).toBe('failed');
  expect(oom.reason ?? '').toMatch(/^out of memory: /);
  // The scheduler's specific word beats the log's.
  const nf = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed', reason: 'NodeFail' },
    { ...reachable, logCause: 'OutOfMemory' }
  );
  expect(nf.reason ?? '').toMatch(/^node failure: /);
  const gone = reconcile(
    j,
    started,
    null,
    { phase: 'gone' },
    { ...reachable, logCause: 'TimeLimit' }
  );
  expect([gone.state, gone.reason]).toStrictEqual(['timeout', 'time limit reached']);
  const failedAtLimit = reconcile(
    j,
    started,
    null,
    { phase: 'ended', endState: 'failed' },
    { ...reachable, logCause: 'TimeLimit' }
  );
  expect(failedAtLimit.state).toBe('timeout');
});

test("endCauseInLog reads slurmstepd's own lines", () => {
  // As Slurm 22.05 writes them into the job's output.
  expect(
    endCauseInLog(
      'start\nslurmstepd-vm: error: StepId=13.batch exceeded memory limit (273399808 > 209715200), being killed\n'
    )
  ).toBe('OutOfMemory');
  expect(
    endCauseInLog(
      'slurmstepd: error: Detected 1 oom_kill event in StepId=7.batch. Some of the step tasks have been OOM Killed.'
    )
  ).toBe('OutOfMemory');
  expect(
    endCauseInLog(
      'slurmstepd-vm: error: *** JOB 14 ON vm CANCELLED AT 2026-11-25T12:08:19 DUE TO NODE FAILURE, SEE SLURMCTLD LOG FOR DETAILS ***'
    )
  ).toBe('NodeFail');
  expect(
    endCauseInLog(
      'slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2026-11-25T12:00:00 DUE TO TIME LIMIT ***'
    )
  ).toBe('TimeLimit');
  expect(
    endCauseInLog(
      'slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2026-11-25T12:00:00 DUE TO PREEMPTION ***'
    )
  ).toBe('Preempted');
  expect(
    endCauseInLog('slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2026-11-25T12:00:00 ***')
  ).toBeUndefined();
  expect(endCauseInLog('Traceback ...\nKeyError: memory limit')).toBeUndefined();
  // A notebook's own error is its own.
  expect(
    endCauseInLog('torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB')
  ).toBeUndefined();
});
