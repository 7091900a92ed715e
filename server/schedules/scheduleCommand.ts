/**
 * The command a schedule's scrontab entry runs: `hpc-submit scheduled ID`
 * with this companion's state, root and profiles, and the PATH and
 * HPC_SUBMIT_* settings it runs with (a scrontab job starts with a bare
 * environment). Every word quoted by shellQuote; no secret goes in.
 */
import { isSecretName } from '../env';
import { shellQuote } from '../runtime/shellQuote';

export interface ScheduleCommandOptions {
  /** How hpc-submit is started here: node and its script. */
  cli: string[];
  stateDir: string;
  rootDir: string;
  profilesFile?: string;
  configPath?: string;
  env: NodeJS.ProcessEnv;
}

/** The settings a companion started by the entry needs to be this one's twin. */
function carried(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([name, value]) => value !== undefined && value !== '')
    .filter(([name]) => name === 'PATH' || name.startsWith('HPC_SUBMIT_'))
    .filter(([name]) => !isSecretName(name))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`);
}

export function scheduleCommand(id: string, opts: ScheduleCommandOptions): string {
  const words = [
    '/usr/bin/env',
    ...carried(opts.env),
    ...opts.cli,
    'scheduled',
    id,
    '--state-dir',
    opts.stateDir,
    '--root-dir',
    opts.rootDir,
    '--executor',
    'slurm',
    ...(opts.profilesFile ? ['--profiles', opts.profilesFile] : []),
    ...(opts.configPath ? ['--config-path', opts.configPath] : [])
  ];
  return words.map(shellQuote).join(' ');
}
