/**
 * The job's own samples of its use (server/runtime/sampler.py started by
 * job.sh): the real job script running real notebooks with the real nbconvert
 * of the test environment, sampled every second. Memory against what a
 * notebook allocated; GPU figures and the idle warning from a test double of
 * nvidia-smi (no GPU here); the sampler ending with the job, or by itself
 * once the job script is killed. Then one run through the companion on the
 * real Slurm cluster: `usage` while it runs, `efficiency` at its end,
 * completed from Slurm's accounting (sacct, the cluster's slurmdbd).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { join } from 'node:path';
import type { Job, UsagePoint } from '../../contract/wire';
import { readJobStatus } from '../../server/jobs/jobStatus';
import {
  USAGE_FILE,
  efficiencyOf,
  emptyTotals,
  foldUsage,
  parseUsageLines,
  summarizeUsage
} from '../../server/jobs/usage';
import { type Companion, until } from '../fixtures/companion';
import {
  mkdirp,
  installTestKernel,
  jobEnv,
  notebookJson,
  tempDir,
  testJobScript,
  writeNotebook
} from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { asSlurmUser, companionAsSlurmUser, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';

const MiB = 1024 * 1024;

const ALLOCATED = 200 * MiB;

let root: string;
let kernel: { prefix: string; jupyterPath: string };

beforeAll(() => {
  root = tempDir('hpc-usage-');
  kernel = installTestKernel();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(kernel.prefix, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  jobDir: string;
  log: string;
  samples: UsagePoint[];
}

let counter = 0;

/** job.sh for `notebookPath`, started with bash, sampling every second. */
function startJob(notebookPath: string, env: NodeJS.ProcessEnv) {
  const jobDir = mkdirp(join(root, 'jobs', `job-${++counter}`));
  const nbDir = notebookPath.slice(0, notebookPath.lastIndexOf('/'));
  const script = testJobScript(`job-${counter}`, jobDir, notebookPath);
  writeFileSync(join(jobDir, 'job.sh'), script);
  const child = spawn('bash', [join(jobDir, 'job.sh')], {
    cwd: nbDir,
    env: { HPC_SUBMIT_SAMPLE_SECONDS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let log = '';
  child.stdout.on('data', d => (log += d));
  child.stderr.on('data', d => (log += d));
  const done = new Promise<Run>(resolve =>
    child.on('close', code => resolve({ code, jobDir, log, samples: samplesOf(jobDir) }))
  );
  // 'close' waits for every holder of the job's stdout, nbconvert among them.
  const exited = new Promise(resolve => child.on('exit', resolve));
  return { child, jobDir, done, exited };
}

function samplesOf(jobDir: string): UsagePoint[] {
  const file = join(jobDir, USAGE_FILE);
  return existsSync(file) ? parseUsageLines(readFileSync(file, 'utf8')).points : [];
}

/** Live sampler processes of a job (their command line names its usage.jsonl). */
function samplersOf(jobDir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc').filter(n => /^\d+$/.test(n))) {
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (
        cmdline.some(a => a.endsWith('sampler.py')) &&
        cmdline.includes(join(jobDir, USAGE_FILE))
      ) {
        pids.push(Number(name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const peakOf = (samples: UsagePoint[]) => Math.max(...samples.map(s => s.rssBytes));

/** A notebook holding `bytes` for a few seconds: long enough for several samples. */
function holding(name: string, bytes: number): string {
  const path = join(mkdirp(join(root, 'nb')), name);
  writeNotebook(path, [`held = bytearray(${bytes})`, 'import time\ntime.sleep(4)']);
  return path;
}

test('peak memory: what the notebook allocated plus the baseline of nbconvert and its kernel, within 10%', async () => {
  const baseline = await startJob(holding('baseline.ipynb', 0), jobEnv(kernel.jupyterPath)).done;
  assert.equal(baseline.code, 0, baseline.log);
  const run = await startJob(holding('allocates.ipynb', ALLOCATED), jobEnv(kernel.jupyterPath))
    .done;
  assert.equal(run.code, 0, run.log);

  for (const r of [baseline, run]) {
    assert.ok(r.samples.length >= 3, `a sample a second (${r.samples.length}): ${r.log}`);
    assert.ok(
      r.samples.every(s => s.gpus === undefined),
      'no GPU figures without nvidia-smi'
    );
    assert.deepEqual(samplersOf(r.jobDir), [], 'the sampler ended with the job');
  }
  const expected = ALLOCATED + peakOf(baseline.samples);
  const peak = peakOf(run.samples);
  assert.ok(
    Math.abs(peak - expected) <= 0.1 * expected,
    `peak ${(peak / MiB).toFixed(0)} MiB, expected ${(expected / MiB).toFixed(0)} MiB ` +
      `(baseline ${(peakOf(baseline.samples) / MiB).toFixed(0)} MiB)`
  );
  // The kernel ran the notebook: its CPU shows while nbconvert starts it.
  assert.ok(
    run.samples.some(s => s.cpuPercent > 5),
    JSON.stringify(run.samples)
  );

  const status = await readJobStatus(run.jobDir);
  assert.equal(status?.phase, 'ended');
  const e = efficiencyOf(
    {
      state: 'completed',
      resources: { memory: '4G', time: '01:00:00', cpus: 1 },
      startedAt: status?.startedAt,
      endedAt: status?.phase === 'ended' ? status.endedAt : undefined
    },
    run.samples
  );
  assert.ok(e, 'an efficiency');
  assert.equal(e.peakRssBytes, peak);
  assert.equal(e.memoryAskedBytes, 4096 * MiB);
  assert.ok(e.cpuEfficiency !== undefined && e.cpuEfficiency > 0 && e.cpuEfficiency < 150);
  assert.deepEqual(e.hints, [`peak ${Math.round(peak / MiB)} MiB of 4 GiB asked`, e.hints[1]]);
  assert.match(e.hints[1], /^used (under 1%|\d%) of the 1:00:00 asked$/);
});

/**
 * A test double for a real GPU's nvidia-smi (this machine has none): answers
 * the sampler's `--query-gpu ... -lms MS` with three GPUs every MS, at the
 * utilization given in FAKE_GPU_UTIL, of which the job is granted 0 and 1.
 */
function fakeNvidiaSmi(): string {
  const bin = mkdirp(join(root, 'fake-nvidia-smi'));
  const path = join(bin, 'nvidia-smi');
  writeFileSync(
    path,
    `#!/bin/bash
# Test double of nvidia-smi: scripted utilization lines, no GPU behind them.
ms=0
while [ $# -gt 0 ]; do
  case $1 in -lms) ms=$2; shift ;; -L) printf 'GPU %s: Test double\\n' 0 1 2; exit 0 ;; esac
  shift
done
while :; do
  printf '0, %s, 1200, 81920\\n1, %s, 300, 81920\\n2, 97, 70000, 81920\\n' "\${FAKE_GPU_UTIL:-0}" "\${FAKE_GPU_UTIL:-0}" || exit 0
  [ "$ms" = 0 ] && exit 0
  sleep "$(awk "BEGIN { print $ms / 1000 }")"
done
`
  );
  chmodSync(path, 0o755);
  return bin;
}

test('GPU figures of the granted GPUs only (nvidia-smi test double), and the idle warning', async () => {
  const bin = fakeNvidiaSmi();
  const gpuEnv = (util: number) =>
    jobEnv(kernel.jupyterPath, {
      PATH: `${bin}:${process.env.PATH}`,
      CUDA_VISIBLE_DEVICES: '0,1',
      FAKE_GPU_UTIL: String(util)
    });
  const notebook = holding('gpu.ipynb', 0);
  const gpuJob = (run: Run): Pick<Job, 'resources' | 'startedAt' | 'state'> => ({
    state: 'completed',
    resources: { gpus: 2 },
    startedAt: run.samples[0] && new Date(Date.parse(run.samples[0].t) - 1000).toISOString()
  });

  const idle = await startJob(notebook, gpuEnv(0)).done;
  assert.equal(idle.code, 0, idle.log);
  assert.ok(idle.samples.length >= 3, idle.log);
  for (const s of idle.samples) {
    assert.deepEqual(s.gpus, [
      { index: 0, util: 0, memUsedMiB: 1200, memTotalMiB: 81920 },
      { index: 1, util: 0, memUsedMiB: 300, memTotalMiB: 81920 }
    ]);
  }
  const idleTotals = foldUsage(emptyTotals(), idle.samples);
  // Tests use a fraction of the 5 minutes: 2 seconds.
  const idleSummary = summarizeUsage(idleTotals, gpuJob(idle), { gpuIdleMinutes: 2 / 60 });
  assert.equal(idleSummary.meanGpuUtil, 0);
  assert.equal(idleSummary.gpuIdleWarning, 'GPU idle for 2 s — is the notebook using it?');
  assert.equal(
    summarizeUsage(idleTotals, gpuJob(idle), { gpuIdleMinutes: 5 }).gpuIdleWarning,
    undefined,
    'not before the idle period'
  );
  assert.deepEqual(samplersOf(idle.jobDir), []);

  const busy = await startJob(notebook, gpuEnv(40)).done;
  assert.equal(busy.code, 0, busy.log);
  const busySummary = summarizeUsage(foldUsage(emptyTotals(), busy.samples), gpuJob(busy), {
    gpuIdleMinutes: 2 / 60
  });
  assert.equal(busySummary.meanGpuUtil, 40);
  assert.equal(busySummary.gpuIdleWarning, undefined);
  const e = efficiencyOf(
    { ...gpuJob(busy), endedAt: busy.samples[busy.samples.length - 1].t },
    busy.samples
  );
  assert.equal(e?.meanGpuUtil, 40);
  assert.deepEqual(e?.hints, []);

  // A Slurm job granted no GPU has no CUDA_VISIBLE_DEVICES: the node's GPUs are not its own.
  const noneGranted = gpuEnv(40);
  delete noneGranted.CUDA_VISIBLE_DEVICES;
  const cpuOnly = await startJob(notebook, { ...noneGranted, SLURM_JOB_ID: '4242' }).done;
  assert.equal(cpuOnly.code, 0, cpuOnly.log);
  assert.ok(cpuOnly.samples.length >= 1, cpuOnly.log);
  assert.ok(
    cpuOnly.samples.every(s => s.gpus === undefined || s.gpus.length === 0),
    JSON.stringify(cpuOnly.samples[0])
  );
});

test('the sampler ends by itself once the job script is killed', async () => {
  const path = join(mkdirp(join(root, 'nb')), 'long.ipynb');
  writeNotebook(path, ["print('started', flush=True)", 'import time\ntime.sleep(120)']);
  const job = startJob(path, jobEnv(kernel.jupyterPath));
  await until('the first sample', () => samplesOf(job.jobDir).length > 0, 60_000);
  assert.equal(samplersOf(job.jobDir).length, 1);
  const nbconvert = Number(readFileSync(join(job.jobDir, 'child.pid'), 'utf8'));
  job.child.kill('SIGKILL');
  await job.exited;
  try {
    await until('the sampler to end', () => samplersOf(job.jobDir).length === 0, 5000);
  } finally {
    process.kill(-nbconvert, 'SIGKILL');
  }
});

describeUnless(slurmUsable())('usage and efficiency through the companion on real Slurm', () => {
  let dir: string;
  let c: Companion;
  const saved = process.env.HPC_SUBMIT_SAMPLE_SECONDS;

  beforeAll(async () => {
    dir = tempDir('hpc-usage-slurm-');
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'root'));
    writeFileSync(
      join(dir, 'root', 'holds.ipynb'),
      notebookJson([`held = bytearray(${100 * MiB})`, 'import time\ntime.sleep(8)'])
    );
    writeTestProfiles(join(dir, 'profiles.json'), {
      resources: { partition: 'cpu', cpus: 1, memory: '2G', time: '00:10:00' }
    });
    // The companion (and through sbatch, its jobs) inherit this: a sample a second.
    process.env.HPC_SUBMIT_SAMPLE_SECONDS = '1';
    c = await companionAsSlurmUser(dir);
  });

  afterAll(async () => {
    await c?.stop();
    if (saved === undefined) {
      delete process.env.HPC_SUBMIT_SAMPLE_SECONDS;
    } else {
      process.env.HPC_SUBMIT_SAMPLE_SECONDS = saved;
    }
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows usage while the job runs and its efficiency at the end', async () => {
    const res = await c.api('POST', 'api/jobs', { notebook: 'holds.ipynb', profile: 'cpu' });
    assert.equal(res.status, 201, res.text);
    const id: string = res.json.id;
    const get = async (): Promise<Job> => (await c.api('GET', `api/jobs/${id}`)).json;

    const live = await until(
      'usage while the job runs',
      async () => (j => (j.state === 'running' && j.usage?.latest ? j : null))(await get()),
      90_000
    );
    assert.ok(live.usage);
    assert.ok(live.usage.history.length >= 1);
    assert.equal(live.usage.memoryAskedBytes, 2048 * MiB);
    assert.equal(live.efficiency, undefined);

    const end = await until(
      'the end',
      async () => (j => (j.state !== 'running' && j.state !== 'queued' ? j : null))(await get()),
      90_000
    );
    assert.equal(end.state, 'completed', JSON.stringify(end));
    const usage = end.usage;
    assert.ok(usage && usage.peakRssBytes > 100 * MiB, JSON.stringify(usage));
    // The test cluster keeps accounting (slurmdbd): the next rounds read sacct once.
    const read = await until(
      "the efficiency with Slurm's accounting",
      async () => (j => (j.efficiency?.source === 'samples+sacct' ? j : null))(await get()),
      30_000
    );
    const e = read.efficiency;
    assert.ok(e, JSON.stringify(read));
    assert.equal(e.timeLimitSeconds, 600);
    assert.equal(e.memoryAskedBytes, 2048 * MiB);
    // Slurm's jobacct_gather and the job's own sampler measure the same process tree.
    const ratio = (e.peakRssBytes ?? 0) / usage.peakRssBytes;
    assert.ok(
      ratio > 0.8 && ratio < 1.25,
      `sacct's peak ${e.peakRssBytes}, sampled ${usage.peakRssBytes}`
    );
    assert.ok(e.wallSeconds >= 8 && e.wallSeconds < 120, `wall ${e.wallSeconds} s`);
    assert.ok(e.cpuEfficiency !== undefined && e.cpuEfficiency > 0, JSON.stringify(e));
    assert.equal(e.hints.length, 2, JSON.stringify(e.hints));
    assert.match(e.hints[0], /^peak \d+ MiB of 2 GiB asked$/);
    assert.match(e.hints[1], /^used \d+% of the 0:10:00 asked$/);
    // What sacct says, as the user would ask it.
    const accounted = asSlurmUser([
      'sacct',
      '-X',
      '-n',
      '-P',
      '--format=JobID,State',
      '-j',
      end.schedulerId as string
    ]);
    assert.match(accounted, new RegExp(`^${end.schedulerId}\\|COMPLETED$`, 'm'));
  });
});
