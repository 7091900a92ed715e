/**
 * `hpc-submit serve`: wires the store, executor, poller, events and routes
 * together and listens, on a Unix socket (behind jupyter-server-proxy) or on
 * 127.0.0.1 with a token (started by hand).
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync
} from 'node:fs';
import { promises as fs } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createApp } from './http/app';
import { EventHub } from './http/events';
import { createExecutor, type ExecutorMode } from './executors';
import { jobEnvironment } from './env';
import { JobService } from './jobs/jobService';
import { KernelChecker } from './jobs/kernels';
import { Poller } from './jobs/poller';
import { loadProfiles } from './jobs/profiles';
import { JobStore, writeFileAtomic } from './jobs/store';
import { VERSION } from './version';
import type { CompanionFile } from '../contract/wire';

export interface ServeOptions {
  executor: ExecutorMode;
  rootDir: string;
  stateDir: string;
  profilesFile?: string;
  unixSocket?: string;
  port?: number;
  token?: string;
  pollIntervalMs?: number;
  maxConcurrent?: number;
}

export interface RunningCompanion {
  url: string;
  close(): Promise<void>;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || '.', '.local', 'share');
  return join(base, 'jupyterlab-hpc-submit');
}

const log = (line: string): void => {
  process.stderr.write(`[hpc-submit] ${line}\n`);
};

/**
 * The state directory holds every job's log and script: only its owner may
 * read it, even when it was made earlier with the umask's looser mode.
 */
function privateDirectory(dir: string): void {
  try {
    if ((statSync(dir).mode & 0o077) !== 0) {
      chmodSync(dir, 0o700);
      log(`made the state directory ${dir} private (mode 0700)`);
    }
  } catch (e) {
    log(`could not make the state directory ${dir} private: ${(e as Error).message}`);
  }
}

/** The token of a standalone companion: given, or kept in <state>/token (0600). */
async function standaloneToken(stateDir: string, given?: string): Promise<string> {
  if (given) {
    return given;
  }
  const file = join(stateDir, 'token');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) {
      return kept;
    }
  }
  const token = randomBytes(24).toString('hex');
  await writeFileAtomic(file, token + '\n', 0o600);
  return token;
}

export async function serve(opts: ServeOptions): Promise<RunningCompanion> {
  const rootDir = resolve(opts.rootDir);
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  privateDirectory(stateDir);
  const profiles = loadProfiles(opts.profilesFile);
  const store = new JobStore(stateDir);
  const { skipped } = store.load();
  if (skipped.length) {
    log(`skipped ${skipped.length} unreadable job record(s): ${skipped.slice(0, 5).join(', ')}`);
  }

  const executor = await createExecutor(opts.executor, {
    stateDir,
    maxConcurrent: opts.maxConcurrent
  });
  const events = new EventHub();
  const poller = new Poller(store, executor, events, { intervalMs: opts.pollIntervalMs, log });
  const scheduler = () => ({ reachable: poller.reachable, message: poller.message });
  const service = new JobService({
    rootDir,
    store,
    executor,
    events,
    profiles,
    scheduler,
    recheckScheduler: () => poller.recheck(),
    watch: id => poller.watch(id)
  });
  const kernels = new KernelChecker(() => jobEnvironment(process.env));
  const token = opts.unixSocket ? null : await standaloneToken(stateDir, opts.token);
  const app = createApp({
    service,
    events,
    kernels,
    executor,
    profiles,
    scheduler,
    version: VERSION,
    token,
    log
  });

  const server: Server = await new Promise((ok, fail) => {
    const where = listenTarget(opts);
    const s =
      typeof where === 'string'
        ? app.listen(where, () => ok(s))
        : app.listen(where.port, where.host, () => ok(s));
    s.once('error', fail);
  });
  let url: string;
  if (opts.unixSocket) {
    chmodSync(opts.unixSocket, 0o600);
    url = `unix:${opts.unixSocket}`;
  } else {
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }
  await writeFileAtomic(
    join(stateDir, 'companion.json'),
    JSON.stringify({
      url,
      socket: opts.unixSocket ?? null,
      pid: process.pid,
      rootDir,
      version: VERSION
    } satisfies CompanionFile) + '\n'
  );

  // Runs still going from before a restart are found again; queued local runs start.
  const live = store.live().filter(j => j.schedulerId && j.executor === executor.name);
  if (executor.adopt && live.length) {
    await executor.adopt(live.map(j => j.schedulerId as string));
  }
  poller.start();

  return {
    url,
    async close() {
      poller.stop();
      events.close();
      await new Promise<void>(ok => server.close(() => ok()));
      server.closeAllConnections?.();
      await executor.close?.();
      await fs.rm(join(stateDir, 'companion.json'), { force: true });
    }
  };
}

function listenTarget(opts: ServeOptions): string | { port: number; host: string } {
  if (opts.unixSocket) {
    mkdirSync(dirname(opts.unixSocket), { recursive: true, mode: 0o700 });
    // A socket left by a companion that died is in the way; anything else is not ours.
    if (existsSync(opts.unixSocket) && lstatSync(opts.unixSocket).isSocket()) {
      unlinkSync(opts.unixSocket);
    }
    return opts.unixSocket;
  }
  return { port: opts.port ?? 0, host: '127.0.0.1' };
}
