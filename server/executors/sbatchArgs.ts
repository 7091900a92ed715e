/**
 * The argument lists of sbatch (a single job, a sweep as one job array) and
 * the environment sbatch is given; pure, no I/O.
 */
import { join } from 'node:path';
import { type ProfileMail, type Resources, SLURM_MAIL_TYPES } from '../../contract/wire';
import { parseSlurmTime } from './slurmTime';
import { DISPATCHER, arraySpec, arrayTasks } from './slurmArray';
import type { ArrayOptions, Dependency, LaunchSpec } from './executor';

/** Slurm's mail types and a mail address: what --mail-type and --mail-user accept from us. */
const MAIL_TYPE = new Set<string>(SLURM_MAIL_TYPES);
const MAIL_ADDRESS = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;

/** Throws a clear error unless `type` is a comma-separated list of Slurm's mail types; pure. */
export function checkMailType(type: string): string {
  const parts = type.split(',').map(p => p.trim().toUpperCase());
  const unknown = parts.filter(p => !MAIL_TYPE.has(p));
  if (parts.length === 0 || unknown.length > 0) {
    throw new Error(
      `the mail type ${JSON.stringify(type)} is not a list of Slurm's mail types (${SLURM_MAIL_TYPES.join(', ')})`
    );
  }
  return parts.join(',');
}

/** Throws a clear error unless `address` has the shape of a mail address; pure. */
export function checkMailUser(address: string): string {
  const a = address.trim();
  if (!MAIL_ADDRESS.test(a)) {
    throw new Error(
      `the mail address ${JSON.stringify(address)} (HPC_SUBMIT_MAIL_USER) is not of the form user@host`
    );
  }
  return a;
}

/** --mail-type and --mail-user when the profile asks for mail and the address is known; pure. */
export function mailArgs(mail: ProfileMail | undefined, mailUser: string | undefined): string[] {
  if (!mail?.type || !mailUser) {
    return [];
  }
  return [`--mail-type=${checkMailType(mail.type)}`, `--mail-user=${checkMailUser(mailUser)}`];
}

/**
 * A path as sbatch's --output takes it. sbatch expands %j, %a ... in file
 * names, and %% is a literal percent sign. A backslash anywhere turns the
 * expansion off and is itself dropped, so the log would land elsewhere:
 * such a path is refused. Pure.
 */
export function slurmFilename(path: string): string {
  if (path.includes('\\')) {
    throw new Error(`Slurm cannot write a log under a path with a backslash: ${path}`);
  }
  return path.replace(/%/g, '%%');
}

/** What one sbatch submission is made of; the same for a single job and an array. */
interface Submission {
  name: string;
  /** --output, already in Slurm's file-name pattern syntax (slurmFilename). */
  output: string;
  cwd: string;
  resources?: Resources;
  mail?: ProfileMail;
  script: string;
  /** --array's value, for a job array. */
  array?: string;
  after?: Dependency;
}

/** A Slurm job id, or one task of an array ("123", "123_4"): nothing else goes into --dependency. */
const SLURM_JOB_ID = /^[1-9][0-9]{0,15}(_[0-9]{1,7})?$/;

/**
 * --dependency for a run that waits for others, with --kill-on-invalid-dep:
 * a run whose dependency can never be met ends at once (Slurm cancels it,
 * reason DependencyNeverSatisfied) instead of waiting in the queue forever.
 * Pure; an id that is not a Slurm job id is refused.
 */
export function dependencyArgs(after: Dependency | undefined): string[] {
  if (!after || after.schedulerIds.length === 0) {
    return [];
  }
  const wrong = after.schedulerIds.find(id => !SLURM_JOB_ID.test(id));
  if (wrong !== undefined) {
    throw new Error(`${JSON.stringify(wrong)} is not a Slurm job id to wait for`);
  }
  const kind = after.any ? 'afterany' : 'afterok';
  return [`--dependency=${kind}:${after.schedulerIds.join(':')}`, '--kill-on-invalid-dep=yes'];
}

/** The sbatch arguments of a submission: resources, mail and the time-limit signal; pure. */
function submissionArgs(s: Submission, signalLeadSeconds: number, mailUser?: string): string[] {
  const r: Resources = s.resources ?? {};
  const args = [
    '--parsable',
    '--job-name',
    jobName(s.name),
    // stderr joins stdout in this one file: the log the companion serves.
    '--output',
    s.output,
    '--chdir',
    s.cwd,
    // A node failure ends the run with its reason; requeued, the notebook would
    // silently start over from its first cell and write its output again.
    '--no-requeue'
  ];
  if (s.array) {
    args.push(`--array=${s.array}`);
  }
  if (r.partition) {
    args.push('--partition', r.partition);
  }
  if (r.gpus && r.gpus > 0) {
    args.push(`--gres=gpu:${Math.floor(r.gpus)}`);
  }
  if (r.cpus && r.cpus > 0) {
    args.push('--cpus-per-task', String(Math.floor(r.cpus)));
  }
  if (r.memory) {
    args.push('--mem', r.memory);
  }
  if (r.time) {
    args.push('--time', r.time);
  }
  args.push(...mailArgs(s.mail, mailUser));
  args.push(...dependencyArgs(s.after));
  args.push(`--signal=B:USR1@${signalLead(r.time, signalLeadSeconds)}`, s.script);
  return args;
}

/** The sbatch arguments for one job; pure. */
export function sbatchArgs(spec: LaunchSpec, signalLeadSeconds = 60, mailUser?: string): string[] {
  return submissionArgs(
    {
      name: spec.name,
      output: slurmFilename(spec.logPath),
      cwd: spec.cwd,
      resources: spec.resources,
      mail: spec.mail,
      script: spec.scriptPath,
      after: spec.after
    },
    signalLeadSeconds,
    mailUser
  );
}

/**
 * The sbatch arguments for the tasks of one sweep as one job array: the
 * dispatcher as the script, each task's log at `<jobs>/<sweepId>-<index>/log.txt`
 * through Slurm's %a. Throws a clear error for specs that cannot be one array. Pure.
 */
export function arraySbatchArgs(
  specs: LaunchSpec[],
  opts: ArrayOptions,
  signalLeadSeconds = 60,
  mailUser?: string
): string[] {
  const { jobsDir, indices } = arrayTasks(specs, opts.sweepId);
  const first = specs[0];
  return submissionArgs(
    {
      name: first.name,
      output: `${slurmFilename(join(jobsDir, `${opts.sweepId}-`))}%a/log.txt`,
      cwd: first.cwd,
      resources: first.resources,
      mail: first.mail,
      script: join(opts.sweepDir, DISPATCHER),
      array: arraySpec(indices, opts.maxParallel),
      after: first.after
    },
    signalLeadSeconds,
    mailUser
  );
}

/**
 * Seconds before the time limit at which the job is warned (USR1) so it can
 * save its partial notebook. At most a quarter of a short limit: a 1-minute
 * job warned 60 s ahead would be told to stop before its first cell.
 */
export function signalLead(time: string | undefined, most: number): number {
  const limitMs = parseSlurmTime(time);
  if (limitMs === null) {
    return most;
  }
  return Math.max(5, Math.min(most, Math.floor(limitMs / 4000)));
}

function jobName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return clean || 'notebook';
}

/** Environment for sbatch: the job's own, less the SLURM_* of an enclosing job (a hub spawned by batchspawner). */
export function submitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('SLURM_') && key !== 'SLURM_CONF') {
      continue;
    }
    out[key] = value;
  }
  return out;
}
