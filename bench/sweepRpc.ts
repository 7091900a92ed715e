/**
 * What a sweep costs the Slurm controller: a 100-task sweep submitted through
 * the Slurm executor's submitArray (one job array), then polled as the
 * companion's Poller does (one observe of every live task per interval) for
 * 60 s, then cancelled with cancelArray; then the accounting of its ended
 * tasks is read as the Poller reads it (one executor.accounting of them all).
 * sdiag's RPC counts (and slurmdbd's, `sacctmgr show stats`, for the
 * accounting) are read right before and after each call (never reset: other
 * users of the cluster keep theirs), so what others do meanwhile hardly counts.
 *
 *   node --import tsx bench/sweepRpc.ts [--interval-s 30] [--tasks 100]
 *
 * As root (sdiag needs it), with the cluster up (scripts/slurm-cluster.sh up);
 * the sweep runs as hpcuser. The counts by message type are the whole
 * controller's: a quiet cluster gives the cleanest figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor, LaunchSpec } from '../server/executors/executor';
import { createSlurmExecutor } from '../server/executors/slurm';
import { USER, chownTree, sleep, tempTree, userIds } from './lib';

/** The Poller's default interval (server/jobs/poller.ts). */
const POLL_INTERVAL_S = 30;
const WINDOW_S = 60;
const MAX_PARALLEL = 4;
const SWEEP_ID = '20261125-000000-bench0';

/** sdiag's counts by message type ("REQUEST_JOB_INFO ( 2003) count:12 ..."); pure. */
function sdiagCounts(text: string): Map<string, number> {
  const section = (text.split('Remote Procedure Call statistics by message type')[1] ?? '').split(
    'Remote Procedure Call statistics by user'
  )[0];
  const counts = new Map<string, number>();
  for (const m of section.matchAll(/^\s*(\w+)\s*\(\s*\d+\)\s*count:(\d+)/gm)) {
    counts.set(m[1], Number(m[2]));
  }
  return counts;
}

/** sdiag's counts by message type, now. */
export const readSdiag = (): Map<string, number> =>
  sdiagCounts(execFileSync('sdiag', { encoding: 'utf8' }));

/** slurmdbd's counts, in sdiag's layout. */
const readDbdStats = (): Map<string, number> =>
  sdiagCounts(execFileSync('sacctmgr', ['show', 'stats'], { encoding: 'utf8' }));

/** sdiag's own request: the measuring, not the measured. */
const SDIAG = 'REQUEST_STATS_INFO';

/** Adds the RPCs of each type made between two readings to `into`; pure but for `into`. */
function addDelta(
  into: Map<string, number>,
  before: Map<string, number>,
  after: Map<string, number>
): void {
  for (const [type, n] of after) {
    const d = n - (before.get(type) ?? 0);
    if (d > 0 && type !== SDIAG) {
      into.set(type, (into.get(type) ?? 0) + d);
    }
  }
}

/** Runs `call` between two readings (sdiag's by default) and adds the RPCs made to `into`. */
async function counted<T>(
  into: Map<string, number>,
  call: () => Promise<T>,
  read = readSdiag
): Promise<T> {
  const before = read();
  const answer = await call();
  addDelta(into, before, read());
  return answer;
}

const SUBMISSION = /^REQUEST_SUBMIT_BATCH/;
/** squeue's requests: the job tables, whole, by user or for one job. */
const JOB_INFO = /^REQUEST_JOB_(INFO|USER_INFO)/;
const CANCEL = /^REQUEST_(CANCEL_JOB|KILL_JOB)/;
/** sacct's request to slurmdbd. */
const JOBS_QUERY = /^DBD_GET_JOBS_COND$/;

const sumOf = (delta: Map<string, number>, type: RegExp): number =>
  [...delta].filter(([t]) => type.test(t)).reduce((n, [, d]) => n + d, 0);

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) {
    return fallback;
  }
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name} takes a whole number of 1 or more, not ${process.argv[at + 1]}`);
  }
  return value;
}

/** The tasks' job.sh: a short sleep, enough to keep the array busy through the window. */
function taskSpecs(root: string, n: number, home: string): LaunchSpec[] {
  const jobs = join(root, 'jobs');
  return Array.from({ length: n }, (_, i) => {
    const jobId = `${SWEEP_ID}-${i}`;
    const jobDir = join(jobs, jobId);
    mkdirSync(jobDir, { recursive: true });
    writeFileSync(join(jobDir, 'job.sh'), '#!/bin/bash\nsleep 20\n', { mode: 0o700 });
    writeFileSync(join(jobDir, 'log.txt'), '', { mode: 0o600 });
    return {
      jobId,
      jobDir,
      scriptPath: join(jobDir, 'job.sh'),
      logPath: join(jobDir, 'log.txt'),
      cwd: root,
      resources: { partition: 'cpu', cpus: 1, memory: '50M', time: '00:05:00' },
      env: { PATH: process.env.PATH, HOME: home, USER, LOGNAME: USER },
      name: 'sweep-bench.ipynb'
    };
  });
}

function printDelta(title: string, delta: Map<string, number>): void {
  process.stdout.write(`${title}\n`);
  for (const [type, n] of [...delta].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`  ${type.padEnd(36)} ${n}\n`);
  }
}

/** What one sweep cost the controller, by phase. */
export interface SweepCost {
  tasks: number;
  intervalS: number;
  observes: number;
  submitRpcs: number;
  jobInfoPerMinute: number;
  allPerMinute: number;
  cancelRpcs: number;
  /** The one accounting read of every ended task: sacct's requests to slurmdbd and to slurmctld. */
  accounting: { records: number; dbdQueries: number; controllerRpcs: number; ms: number } | null;
  deltas: { submit: Map<string, number>; poll: Map<string, number>; cancel: Map<string, number> };
}

export async function measureSweep(intervalS: number, tasks: number): Promise<SweepCost> {
  if (process.getuid?.() !== 0) {
    throw new Error('bench/sweepRpc.ts needs root: sdiag answers only the Slurm admin');
  }
  const user = userIds();
  const root = tempTree('bench-sweep-');
  const specs = taskSpecs(root, tasks, user.home);
  const sweepDir = join(root, 'sweeps', SWEEP_ID);
  mkdirSync(sweepDir, { recursive: true });
  chownTree(root, user.uid, user.gid);
  const executor = createSlurmExecutor({ runAs: USER });
  let ids: string[] = [];
  try {
    const submit = new Map<string, number>();
    const poll = new Map<string, number>();
    const cancel = new Map<string, number>();
    ids = await counted(submit, () =>
      executor.submitArray(specs, { sweepId: SWEEP_ID, maxParallel: MAX_PARALLEL, sweepDir })
    );
    const started = Date.now();
    let observes = 0;
    let live = ids;
    while (Date.now() - started < WINDOW_S * 1000) {
      const seen = await counted(poll, () => executor.observe(live));
      observes++;
      live = live.filter(id => !['ended', 'gone'].includes(seen.get(id)?.phase ?? ''));
      const next = observes * intervalS * 1000 - (Date.now() - started);
      await sleep(Math.max(0, Math.min(next, WINDOW_S * 1000 - (Date.now() - started))));
    }
    await counted(cancel, () => executor.cancelArray(ids));
    const accounting = await readAccounting(executor, ids);
    const minutes = WINDOW_S / 60;
    return {
      tasks,
      intervalS,
      observes,
      submitRpcs: sumOf(submit, SUBMISSION),
      jobInfoPerMinute: sumOf(poll, JOB_INFO) / minutes,
      allPerMinute: [...poll.values()].reduce((a, b) => a + b, 0) / minutes,
      cancelRpcs: sumOf(cancel, CANCEL),
      accounting,
      deltas: { submit, poll, cancel }
    };
  } finally {
    if (ids.length > 0) {
      execFileSync('scancel', [ids[0].split('_')[0]], { stdio: 'ignore' });
    }
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The ended tasks read from the accounting in one call, once their records
 * have settled (sacct lags the end by a moment); null where the cluster
 * keeps no accounting.
 */
async function readAccounting(executor: Executor, ids: string[]): Promise<SweepCost['accounting']> {
  if (!executor.accounting) {
    return null;
  }
  await sleep(3000);
  const dbd = new Map<string, number>();
  const controller = new Map<string, number>();
  let ms = 0;
  const answer = await counted(controller, () =>
    counted(
      dbd,
      async () => {
        const started = performance.now();
        const read = await executor.accounting!(ids);
        ms = performance.now() - started;
        return read;
      },
      readDbdStats
    )
  );
  if (answer.kind === 'disabled') {
    return null;
  }
  return {
    records: answer.records.size,
    dbdQueries: sumOf(dbd, JOBS_QUERY),
    controllerRpcs: sumOf(controller, /./),
    ms
  };
}

async function main(): Promise<void> {
  const cost = await measureSweep(argument('interval-s', POLL_INTERVAL_S), argument('tasks', 100));
  const { tasks, intervalS, observes } = cost;
  printDelta(
    `submitArray of ${tasks} tasks (--array=0-${tasks - 1}%${MAX_PARALLEL}):`,
    cost.deltas.submit
  );
  printDelta(
    `${observes} observe(s) of the live tasks in ${WINDOW_S} s, one per ${intervalS} s:`,
    cost.deltas.poll
  );
  printDelta('cancelArray of every task:', cost.deltas.cancel);
  process.stdout.write(
    [
      '',
      `submission RPCs: ${cost.submitRpcs} for ${tasks} tasks (one job per task: ${tasks})`,
      `job-info RPCs: ${cost.jobInfoPerMinute.toFixed(1)}/min polling at ${intervalS} s`,
      `all RPCs while polling: ${cost.allPerMinute.toFixed(1)}/min`,
      `cancel RPCs: ${cost.cancelRpcs} for ${tasks} tasks`,
      cost.accounting
        ? `accounting of the ended tasks: ${cost.accounting.records} records, ` +
          `${cost.accounting.dbdQueries} slurmdbd query, ${cost.accounting.controllerRpcs} controller RPCs, ` +
          `${cost.accounting.ms.toFixed(0)} ms`
        : 'accounting: none on this cluster',
      ''
    ].join('\n')
  );
}

if (require.main === module) {
  main().catch(error => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
