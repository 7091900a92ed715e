/**
 * Making what a run needs, from the UI: installing a project's environment
 * (`pixi install`, minutes) and creating a kernel (`ipykernel install`). Each
 * is a task with its output kept for a log panel to read from an offset, and
 * a cancel that stops the program and whatever it started (its process
 * group). One task per target at a time: asking again while one runs answers
 * that one. Tasks live in the companion's memory; the last few ended ones
 * are kept for their logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { SetupAction, SetupLog, SetupTask } from '../../contract/wire';
import { Refusal } from './refusal';

/** Past this, the log says it was cut: a runaway program must not fill the companion's memory. */
const MAX_LOG_CHARS = 4 * 1024 * 1024;
const KEEP_ENDED = 20;
const KILL_AFTER_MS = 5000;

export interface SetupStart {
  action: SetupAction;
  /** What the task makes (one task per target at a time): "<manifest>#<env>", "kernel:<name>". */
  target: string;
  title: string;
  argv: string[];
  /** How the command reads to the user, as they would type it (with any variable set for it). */
  display: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Lines the log starts with: what was decided for the user and why. */
  preface?: string[];
}

interface Running {
  task: SetupTask;
  target: string;
  log: string;
  child: ChildProcess | null;
}

export class SetupTasks {
  private readonly tasks = new Map<string, Running>();

  /** `onEnd`: told of each task's end (what the companion caches about environments is stale then). */
  constructor(private readonly onEnd: (task: SetupTask) => void = () => undefined) {}

  /** Starts the task, or answers the one already running for the same target (`created` false). */
  start(spec: SetupStart): { task: SetupTask; created: boolean } {
    for (const t of this.tasks.values()) {
      if (t.target === spec.target && t.task.state === 'running') {
        return { task: t.task, created: false };
      }
    }
    const task: SetupTask = {
      id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      action: spec.action,
      title: spec.title,
      command: spec.display,
      state: 'running',
      startedAt: new Date().toISOString()
    };
    const entry: Running = { task, target: spec.target, log: '', child: null };
    this.tasks.set(task.id, entry);
    this.forgetOld();
    for (const line of spec.preface ?? []) {
      this.append(entry, `[hpc-submit] ${line}\n`);
    }
    this.append(entry, `$ ${spec.display}\n`);
    this.run(entry, spec);
    return { task, created: true };
  }

  read(id: string, offset: number): SetupLog {
    const entry = this.entry(id);
    const from = Math.min(Math.max(0, Math.floor(offset) || 0), entry.log.length);
    return { task: entry.task, text: entry.log.slice(from), next: entry.log.length };
  }

  /** Stops a running task and all it started; an ended one is answered as it is. */
  cancel(id: string): SetupTask {
    const entry = this.entry(id);
    const child = entry.child;
    if (entry.task.state === 'running' && child?.pid !== undefined) {
      entry.task = { ...entry.task, state: 'cancelled' };
      this.append(entry, '\n[hpc-submit] cancelled\n');
      signalGroup(child.pid, 'SIGTERM');
      const pid = child.pid;
      setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_AFTER_MS).unref();
    }
    return entry.task;
  }

  /** Stops every running task: the companion is closing. */
  close(): void {
    for (const entry of this.tasks.values()) {
      if (entry.task.state === 'running' && entry.child?.pid !== undefined) {
        signalGroup(entry.child.pid, 'SIGKILL');
      }
    }
  }

  private entry(id: string): Running {
    const entry = this.tasks.get(id);
    if (!entry) {
      throw new Refusal(
        'not-found',
        `no setup task ${JSON.stringify(id)} (this companion keeps its last ${KEEP_ENDED})`
      );
    }
    return entry;
  }

  private run(entry: Running, spec: SetupStart): void {
    const [file, ...args] = spec.argv;
    // Its own process group: cancel stops pixi and the solver or pip it started.
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe']
    });
    entry.child = child;
    child.stdout?.setEncoding('utf8').on('data', (s: string) => this.append(entry, s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => this.append(entry, s));
    child.once('error', e => {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      this.append(entry, `[hpc-submit] ${missing ? `${file} is not on PATH` : e.message}\n`);
      this.end(entry, null);
    });
    child.once('close', code => this.end(entry, code));
  }

  private end(entry: Running, code: number | null): void {
    if (entry.child === null) {
      return;
    }
    entry.child = null;
    const state =
      entry.task.state === 'cancelled' ? 'cancelled' : code === 0 ? 'completed' : 'failed';
    entry.task = { ...entry.task, state, exitCode: code, endedAt: new Date().toISOString() };
    if (state !== 'cancelled') {
      this.append(
        entry,
        `[hpc-submit] ${state === 'completed' ? 'done' : `failed (exit ${code ?? 'unknown'})`}\n`
      );
    }
    this.onEnd(entry.task);
  }

  private append(entry: Running, text: string): void {
    if (entry.log.length >= MAX_LOG_CHARS) {
      return;
    }
    entry.log += text;
    if (entry.log.length >= MAX_LOG_CHARS) {
      entry.log = `${entry.log.slice(0, MAX_LOG_CHARS)}\n[hpc-submit] the log is cut here; the task goes on\n`;
    }
  }

  private forgetOld(): void {
    const ended = [...this.tasks.values()].filter(t => t.task.state !== 'running');
    for (const old of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) {
      this.tasks.delete(old.task.id);
    }
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
