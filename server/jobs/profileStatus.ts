/**
 * What stands between a profile and a run: its environment and kernel (asked
 * of the environment by KernelChecker) and the scheduler (does it answer, does
 * it have the profile's partition). One answer for GET /api/profiles and for
 * `hpc-submit doctor`.
 */
import type { ExecutorName, Profile, ProfileProblem, ProfileStatus } from '../../contract/wire';
import type { SchedulerInfo } from '../executors/executor';
import type { KernelChecker } from './kernels';

export function profileStatus(
  profile: Profile,
  kernels: KernelChecker,
  executor: ExecutorName,
  scheduler: SchedulerInfo
): Promise<ProfileStatus> {
  return kernels.status(profile, schedulerProblems(profile, executor, scheduler));
}

/** The scheduler's side: it answers, and (on Slurm) it has the profile's partition. */
function schedulerProblems(
  profile: Profile,
  executor: ExecutorName,
  scheduler: SchedulerInfo
): ProfileProblem[] {
  if (!scheduler.reachable) {
    return [
      {
        code: 'scheduler-unreachable',
        message: scheduler.message ?? 'the scheduler is not answering'
      }
    ];
  }
  const partition = profile.resources.partition;
  if (executor === 'slurm' && partition && !scheduler.partitions.includes(partition)) {
    const known = scheduler.partitions.join(', ') || 'none';
    return [
      {
        code: 'partition-unknown',
        message: `the partition "${partition}" does not exist on this cluster (it has ${known})`
      }
    ];
  }
  return [];
}
