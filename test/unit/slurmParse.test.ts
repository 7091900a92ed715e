import type { Job } from '../../contract/wire';
import {
  checkMailType,
  checkMailUser,
  estimateAnswer,
  mailArgs,
  mapSlurmState,
  parseSbatch,
  parseSinfo,
  parseSqueue,
  parseTestOnly,
  sbatchArgs,
  signalLead,
  slurmTimestamp
} from '../../server/executors/slurm';
import { parseSlurmTime } from '../../server/executors/slurmTime';
import type { LaunchSpec } from '../../server/executors/executor';
import { reconcile } from '../../server/jobs/jobStatus';

/** Slurm prints local time without a zone: what this process reads it as. */
const local = (text: string): string => new Date(text).toISOString();

test('mapSlurmState maps waiting, running and ended states', () => {
  expect(mapSlurmState('PENDING', 'Priority')).toStrictEqual({
    phase: 'pending',
    reason: 'Priority'
  });
  expect(mapSlurmState('PENDING', 'None')).toStrictEqual({ phase: 'pending' });
  expect(mapSlurmState('CONFIGURING', 'None').phase).toBe('pending');
  expect(mapSlurmState('RUNNING', 'None')).toStrictEqual({ phase: 'running' });
  expect(mapSlurmState('COMPLETING').phase).toBe('running');
  expect(mapSlurmState('SUSPENDED')).toStrictEqual({ phase: 'running', reason: 'Suspended' });
  expect(mapSlurmState('COMPLETED', 'None')).toStrictEqual({
    phase: 'ended',
    endState: 'completed'
  });
  expect(mapSlurmState('FAILED', 'NonZeroExitCode')).toStrictEqual({
    phase: 'ended',
    endState: 'failed',
    reason: 'NonZeroExitCode'
  });
  expect(mapSlurmState('CANCELLED')).toStrictEqual({ phase: 'ended', endState: 'cancelled' });
  expect(mapSlurmState('TIMEOUT', 'None')).toStrictEqual({
    phase: 'ended',
    endState: 'timeout',
    reason: 'TimeLimit'
  });
  expect(mapSlurmState('OUT_OF_MEMORY')).toStrictEqual({
    phase: 'ended',
    endState: 'failed',
    reason: 'OutOfMemory'
  });
  expect(mapSlurmState('NODE_FAIL')).toStrictEqual({
    phase: 'ended',
    endState: 'failed',
    reason: 'NodeFail'
  });
  expect(mapSlurmState('PREEMPTED')).toStrictEqual({
    phase: 'ended',
    endState: 'failed',
    reason: 'Preempted'
  });
  expect(mapSlurmState('BOOT_FAIL')).toStrictEqual({
    phase: 'ended',
    endState: 'failed',
    reason: 'BootFail'
  });
  expect(mapSlurmState('DEADLINE')).toStrictEqual({
    phase: 'ended',
    endState: 'failed',
    reason: 'Deadline'
  });
  expect(mapSlurmState('CANCELLED by 1000')).toStrictEqual({
    phase: 'ended',
    endState: 'cancelled'
  });
  expect(mapSlurmState('SOMETHING_NEW').phase).toBe('pending');
});

test('parseSqueue reads the batched answer and marks absent ids gone', () => {
  const out = parseSqueue(
    '12|RUNNING|node7|2026-11-25T16:46:43|None\n' +
      '13|PENDING||2026-11-25T16:49:43|Resources\n' +
      '14|TIMEOUT|node7|2026-11-25T16:40:00|TimeLimit\n' +
      '16|PENDING||N/A|JobHeldUser\n' +
      '17|PENDING||Unknown|Priority|odd\n',
    ['12', '13', '14', '15', '16', '17']
  );
  // The start time counts only while the job waits: then it is Slurm's estimate.
  expect(out.get('12')).toStrictEqual({ phase: 'running', node: 'node7' });
  expect(out.get('13')).toStrictEqual({
    phase: 'pending',
    reason: 'Resources',
    expectedStart: local('2026-11-25T16:49:43')
  });
  expect(out.get('16')).toStrictEqual({ phase: 'pending', reason: 'JobHeldUser' });
  expect(out.get('17')).toStrictEqual({ phase: 'pending', reason: 'Priority|odd' });
  expect(out.get('14')).toStrictEqual({
    phase: 'ended',
    endState: 'timeout',
    reason: 'TimeLimit',
    node: 'node7'
  });
  expect(out.get('15')).toStrictEqual({ phase: 'gone' });
  expect(parseSqueue('', ['1']).get('1')?.phase).toBe('gone');
});

test('slurmTimestamp reads Slurm times as local time, and nothing else', () => {
  expect(slurmTimestamp('2026-11-25T14:32:00')).toBe(local('2026-11-25T14:32:00'));
  expect(slurmTimestamp(' 2026-11-25T14:32:00 ')).toBe(local('2026-11-25T14:32:00'));
  for (const none of [
    'N/A',
    'Unknown',
    'None',
    '',
    undefined,
    '2026-11-25',
    '2026-13-45T99:00:00'
  ]) {
    expect(slurmTimestamp(none)).toBe(null);
  }
});

test("parseTestOnly reads the start time of sbatch --test-only's answer", () => {
  expect(
    parseTestOnly(
      'sbatch: Job 140 to start at 2026-11-25T14:32:00 using 4 processors on nodes vm in partition cpu\n'
    )
  ).toBe(local('2026-11-25T14:32:00'));
  expect(parseTestOnly('allocation failure: Requested node configuration is not available\n')).toBe(
    null
  );
  expect(parseTestOnly('sbatch: error: invalid partition specified: nope\n')).toBe(null);
  expect(parseTestOnly('')).toBe(null);
});

test('estimateAnswer says when, in words', () => {
  const now = new Date(2026, 10, 25, 14, 0, 0);
  const at = (d: number, h: number, m: number, s = 0): string =>
    new Date(2026, 10, d, h, m, s).toISOString();
  expect(estimateAnswer(at(25, 14, 32), now)).toStrictEqual({
    expectedStart: at(25, 14, 32),
    message: "expected to start ~14:32 (Slurm's estimate)"
  });
  expect(estimateAnswer(at(26, 9, 5), now).message).toBe(
    "expected to start ~2026-11-26 09:05 (Slurm's estimate)"
  );
  // Slurm answers "now" for a free node; a few seconds late is still now.
  expect(estimateAnswer(at(25, 14, 0, 20), now)).toStrictEqual({
    expectedStart: at(25, 14, 0, 20),
    message: 'starts now'
  });
  expect(estimateAnswer(at(25, 13, 59), now).message).toBe('starts now');
  expect(estimateAnswer(null, now)).toStrictEqual({ expectedStart: null, message: 'no estimate' });
});

test("squeue's estimate reaches a queued job, and leaves it when it runs", () => {
  const queued: Job = {
    id: 'j1',
    notebook: 'nb.ipynb',
    output: 'executed/nb_executed.ipynb',
    profile: 'cpu',
    kernel: 'k',
    resources: {},
    executor: 'slurm',
    schedulerId: '13',
    state: 'queued',
    submittedAt: '2026-11-25T14:00:00Z'
  };
  const ctx = { cancelRequested: false, schedulerReachable: true, now: '2026-11-25T14:01:00Z' };
  const seen = (line: string) => parseSqueue(line, ['13']).get('13');
  const estimate = local('2026-11-25T16:49:43');

  const first = reconcile(
    queued,
    null,
    null,
    seen('13|PENDING||2026-11-25T16:49:43|Resources'),
    ctx
  );
  expect(first).toStrictEqual({ reason: 'Resources', expectedStart: estimate });
  const waiting = { ...queued, ...first };
  // The same estimate again changes nothing; a silent scheduler keeps the last one.
  expect(
    reconcile(waiting, null, null, seen('13|PENDING||2026-11-25T16:49:43|Resources'), ctx)
  ).toStrictEqual({});
  expect(
    reconcile(waiting, null, null, undefined, { ...ctx, schedulerReachable: false })
  ).toStrictEqual({});
  // Slurm withdrew its estimate ("N/A"): the stale one goes.
  expect(reconcile(waiting, null, null, seen('13|PENDING||N/A|Resources'), ctx)).toStrictEqual({
    expectedStart: undefined
  });
  // Running, or ended while queued: no estimate any more.
  const running = reconcile(
    waiting,
    null,
    null,
    seen('13|RUNNING|vm|2026-11-25T14:02:00|None'),
    ctx
  );
  expect(running).toMatchObject({ state: 'running', node: 'vm' });
  expect('expectedStart' in running && running.expectedStart === undefined).toBe(true);
  const cancelled = reconcile(waiting, null, null, seen('13|CANCELLED||N/A|None'), ctx);
  expect(cancelled.state).toBe('cancelled');
  expect('expectedStart' in cancelled && cancelled.expectedStart === undefined).toBe(true);
  // A final job that still carries one (an older record) loses it.
  const old = { ...waiting, state: 'failed' as const };
  expect(reconcile(old, null, null, undefined, ctx)).toStrictEqual({ expectedStart: undefined });
});

test('parseSinfo and parseSbatch', () => {
  expect(parseSinfo('cpu\ngpu\ncpu\n\n')).toStrictEqual(['cpu', 'gpu']);
  expect(parseSbatch('123\n')).toBe('123');
  expect(parseSbatch('123;cluster\n')).toBe('123');
  expect(parseSbatch('Submitted batch job 1\n')).toBe(null);
});

test('sbatchArgs carries the profile resources and the time-limit signal', () => {
  const spec: LaunchSpec = {
    jobId: 'j',
    jobDir: '/s/j',
    scriptPath: '/s/j/job.sh',
    logPath: '/s/50%/j/log.txt',
    cwd: '/home/u/a b',
    resources: { partition: 'gpu', gpus: 1, cpus: 4, memory: '32G', time: '04:00:00' },
    env: {},
    name: 'nb\n.ipynb'
  };
  expect(sbatchArgs(spec)).toStrictEqual([
    '--parsable',
    '--job-name',
    'nb .ipynb',
    '--output',
    '/s/50%%/j/log.txt',
    '--chdir',
    '/home/u/a b',
    '--no-requeue',
    '--partition',
    'gpu',
    '--gres=gpu:1',
    '--cpus-per-task',
    '4',
    '--mem',
    '32G',
    '--time',
    '04:00:00',
    '--signal=B:USR1@60',
    '/s/j/job.sh'
  ]);
  const cpu = sbatchArgs({ ...spec, resources: { partition: 'cpu' } });
  expect(cpu.some(a => a.startsWith('--gres'))).toBeFalsy();
});

test("sbatchArgs asks for Slurm's mail only with both the profile's types and the user's address", () => {
  const spec: LaunchSpec = {
    jobId: 'j',
    jobDir: '/s/j',
    scriptPath: '/s/j/job.sh',
    logPath: '/s/j/log.txt',
    cwd: '/home/u',
    resources: { time: '04:00:00' },
    env: {},
    name: 'nb.ipynb',
    mail: { type: 'END,FAIL' }
  };
  const args = sbatchArgs(spec, 60, 'ada@example.org');
  expect(args.slice(-4)).toStrictEqual([
    '--mail-type=END,FAIL',
    '--mail-user=ada@example.org',
    '--signal=B:USR1@60',
    '/s/j/job.sh'
  ]);
  expect(sbatchArgs(spec).some(a => a.startsWith('--mail'))).toBe(false);
  expect(
    sbatchArgs({ ...spec, mail: undefined }, 60, 'ada@example.org').some(a =>
      a.startsWith('--mail')
    )
  ).toBe(false);
  expect(() =>
    sbatchArgs({ ...spec, mail: { type: 'END,SOMETIMES' } }, 60, 'ada@example.org')
  ).toThrow(/"END,SOMETIMES" is not a list of Slurm's mail types/);
  expect(() => sbatchArgs(spec, 60, 'ada@example.org --uid=0')).toThrow(
    /not of the form user@host/
  );
});

test('mail types and addresses are checked', () => {
  expect(checkMailType('end, fail')).toBe('END,FAIL');
  expect(checkMailType('TIME_LIMIT_80')).toBe('TIME_LIMIT_80');
  expect(() => checkMailType('')).toThrow(/mail types/);
  expect(() => checkMailType('END;FAIL')).toThrow(/mail types/);
  expect(checkMailUser(' ada@cluster ')).toBe('ada@cluster');
  expect(checkMailUser('a.b+c@mail.example.org')).toBe('a.b+c@mail.example.org');
  for (const bad of ['ada', '@example.org', 'ada@', 'ada@x,bob@y', 'a da@x', '-x@y..z']) {
    expect(() => checkMailUser(bad)).toThrow(/user@host/);
  }
  expect(mailArgs(undefined, 'ada@x')).toStrictEqual([]);
  expect(mailArgs({ type: 'END' }, undefined)).toStrictEqual([]);
});

test('parseSlurmTime reads Slurm time formats', () => {
  expect(parseSlurmTime('30')).toBe(30 * 60_000);
  expect(parseSlurmTime('1:30')).toBe(90_000);
  expect(parseSlurmTime('04:00:00')).toBe(4 * 3600_000);
  expect(parseSlurmTime('1-00:00:00')).toBe(86400_000);
  expect(parseSlurmTime('2-12')).toBe((2 * 86400 + 12 * 3600) * 1000);
  expect(parseSlurmTime('UNLIMITED')).toBe(null);
  expect(parseSlurmTime('abc')).toBe(null);
  expect(parseSlurmTime(undefined)).toBe(null);
});

test('signalLead warns at most a quarter of a short limit ahead, 60 s for long ones', () => {
  expect(signalLead('04:00:00', 60)).toBe(60);
  expect(signalLead('1', 60)).toBe(15);
  expect(signalLead('0:20', 60)).toBe(5);
  expect(signalLead(undefined, 60)).toBe(60);
});
