import {
  mapSlurmState,
  parseSbatch,
  parseSinfo,
  parseSqueue,
  sbatchArgs,
  signalLead
} from '../../server/executors/slurm';
import { parseSlurmTime } from '../../server/executors/slurmTime';
import type { LaunchSpec } from '../../server/executors/executor';

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
    '12|RUNNING|node7|None\n13|PENDING||Resources\n14|TIMEOUT|node7|TimeLimit\n',
    ['12', '13', '14', '15']
  );
  expect(out.get('12')).toStrictEqual({ phase: 'running', node: 'node7' });
  expect(out.get('13')).toStrictEqual({ phase: 'pending', reason: 'Resources' });
  expect(out.get('14')).toStrictEqual({
    phase: 'ended',
    endState: 'timeout',
    reason: 'TimeLimit',
    node: 'node7'
  });
  expect(out.get('15')).toStrictEqual({ phase: 'gone' });
  expect(parseSqueue('', ['1']).get('1')?.phase).toBe('gone');
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
