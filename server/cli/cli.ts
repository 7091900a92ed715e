/**
 * hpc-submit: the companion (serve) and its command line for terminal and
 * VS Code users on the login node.
 */
import { realpathSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { Job, JobList } from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import { connect } from './client';
import { doctor, formatFindings } from './doctor';
import type { ExecutorMode } from '../executors';
import { defaultStateDir, serve } from '../serve';
import { VERSION } from '../version';

const USAGE = `usage: hpc-submit <command> [options]

  serve [--executor auto|slurm|local] [--root-dir DIR] [--state-dir DIR]
        [--profiles FILE] (--unix-socket PATH | --port N [--token T])
        [--poll-interval SECONDS] [--max-concurrent N]
  run NOTEBOOK [--profile ID] [--wait]
  list
  status ID
  logs ID [--follow]
  cancel ID
  doctor

Environment: HPC_SUBMIT_EXECUTOR, HPC_SUBMIT_PROFILES, HPC_SUBMIT_STATE_DIR.`;

interface Parsed {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set([
  'executor',
  'root-dir',
  'state-dir',
  'profiles',
  'unix-socket',
  'port',
  'token',
  'profile',
  'poll-interval',
  'max-concurrent'
]);

export function parseArgs(argv: string[]): Parsed {
  const [command = 'help', ...rest] = argv;
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (VALUE_FLAGS.has(name)) {
      const value = inline ?? rest[++i];
      if (value === undefined) {
        throw new Error(`--${name} needs a value`);
      }
      flags.set(name, value);
    } else if (['wait', 'follow', 'help'].includes(name)) {
      flags.set(name, true);
    } else {
      throw new Error(`unknown option --${name}`);
    }
  }
  return { command, positional, flags };
}

function str(p: Parsed, name: string, fallback?: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : fallback;
}

function executorMode(p: Parsed): ExecutorMode {
  const mode = str(p, 'executor', process.env.HPC_SUBMIT_EXECUTOR || 'auto') as string;
  if (!['auto', 'slurm', 'local'].includes(mode)) {
    throw new Error(`--executor must be auto, slurm or local, not ${mode}`);
  }
  return mode as ExecutorMode;
}

function describe(job: Job): string {
  const progress = job.progress ? ` cell ${job.progress.cell}/${job.progress.total}` : '';
  const where = job.node ? ` on ${job.node}` : '';
  return `${job.id}  ${job.state.padEnd(9)} ${job.profile.padEnd(6)} ${job.notebook}${where}${progress}${job.reason ? `  (${job.reason})` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv);
  if (p.command === 'help' || p.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  if (p.command === 'version' || p.command === '--version') {
    console.log(VERSION);
    return 0;
  }
  const stateDir = resolve(
    str(p, 'state-dir', process.env.HPC_SUBMIT_STATE_DIR || defaultStateDir()) as string
  );
  const rootDir = resolve(str(p, 'root-dir', process.cwd()) as string);
  const profilesFile = str(p, 'profiles', process.env.HPC_SUBMIT_PROFILES || undefined);

  if (p.command === 'serve') {
    const port = str(p, 'port');
    const poll = str(p, 'poll-interval');
    const companion = await serve({
      executor: executorMode(p),
      rootDir,
      stateDir,
      profilesFile,
      unixSocket: str(p, 'unix-socket'),
      port: port === undefined ? 0 : Number(port),
      token: str(p, 'token'),
      pollIntervalMs: poll ? Number(poll) * 1000 : undefined,
      maxConcurrent: str(p, 'max-concurrent') ? Number(str(p, 'max-concurrent')) : undefined
    });
    console.log(`hpc-submit listening on ${companion.url}`);
    const stop = async () => {
      await companion.close();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return -1; // keep running
  }

  if (p.command === 'doctor') {
    const found = await doctor({ executor: executorMode(p), stateDir, rootDir, profilesFile });
    console.log(formatFindings(found));
    return found.every(f => f.ok) ? 0 : 1;
  }

  const serveArgs = [
    '--executor',
    executorMode(p),
    ...(profilesFile ? ['--profiles', profilesFile] : [])
  ];
  const client = await connect({ stateDir, rootDir, serveArgs });
  const id = p.positional[0];
  const needId = () => {
    if (!id) {
      throw new Error(`${p.command} needs a job id (see hpc-submit list)`);
    }
    return encodeURIComponent(id);
  };
  switch (p.command) {
    case 'run': {
      if (!id) {
        throw new Error('run needs a notebook path');
      }
      const root = realpathSync(client.info.rootDir);
      const notebook = relative(root, realpathSync(resolve(id)));
      if (notebook.startsWith('..')) {
        throw new Error(`${id} is outside the companion's root ${root}`);
      }
      const job = await client.json<Job>('POST', '/api/jobs', {
        notebook: notebook.split(sep).join('/'),
        profile: str(p, 'profile', 'gpu')
      });
      console.log(describe(job));
      if (!p.flags.has('wait')) {
        return 0;
      }
      return waitFor(client, job.id);
    }
    case 'list': {
      const { jobs } = await client.json<JobList>('GET', '/api/jobs');
      console.log(jobs.length ? jobs.map(describe).join('\n') : 'no jobs');
      return 0;
    }
    case 'status': {
      const job = await client.json<Job>('GET', `/api/jobs/${needId()}`);
      console.log(JSON.stringify(job, null, 2));
      return 0;
    }
    case 'cancel': {
      console.log(describe(await client.json<Job>('POST', `/api/jobs/${needId()}/cancel`)));
      return 0;
    }
    case 'logs': {
      let offset = 0;
      for (;;) {
        const reply = await client.request('GET', `/api/jobs/${needId()}/log?offset=${offset}`);
        if (reply.status >= 400) {
          throw new Error(JSON.parse(reply.body).error);
        }
        process.stdout.write(reply.body);
        offset = Number(reply.headers['x-log-offset'] ?? offset);
        if (!p.flags.has('follow')) {
          return 0;
        }
        const job = await client.json<Job>('GET', `/api/jobs/${needId()}`);
        if (isFinal(job) && reply.body === '') {
          return 0;
        }
        if (reply.body === '') {
          await new Promise(r => setTimeout(r, 1000));
        }
      }
    }
    default:
      throw new Error(`unknown command ${p.command}\n\n${USAGE}`);
  }
}

/** Waits until the job ends (the companion answers from memory); exit 0 only when it completed. */
async function waitFor(client: Awaited<ReturnType<typeof connect>>, id: string): Promise<number> {
  for (;;) {
    const job = await client.json<Job>('GET', `/api/jobs/${encodeURIComponent(id)}`);
    if (isFinal(job)) {
      console.log(describe(job));
      return job.state === 'completed' ? 0 : 1;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

main(process.argv.slice(2)).then(
  code => {
    if (code >= 0) {
      process.exit(code);
    }
  },
  (e: Error) => {
    console.error(`hpc-submit: ${e.message}`);
    process.exit(2);
  }
);
