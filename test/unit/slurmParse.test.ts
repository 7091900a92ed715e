import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  assert.deepEqual(mapSlurmState('PENDING', 'Priority'), { phase: 'pending', reason: 'Priority' });
  assert.deepEqual(mapSlurmState('PENDING', 'None'), { phase: 'pending' });
  assert.equal(mapSlurmState('CONFIGURING', 'None').phase, 'pending');
  assert.deepEqual(mapSlurmState('RUNNING', 'None'), { phase: 'running' });
  assert.equal(mapSlurmState('COMPLETING').phase, 'running');
  assert.deepEqual(mapSlurmState('SUSPENDED'), { phase: 'running', reason: 'Suspended' });
  assert.deepEqual(mapSlurmState('COMPLETED', 'None'), { phase: 'ended', endState: 'completed' });
  assert.deepEqual(mapSlurmState('FAILED', 'NonZeroExitCode'), {
    phase: 'ended',
    endState: 'failed',
    reason: 'NonZeroExitCode'
  });
  assert.deepEqual(mapSlurmState('CANCELLED'), { phase: 'ended', endState: 'cancelled' });
  assert.deepEqual(mapSlurmState('TIMEOUT', 'None'), {
    phase: 'ended',
    endState: 'timeout',
    reason: 'TimeLimit'
  });
  assert.deepEqual(mapSlurmState('OUT_OF_MEMORY'), {
    phase: 'ended',
    endState: 'failed',
    reason: 'OutOfMemory'
  });
  assert.deepEqual(mapSlurmState('NODE_FAIL'), {
    phase: 'ended',
    endState: 'failed',
    reason: 'NodeFail'
  });
  assert.deepEqual(mapSlurmState('PREEMPTED'), {
    phase: 'ended',
    endState: 'failed',
    reason: 'Preempted'
  });
  assert.deepEqual(mapSlurmState('BOOT_FAIL'), {
    phase: 'ended',
    endState: 'failed',
    reason: 'BootFail'
  });
  assert.deepEqual(mapSlurmState('DEADLINE'), {
    phase: 'ended',
    endState: 'failed',
    reason: 'Deadline'
  });
  assert.deepEqual(mapSlurmState('CANCELLED by 1000'), { phase: 'ended', endState: 'cancelled' });
  assert.equal(mapSlurmState('SOMETHING_NEW').phase, 'pending');
});

test('parseSqueue reads the batched answer and marks absent ids gone', () => {
  const out = parseSqueue(
    '12|RUNNING|node7|None\n13|PENDING||Resources\n14|TIMEOUT|node7|TimeLimit\n',
    ['12', '13', '14', '15']
  );
  assert.deepEqual(out.get('12'), { phase: 'running', node: 'node7' });
  assert.deepEqual(out.get('13'), { phase: 'pending', reason: 'Resources' });
  assert.deepEqual(out.get('14'), {
    phase: 'ended',
    endState: 'timeout',
    reason: 'TimeLimit',
    node: 'node7'
  });
  assert.deepEqual(out.get('15'), { phase: 'gone' });
  assert.equal(parseSqueue('', ['1']).get('1')?.phase, 'gone');
});

test('parseSinfo and parseSbatch', () => {
  assert.deepEqual(parseSinfo('cpu\ngpu\ncpu\n\n'), ['cpu', 'gpu']);
  assert.equal(parseSbatch('123\n'), '123');
  assert.equal(parseSbatch('123;cluster\n'), '123');
  assert.equal(parseSbatch('Submitted batch job 1\n'), null);
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
  assert.deepEqual(sbatchArgs(spec), [
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
  assert.ok(!cpu.some(a => a.startsWith('--gres')));
});

test('parseSlurmTime reads Slurm time formats', () => {
  assert.equal(parseSlurmTime('30'), 30 * 60_000);
  assert.equal(parseSlurmTime('1:30'), 90_000);
  assert.equal(parseSlurmTime('04:00:00'), 4 * 3600_000);
  assert.equal(parseSlurmTime('1-00:00:00'), 86400_000);
  assert.equal(parseSlurmTime('2-12'), (2 * 86400 + 12 * 3600) * 1000);
  assert.equal(parseSlurmTime('UNLIMITED'), null);
  assert.equal(parseSlurmTime('abc'), null);
  assert.equal(parseSlurmTime(undefined), null);
});

test('signalLead warns at most a quarter of a short limit ahead, 60 s for long ones', () => {
  assert.equal(signalLead('04:00:00', 60), 60);
  assert.equal(signalLead('1', 60), 15);
  assert.equal(signalLead('0:20', 60), 5);
  assert.equal(signalLead(undefined, 60), 60);
});
