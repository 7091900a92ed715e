import type { Job } from '../../contract/wire';
import {
  arraySbatchArgs,
  checkMailType,
  checkMailUser,
  dependencyArgs,
  mailArgs,
  sbatchArgs,
  signalLead,
  slurmFilename
} from '../../server/executors/sbatchArgs';
import {
  estimateAnswer,
  mapSlurmState,
  parseSbatch,
  parseSinfo,
  parseSqueue,
  parseTestOnly,
  slurmTimestamp
} from '../../server/executors/slurmParse';
import {
  arraySpec,
  arrayTasks,
  cancelTargets,
  dispatcherScript,
  sharedEnv
} from '../../server/executors/slurmArray';
import { parseSlurmTime } from '../../server/executors/slurmTime';
import type { LaunchSpec } from '../../server/executors/executor';
import { reconcile } from '../../server/jobs/reconcile';

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
  // Within a minute is "now", as the sidebar says it (contract/rules.ts startsNow).
  expect(estimateAnswer(at(25, 14, 0, 50), now).message).toBe('starts now');
  expect(estimateAnswer(at(25, 14, 1, 10), now).message).toBe(
    "expected to start ~14:01 (Slurm's estimate)"
  );
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

/** Job "j" of nb.ipynb in /home/u, its files in /s/j; `over` in place of any field. */
function plainSpec(over: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    jobId: 'j',
    jobDir: '/s/j',
    scriptPath: '/s/j/job.sh',
    logPath: '/s/j/log.txt',
    cwd: '/home/u',
    resources: {},
    env: {},
    name: 'nb.ipynb',
    ...over
  };
}

test('a run that waits for others asks Slurm for afterok (or afterany) and to end when that cannot be met', () => {
  expect(dependencyArgs(undefined)).toStrictEqual([]);
  expect(dependencyArgs({ schedulerIds: [], any: false })).toStrictEqual([]);
  expect(dependencyArgs({ schedulerIds: ['12', '13_2'], any: false })).toStrictEqual([
    '--dependency=afterok:12:13_2',
    '--kill-on-invalid-dep=yes'
  ]);
  expect(dependencyArgs({ schedulerIds: ['40'], any: true })).toStrictEqual([
    '--dependency=afterany:40',
    '--kill-on-invalid-dep=yes'
  ]);
  // Nothing but a job id goes into the option.
  for (const wrong of ['12,afterany:1', '0', '-1', '12 13', 'abc', '1_']) {
    expect(() => dependencyArgs({ schedulerIds: [wrong], any: false })).toThrow(
      `${JSON.stringify(wrong)} is not a Slurm job id to wait for`
    );
  }
  const spec = plainSpec({ after: { schedulerIds: ['7'], any: false } });
  const args = sbatchArgs(spec);
  expect(args.slice(-4)).toStrictEqual([
    '--dependency=afterok:7',
    '--kill-on-invalid-dep=yes',
    '--signal=B:USR1@60',
    '/s/j/job.sh'
  ]);
  const array = arraySbatchArgs(
    [
      {
        ...spec,
        jobId: 's-0',
        jobDir: '/s/jobs/s-0',
        scriptPath: '/s/jobs/s-0/job.sh',
        logPath: '/s/jobs/s-0/log.txt'
      }
    ],
    {
      sweepId: 's',
      maxParallel: 2,
      sweepDir: '/s/sweeps/s'
    }
  );
  expect(array).toContain('--dependency=afterok:7');
});

test("sbatchArgs asks for Slurm's mail only with both the profile's types and the user's address", () => {
  const spec = plainSpec({ resources: { time: '04:00:00' }, mail: { type: 'END,FAIL' } });
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

// `squeue -h -r --states=all -j 326 -o '%i|%T|%N|%S|%r'` on the test cluster
// (Slurm 22.05), 2 s after `sbatch --array=0-5%2`: without -r the four
// waiting tasks are one line, "326_[2-5%2]|PENDING||N/A|JobArrayTaskLimit".
const ARRAY_WAITING =
  '326_2|PENDING||N/A|JobArrayTaskLimit\n' +
  '326_3|PENDING||N/A|JobArrayTaskLimit\n' +
  '326_4|PENDING||N/A|JobArrayTaskLimit\n' +
  '326_5|PENDING||N/A|JobArrayTaskLimit\n' +
  '326_1|RUNNING|vm|2026-11-25T18:42:51|None\n' +
  '326_0|RUNNING|vm|2026-11-25T18:42:51|None\n';
// The same array a minute later (task 3 exited 1), then another cancelled by `scancel 333`.
const ARRAY_ENDED =
  '326_4|COMPLETED|vm|2026-11-25T18:43:23|None\n' +
  '326_5|COMPLETED|vm|2026-11-25T18:43:23|None\n' +
  '326_2|COMPLETED|vm|2026-11-25T18:43:07|None\n' +
  '326_0|COMPLETED|vm|2026-11-25T18:42:51|None\n' +
  '326_1|COMPLETED|vm|2026-11-25T18:42:51|None\n' +
  '326_3|FAILED|vm|2026-11-25T18:43:07|NonZeroExitCode\n';
const ARRAY_CANCELLED =
  '333_0|CANCELLED||2026-11-25T18:43:55|None\n' + '333_1|CANCELLED||2026-11-25T18:43:55|None\n';

const tasks = (array: string, n: number) => Array.from({ length: n }, (_, i) => `${array}_${i}`);

test("parseSqueue reads an array's tasks one per line, as squeue -r prints them", () => {
  const waiting = parseSqueue(ARRAY_WAITING, tasks('326', 6));
  expect(waiting.size).toBe(6);
  expect(waiting.get('326_0')).toStrictEqual({ phase: 'running', node: 'vm' });
  expect(waiting.get('326_5')).toStrictEqual({ phase: 'pending', reason: 'JobArrayTaskLimit' });
  const ended = parseSqueue(ARRAY_ENDED, tasks('326', 6));
  expect([...ended.values()].filter(o => o.endState === 'completed')).toHaveLength(5);
  expect(ended.get('326_3')).toStrictEqual({
    phase: 'ended',
    endState: 'failed',
    reason: 'NonZeroExitCode',
    node: 'vm'
  });
  const cancelled = parseSqueue(ARRAY_CANCELLED, ['333_0', '333_1', '333_2']);
  expect(cancelled.get('333_1')).toStrictEqual({ phase: 'ended', endState: 'cancelled' });
  expect(cancelled.get('333_2')).toStrictEqual({ phase: 'gone' });
});

const SWEEP = '20261125-184200-abc123';
const taskSpec = (i: number, jobs = '/s/jobs 50%'): LaunchSpec => ({
  jobId: `${SWEEP}-${i}`,
  jobDir: `${jobs}/${SWEEP}-${i}`,
  scriptPath: `${jobs}/${SWEEP}-${i}/job.sh`,
  logPath: `${jobs}/${SWEEP}-${i}/log.txt`,
  cwd: '/home/u/a b',
  resources: { partition: 'cpu', cpus: 2, time: '01:00:00' },
  env: { PATH: '/bin', HPC_SUBMIT_JOB_ID: `${SWEEP}-${i}` },
  name: 'sweep.ipynb',
  mail: { type: 'END' }
});

test('arraySbatchArgs: one submission with the single job arguments, %a logs and the dispatcher', () => {
  const specs = [0, 1, 2, 3, 4, 5].map(i => taskSpec(i));
  const args = arraySbatchArgs(
    specs,
    { sweepId: SWEEP, maxParallel: 2, sweepDir: '/s/sweeps/x' },
    60,
    'ada@example.org'
  );
  expect(args).toStrictEqual([
    '--parsable',
    '--job-name',
    'sweep.ipynb',
    '--output',
    `/s/jobs 50%%/${SWEEP}-%a/log.txt`,
    '--chdir',
    '/home/u/a b',
    '--no-requeue',
    '--array=0-5%2',
    '--partition',
    'cpu',
    '--cpus-per-task',
    '2',
    '--time',
    '01:00:00',
    '--mail-type=END',
    '--mail-user=ada@example.org',
    '--signal=B:USR1@60',
    '/s/sweeps/x/array.sh'
  ]);
  // The same code path as a single job: only the log pattern, --array and the script differ.
  const single = sbatchArgs(specs[0], 60, 'ada@example.org');
  const taskLog = slurmFilename(specs[0].logPath);
  expect(args.filter(a => !a.startsWith('--array=')).slice(0, -1)).toStrictEqual(
    single.slice(0, -1).map(a => (a === taskLog ? `/s/jobs 50%%/${SWEEP}-%a/log.txt` : a))
  );
});

test('the tasks of an array must be one sweep laid out in its job directories', () => {
  const opts = { sweepId: SWEEP, maxParallel: 4, sweepDir: '/s/sweeps/x' };
  expect(arrayTasks([taskSpec(2), taskSpec(5), taskSpec(6)], SWEEP)).toStrictEqual({
    jobsDir: '/s/jobs 50%',
    indices: [2, 5, 6]
  });
  expect(() => arraySbatchArgs([], opts)).toThrow(`sweep ${SWEEP} has no tasks to submit`);
  expect(() => arraySbatchArgs([{ ...taskSpec(0), jobDir: '/s/jobs 50%/other-0' }], opts)).toThrow(
    /is not \/s\/jobs 50%\/20261125-184200-abc123-<task index>/
  );
  expect(() => arraySbatchArgs([taskSpec(0), taskSpec(1, '/elsewhere')], opts)).toThrow(
    /task index/
  );
  expect(() => arraySbatchArgs([{ ...taskSpec(0), scriptPath: '/tmp/x.sh' }], opts)).toThrow(
    /must have job.sh and log.txt/
  );
  expect(() => arraySbatchArgs([taskSpec(1), taskSpec(1)], opts)).toThrow(/task index twice/);
  const bigger = { ...taskSpec(1), resources: { partition: 'gpu', gpus: 1 } };
  expect(() => arraySbatchArgs([taskSpec(0), bigger], opts)).toThrow(
    `the tasks of one array share one resources: ${SWEEP}-1 differs from ${SWEEP}-0`
  );
  expect(() => arraySbatchArgs([taskSpec(0)], { ...opts, maxParallel: 0 })).toThrow(
    /whole number, 1 or more/
  );
});

test('arraySpec folds task indices into ranges with the parallel limit', () => {
  expect(arraySpec([0, 1, 2, 3, 4, 5], 2)).toBe('0-5%2');
  expect(arraySpec([9, 2, 5, 7, 8], 3)).toBe('2,5,7-9%3');
  expect(arraySpec([4], 1)).toBe('4%1');
  expect(() => arraySpec([0], 1.5)).toThrow(/whole number/);
});

test('slurmFilename escapes % and refuses a backslash, which would turn expansion off', () => {
  expect(slurmFilename('/a/50%/b%j')).toBe('/a/50%%/b%%j');
  expect(() => slurmFilename('/a\\b/log.txt')).toThrow(/path with a backslash/);
  expect(() => sbatchArgs({ ...taskSpec(0), logPath: '/a\\b/log.txt' })).toThrow(/backslash/);
});

test("the dispatcher runs the task's job.sh, its path quoted, after checking the task id", () => {
  const script = dispatcherScript("/s/jobs 50% 'q'", SWEEP);
  expect(script.startsWith('#!/bin/bash\n')).toBe(true);
  expect(script).toContain(
    `exec /bin/bash '/s/jobs 50% '\\''q'\\''/${SWEEP}-'"$SLURM_ARRAY_TASK_ID"/job.sh\n`
  );
  expect(script.indexOf('*[!0-9]*')).toBeLessThan(script.indexOf('exec '));
});

test('sharedEnv keeps what every task has in common', () => {
  expect(sharedEnv([taskSpec(0), taskSpec(1)])).toStrictEqual({ PATH: '/bin' });
  expect(sharedEnv([taskSpec(0)])).toStrictEqual(taskSpec(0).env);
});

test('cancelTargets: the array id once for its tasks, else every id', () => {
  expect(cancelTargets(['77_0', '77_1', '77_5'])).toStrictEqual(['77']);
  expect(cancelTargets(['77_0', '78_1'])).toStrictEqual(['77_0', '78_1']);
  expect(cancelTargets(['77_0', '77'])).toStrictEqual(['77_0', '77']);
  expect(cancelTargets(['12', '12'])).toStrictEqual(['12']);
});
