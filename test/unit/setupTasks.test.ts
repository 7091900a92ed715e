/**
 * Setup tasks with real programs: the log of what they print, their end, a
 * program that is not there, one task per target at a time, and a cancel
 * that stops the program's whole process group.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { SetupTasks, type SetupStart } from '../../server/jobs/setupTasks';
import type { SetupTask } from '../../contract/wire';

const spec = (argv: string[], over: Partial<SetupStart> = {}): SetupStart => ({
  action: 'install-environment',
  target: argv.join(' '),
  title: 'Install environment p gpu',
  argv,
  display: argv.join(' '),
  cwd: process.cwd(),
  env: { PATH: process.env.PATH },
  ...over
});

async function ended(tasks: SetupTasks, id: string): Promise<ReturnType<SetupTasks['read']>> {
  for (let i = 0; i < 200; i++) {
    const log = tasks.read(id, 0);
    if (log.task.state !== 'running') {
      return log;
    }
    await new Promise(r => setTimeout(r, 25));
  }
  throw new Error(`task ${id} did not end`);
}

describe('setup tasks', () => {
  it('keeps what the program prints, after its preface and command, and its end', async () => {
    const seen: SetupTask[] = [];
    const tasks = new SetupTasks(t => seen.push(t));
    const { task } = tasks.start(
      spec(['sh', '-c', 'echo out; echo err >&2; exit 3'], { preface: ['why it runs so'] })
    );
    const log = await ended(tasks, task.id);
    expect(log.task).toMatchObject({ state: 'failed', exitCode: 3 });
    expect(log.text).toMatch(/^\[hpc-submit\] why it runs so\n\$ sh -c /);
    expect(log.text).toContain('out\n');
    expect(log.text).toContain('err\n');
    expect(log.text).toMatch(/\[hpc-submit\] failed \(exit 3\)\n$/);
    expect(seen.map(t => t.state)).toEqual(['failed']);
    // Read on from where the last read ended: nothing new.
    expect(tasks.read(task.id, log.next).text).toBe('');
  });

  it('says so when the program is not there', async () => {
    const tasks = new SetupTasks();
    const { task } = tasks.start(spec(['no-such-program-hpc-submit']));
    const log = await ended(tasks, task.id);
    expect(log.task.state).toBe('failed');
    expect(log.text).toContain('no-such-program-hpc-submit is not on PATH');
  });

  it('answers the running task for the same target, and cancels it with its children', async () => {
    const tasks = new SetupTasks();
    // The child writes its pid, then both wait: cancel must reach the grandchild too.
    const file = `/tmp/hpc-setup-child-${process.pid}`;
    const argv = ['sh', '-c', `sleep 30 & echo $! > ${file}; wait`];
    const first = tasks.start(spec(argv));
    const again = tasks.start(spec(argv));
    expect(again).toEqual({ task: first.task, created: false });
    for (let i = 0; i < 200 && !existsSync(file); i++) {
      await new Promise(r => setTimeout(r, 25));
    }
    const child = Number(readFileSync(file, 'utf8'));
    expect(tasks.cancel(first.task.id).state).toBe('cancelled');
    const log = await ended(tasks, first.task.id);
    expect(log.task.state).toBe('cancelled');
    for (let i = 0; i < 200 && existsSync(`/proc/${child}`); i++) {
      await new Promise(r => setTimeout(r, 25));
    }
    expect(existsSync(`/proc/${child}`)).toBe(false);
    rmSync(file, { force: true });
  });

  it('refuses a task it does not know', () => {
    expect(() => new SetupTasks().read('nope', 0)).toThrow('no setup task "nope"');
  });
});
