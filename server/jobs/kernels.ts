/**
 * Whether a profile's kernel exists in its environment, asked of the
 * environment itself (`<launcher…> <python> -m jupyter kernelspec list
 * --json`), and the one command that creates it. A run with a missing kernel
 * would fail on the compute node after its wait in the queue; this says so
 * before the click.
 */
import { CommandNotRun, runCommand } from '../runCommand';
import type { Profile, ProfileProblem, ProfileStatus } from '../../contract/wire';
import { shellQuote } from '../runtime/shellQuote';
import { PIXI, PIXI_INSTALL_HINT } from './projectChoices';

const CHECK_TIMEOUT_MS = 60_000;
const CACHE_MS = 60_000;

export function launchCommand(profile: Profile, args: string[]): string[] {
  return [...profile.launcher, profile.python || 'python', ...args];
}

/** The command that installs the profile's kernel. */
export function kernelInstallCommand(profile: Profile): string[] {
  return launchCommand(profile, ['-m', 'ipykernel', 'install', '--user', '--name', profile.kernel]);
}

const displayCommand = (argv: string[]): string => argv.map(shellQuote).join(' ');

/** What the environment answered; 'ENOENT' when its launcher is missing. */
interface RunResult {
  code: number | 'ENOENT' | 'timed out';
  stdout: string;
  stderr: string;
}

async function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = CHECK_TIMEOUT_MS
): Promise<RunResult> {
  try {
    return await runCommand(argv, { env, timeoutMs, maxBuffer: 8 * 1024 * 1024 });
  } catch (e) {
    const why = e instanceof CommandNotRun ? e.why : undefined;
    const stderr = (e as Error).message;
    return { code: why === 'missing' ? 'ENOENT' : 'timed out', stdout: '', stderr };
  }
}

/** The environment's own last line on a failure, short enough for a message. */
function lastWords(result: RunResult): string {
  return (result.stderr.trim().split('\n').pop() || `exit ${result.code}`).slice(0, 300);
}

/** Pure: the problems of one profile from the kernelspec listing's outcome. */
function kernelProblems(profile: Profile, result: RunResult): ProfileProblem[] {
  const launcher = profile.launcher[0] ?? profile.python ?? 'python';
  if (result.code === 'ENOENT') {
    return [
      {
        code: 'launcher-missing',
        message: `"${launcher}" is not on PATH of the companion, so the profile's environment cannot be entered`,
        fix: profile.launcher[0] === PIXI ? PIXI_INSTALL_HINT : undefined
      }
    ];
  }
  if (result.code !== 0) {
    return [
      {
        code: 'environment-broken',
        message: `the environment does not run jupyter: ${lastWords(result)}`,
        fix: displayCommand(
          launchCommand(profile, ['-m', 'pip', 'install', 'ipykernel', 'nbconvert'])
        )
      }
    ];
  }
  let names: string[] = [];
  try {
    names = Object.keys((JSON.parse(result.stdout) as { kernelspecs?: object }).kernelspecs ?? {});
  } catch {
    return [
      {
        code: 'environment-broken',
        message: 'the environment answered no kernel list (jupyter kernelspec list --json)'
      }
    ];
  }
  if (!names.includes(profile.kernel)) {
    return [
      {
        code: 'kernel-missing',
        message: `the kernel "${profile.kernel}" is not installed in this profile's environment`,
        fix: displayCommand(kernelInstallCommand(profile))
      }
    ];
  }
  return [];
}

export class KernelChecker {
  private readonly cache = new Map<string, { at: number; problems: Promise<ProfileProblem[]> }>();

  constructor(private readonly env: () => NodeJS.ProcessEnv) {}

  /**
   * The profile's problems, asked of `probe`: the same environment entered
   * another way (a pixi environment's own python, which never makes pixi
   * solve or install); the fixes name the profile's own launcher.
   */
  problems(profile: Profile, probe: Profile = profile): Promise<ProfileProblem[]> {
    const key = JSON.stringify([probe.launcher, probe.python, profile.launcher, profile.kernel]);
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) {
      return hit.problems;
    }
    const problems = run(
      launchCommand(probe, ['-m', 'jupyter', 'kernelspec', 'list', '--json']),
      this.env()
    ).then(result => kernelProblems(profile, result));
    this.cache.set(key, { at: Date.now(), problems });
    return problems;
  }

  async status(
    profile: Profile,
    extra: ProfileProblem[] = [],
    probe: Profile = profile
  ): Promise<ProfileStatus> {
    const problems = [...(await this.problems(profile, probe)), ...extra];
    return { ...profile, available: problems.length === 0, problems };
  }

  /** What is known of the environments may have changed (a kernel made, an environment installed). */
  forget(): void {
    this.cache.clear();
  }
}
