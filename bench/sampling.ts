/**
 * The cost of a job's own usage sampling (server/runtime/sampler.py): the
 * sampler's CPU time over a stretch of a job's life, as a share of one core,
 * at the default 10 s interval and at the smallest (1 s). The sampled job is
 * a tree of a shell and four sleeping children, the shape of job.sh with its
 * kernel; this machine has no GPU, so the GPU loop (one long-running
 * nvidia-smi whose lines are read as they come) is not in the figure.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, tempTree } from './lib';
import { runtimeFile } from '../server/runtime/jobScript';

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of one process, seconds (/proc/<pid>/stat, fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export interface SamplingCost {
  intervalSeconds: number;
  spanSeconds: number;
  samples: number;
  /** The sampler's CPU time over the span, percent of one core. */
  percentOfCore: number;
}

export async function samplingCost(
  intervalSeconds: number,
  spanSeconds: number
): Promise<SamplingCost> {
  const dir = tempTree('bench-sampler-');
  const job = spawn('bash', ['-c', 'for i in 1 2 3 4; do sleep 3600 & done; wait'], {
    detached: true,
    stdio: 'ignore'
  });
  const usage = join(dir, 'usage.jsonl');
  const sampler = spawn('python3', [runtimeFile('sampler.py'), String(job.pid), usage], {
    env: { ...process.env, HPC_SUBMIT_SAMPLE_SECONDS: String(intervalSeconds) },
    stdio: 'ignore'
  });
  try {
    await sleep(spanSeconds * 1000);
    const cpu = cpuSeconds(sampler.pid as number);
    const samples = readFileSync(usage, 'utf8').trim().split('\n').length;
    return {
      intervalSeconds,
      spanSeconds,
      samples,
      percentOfCore: (100 * cpu) / spanSeconds
    };
  } finally {
    sampler.kill('SIGTERM');
    process.kill(-(job.pid as number), 'SIGKILL');
  }
}
