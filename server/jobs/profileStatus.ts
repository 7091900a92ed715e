/**
 * What stands between a profile and a run: its environment and kernel (asked
 * of the environment by KernelChecker) and the scheduler (does it answer, does
 * it have the profile's partition). One answer for GET /api/profiles and for
 * `hpc-submit doctor`; for a notebook in a pixi project, its environments on
 * the site's hardware come first.
 */
import type {
  ExecutorName,
  Profile,
  ProfileList,
  ProfileProblem,
  ProfileStatus
} from '../../contract/wire';
import type { SchedulerInfo } from '../executors/executor';
import type { KernelChecker } from './kernels';
import type { ProfileOrigins } from './profileSources';
import type { ProjectEnvironments } from './projectEnvironments';

/** `probe`: the profile's environment as it is asked after its kernels (see KernelChecker.problems). */
export function profileStatus(
  profile: Profile,
  kernels: KernelChecker,
  executor: ExecutorName,
  scheduler: SchedulerInfo,
  probe: Profile = profile
): Promise<ProfileStatus> {
  return kernels.status(profile, schedulerProblems(profile, executor, scheduler), probe);
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

export interface ProfileListDeps {
  profiles: Profile[];
  kernels: KernelChecker;
  executor: ExecutorName;
  scheduler: SchedulerInfo;
  /** Unknown (tests handing profiles in): no "source" is claimed. */
  origins?: ProfileOrigins;
  environments: ProjectEnvironments;
}

/** GET /api/profiles; with the notebook's real path, the choices for it. */
export async function profileList(
  deps: ProfileListDeps,
  notebookPath?: string
): Promise<ProfileList> {
  const status = (p: Profile, probe?: Profile): Promise<ProfileStatus> =>
    profileStatus(p, deps.kernels, deps.executor, deps.scheduler, probe);
  const site = deps.profiles.map(async p => ({
    ...(await status(p)),
    ...(deps.origins ? { source: deps.origins.sources[p.id] } : {})
  }));
  const problems = [...(deps.origins?.problems ?? [])];
  const found = notebookPath ? await deps.environments.forNotebook(notebookPath) : null;
  if (found?.problem) {
    problems.push(found.problem);
  }
  const project = found?.project;
  const choices = project
    ? found.choices.map(c => deps.environments.choiceStatus(project, c, status))
    : [];
  const answer: ProfileList = { profiles: await Promise.all([...choices, ...site]) };
  if (problems.length) {
    answer.problems = problems;
  }
  if (project) {
    answer.project = {
      name: project.name,
      manifest: await deps.environments.manifestShown(project)
    };
  }
  return answer;
}
