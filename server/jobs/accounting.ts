/**
 * A run's efficiency with Slurm's accounting folded in (pure). The job's own
 * samples are what every site has; where sacct answers, its figures replace
 * the sampled ones they measure better: the elapsed time the scheduler
 * charged, the CPU time of every process (the kernel's count, not a sample
 * every 10 s) and the peak memory jobacct_gather saw. GPU use comes only
 * from the samples: sacct does not measure it.
 */
import type { Efficiency, Job } from '../../contract/wire';
import type { AccountingRecord } from '../executors/executor';
import { askedOf, hintsOf, round1 } from './usage';

type Asked = Pick<Job, 'state' | 'resources'>;

export function withAccounting(
  job: Asked,
  sampled: Efficiency | undefined,
  record: AccountingRecord
): Efficiency | undefined {
  const wallSeconds = record.elapsedSeconds ?? sampled?.wallSeconds;
  const measured =
    record.elapsedSeconds !== undefined ||
    record.totalCpuSeconds !== undefined ||
    (record.maxRssBytes ?? 0) > 0;
  if (wallSeconds === undefined || !measured) {
    return sampled;
  }
  const merged: Efficiency = {
    ...(sampled ?? { hints: [], ...askedOf(job) }),
    wallSeconds,
    source: sampled ? 'samples+sacct' : 'sacct'
  };
  if (record.maxRssBytes !== undefined && record.maxRssBytes > 0) {
    merged.peakRssBytes = record.maxRssBytes;
  }
  const cpus = record.allocCpus ?? job.resources?.cpus ?? 1;
  if (record.totalCpuSeconds !== undefined && wallSeconds > 0) {
    merged.cpuEfficiency = round1((100 * record.totalCpuSeconds) / (wallSeconds * cpus));
  }
  merged.hints = job.state === 'completed' ? hintsOf(merged, job) : [];
  return merged;
}

/**
 * Whether the record can be used now: the scheduler's figures are final and
 * the batch step has arrived, or it has been asked for `rounds` times already
 * (a site whose batch step never arrives still gets the allocation's figures).
 */
export function accountingSettled(record: AccountingRecord, rounds: number): boolean {
  return record.final && (record.hasBatchStep || rounds >= 2);
}
