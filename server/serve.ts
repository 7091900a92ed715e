/**
 * `hpc-submit serve`: wires the store, executor, poller, events and routes
 * together and listens, on a Unix socket (behind jupyter-server-proxy) or on
 * 127.0.0.1 with a token (started by hand).
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync
} from 'node:fs';
import type { Server } from 'node:http';
import type { Express } from 'express';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createApp } from './http/app';
import { EventHub } from './http/events';
import { createExecutor, type ExecutorMode } from './executors';
import type { Executor } from './executors/executor';
import { jobEnvironment } from './env';
import { JobService } from './jobs/jobService';
import { KernelChecker } from './jobs/kernels';
import { ProjectEnvironments } from './jobs/projectEnvironments';
import { machineHasGpu } from './jobs/projectFinder';
import { SetupTasks } from './jobs/setupTasks';
import { Poller } from './jobs/poller';
import { SchedulerHealthHolder } from './jobs/schedulerHealth';
import { loadProfileSet, splitConfigPath, type ProfileSet } from './jobs/profileSources';
import { JobStore, toWire } from './jobs/store';
import { writeFileAtomic } from './atomicWrite';
import { LeaseKeeper } from './jobs/lease';
import { NotebookValidator } from './jobs/notebookValidation';
import { createWebhook } from './jobs/webhook';
import { removeCompanionFile, writeCompanionFile } from './companionFiles';
import { VERSION } from './version';
import { exitWhenIdle, type IdleExitOptions } from './idleExit';
import { ScheduleService } from './schedules/scheduleService';
import { scheduleCommand } from './schedules/scheduleCommand';

export interface ServeOptions {
  executor: ExecutorMode;
  rootDir: string;
  stateDir: string;
  profilesFile?: string;
  /** Jupyter's config directories, highest priority first, joined by ':'. */
  configPath?: string;
  unixSocket?: string;
  port?: number;
  token?: string;
  pollIntervalMs?: number;
  maxConcurrent?: number;
  /** Given for a companion the CLI started: exit when no job is live and no request comes. */
  idleExit?: IdleExitOptions;
  /** How hpc-submit is started here, for a schedule's scrontab entry; default: this process's node and script. */
  cliCommand?: string[];
  /** POSTed to when a run ends (jobs/webhook.ts); a secret: never logged or written. */
  webhookUrl?: string;
  /**
   * Told once the companion listens and its file says so: it answers from
   * then on, while the state directory's lease settles (about 300 ms more),
   * after which the lease holder's poller starts.
   */
  onListening?: (url: string) => void;
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

/**
 * The token of a standalone companion: given, or kept in <state>/token (0600),
 * shared by every standalone companion of the state directory. Made with a
 * hard link, which fails when the file exists: of two companions starting
 * together, both end up with the first one's token.
 */
async function standaloneToken(stateDir: string, given?: string): Promise<string> {
  if (given) {
    return given;
  }
  const file = join(stateDir, 'token');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (kept) {
    return kept;
  }
  if (existsSync(file)) {
    unlinkSync(file); // empty: made by a companion that died while writing it
  }
  const draft = `${file}.${process.pid}.new`;
  await writeFileAtomic(draft, randomBytes(24).toString('hex') + '\n', 0o600);
  try {
    linkSync(draft, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw e;
    }
  } finally {
    unlinkSync(draft);
  }
  return readFileSync(file, 'utf8').trim();
}

export async function serve(opts: ServeOptions): Promise<RunningCompanion> {
  const rootDir = resolve(opts.rootDir);
  const stateDir = resolve(opts.stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  privateDirectory(stateDir);
  const profileSet = loadProfileSet(opts.profilesFile, splitConfigPath(opts.configPath));
  for (const problem of profileSet.problems) {
    log(`profiles: ${problem}`);
  }
  const scheduler = new SchedulerHealthHolder();
  const events = new EventHub(scheduler);
  const store = openStore(stateDir, rootDir, events);
  const executor = await createExecutor(opts.executor, {
    stateDir,
    maxConcurrent: opts.maxConcurrent
  });
  const token = opts.unixSocket ? null : await standaloneToken(stateDir, opts.token);
  const lease = new LeaseKeeper({ stateDir, log });
  const validator = new NotebookValidator(log);
  const parts = assemble({
    opts,
    rootDir,
    store,
    executor,
    profileSet,
    token,
    scheduler,
    events,
    validator,
    holdsLease: () => lease.role === 'owner'
  });

  const server = await listen(parts.app, opts);
  const url = opts.unixSocket
    ? `unix:${opts.unixSocket}`
    : `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  // Before the companion file says "ready": a request that comes then must count as activity.
  if (opts.idleExit) {
    exitWhenIdle(server, () => store.live().length > 0, opts.idleExit);
  }
  await writeCompanionFile(stateDir, {
    url,
    socket: opts.unixSocket ?? null,
    rootDir,
    version: VERSION
  });
  opts.onListening?.(url);
  await writeWhileHoldingLease(lease, parts.poller);
  const rescan = followOtherCompanions(store);

  return {
    url,
    async close() {
      clearInterval(rescan);
      parts.poller.stop();
      await lease.stop();
      events.close();
      await new Promise<void>(ok => server.close(() => ok()));
      server.closeAllConnections?.();
      await executor.close?.();
      validator.stop();
      await removeCompanionFile(stateDir);
    }
  };
}

/**
 * Only the holder of the state directory's lease asks the scheduler and
 * updates records after submission: the poller runs while this companion
 * holds it, after taking over the runs of this host that lost their companion.
 */
async function writeWhileHoldingLease(lease: LeaseKeeper, poller: Poller): Promise<void> {
  const write = async () => {
    await poller.adopt();
    poller.start();
  };
  lease.onChange(role => (role === 'owner' ? void write() : poller.stop()));
  if ((await lease.start()) === 'owner') {
    await write();
  }
}

/**
 * What other companions over this state directory write (another host, another
 * root) reaches this one's browsers within a second (the store publishes what
 * a rescan brings in): new runs, their changes while another companion holds
 * the lease, and forgotten ones.
 */
function followOtherCompanions(store: JobStore): NodeJS.Timeout {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) {
      return;
    }
    busy = true;
    try {
      await store.rescan();
    } catch (e) {
      log(`cannot read the state directory: ${(e as Error).message}`);
    } finally {
      busy = false;
    }
  }, RESCAN_MS);
  timer.unref();
  return timer;
}

const RESCAN_MS = 1000;

/** The job index, rebuilt from the state directory; unreadable records are named and skipped. */
function openStore(stateDir: string, rootDir: string, events: EventHub): JobStore {
  const store = new JobStore(stateDir, rootDir, events);
  const { skipped } = store.load();
  if (skipped.length) {
    log(`skipped ${skipped.length} unreadable job record(s): ${skipped.slice(0, 5).join(', ')}`);
  }
  return store;
}

interface Parts {
  opts: ServeOptions;
  rootDir: string;
  store: JobStore;
  executor: Executor;
  profileSet: ProfileSet;
  token: string | null;
  scheduler: SchedulerHealthHolder;
  events: EventHub;
  validator: NotebookValidator;
  holdsLease: () => boolean;
}

/**
 * The companion's parts, each given what it reads and writes. The poller is
 * the only writer of the scheduler's health; the others read it.
 */
function assemble(parts: Parts) {
  const { opts, rootDir, store, executor, profileSet, token, scheduler, events } = parts;
  const { profiles } = profileSet;
  const webhook = opts.webhookUrl ? createWebhook(opts.webhookUrl, { log }) : null;
  if (webhook) {
    log(`posting the end of each run to ${webhook.target}`);
  }
  const poller = new Poller(store, executor, events, scheduler, {
    intervalMs: opts.pollIntervalMs,
    view: record => toWire(record, rootDir),
    onEnded: job => void webhook?.onJobEvent({ type: 'job', job }),
    log
  });
  const kernels = new KernelChecker(() => jobEnvironment(process.env));
  const environments = new ProjectEnvironments({
    rootDir,
    profiles,
    // A kernel made or an environment installed: what was asked of the environments is stale.
    tasks: new SetupTasks(() => kernels.forget()),
    env: () => jobEnvironment(process.env),
    hasGpu: machineHasGpu
  });
  const service = new JobService({
    rootDir,
    store,
    executor,
    profiles,
    environments,
    scheduler,
    validator: parts.validator,
    holdsLease: parts.holdsLease,
    recheckScheduler: () => poller.recheck(),
    pollSoon: () => poller.pollSoon()
  });
  const schedules = new ScheduleService({
    stateDir: opts.stateDir,
    crontab: executor.crontab ?? null,
    checkRun: request => service.checkRun(request),
    checkPipeline: request => service.checkPipeline(request),
    submitRun: async request => {
      const { body } = await service.submit(request);
      return 'sweep' in body ? body.sweep.id : body.id;
    },
    submitPipeline: async request => (await service.submitPipeline(request)).body.pipeline.id,
    entryCommand: id =>
      scheduleCommand(id, {
        cli: opts.cliCommand ?? cliCommandHere(),
        stateDir: resolve(opts.stateDir),
        rootDir,
        profilesFile: opts.profilesFile ? resolve(opts.profilesFile) : undefined,
        configPath: opts.configPath,
        env: process.env
      })
  });
  const app = createApp({
    service,
    schedules,
    events,
    kernels,
    executor,
    profiles,
    profileOrigins: profileSet,
    scheduler,
    version: VERSION,
    token,
    log
  });
  return { app, poller, service };
}

/**
 * How this hpc-submit is started again, from a scrontab job: node and its
 * script (HPC_SUBMIT_SCHEDULE_CLI names another script, e.g. the bundle,
 * where this process runs from source).
 */
function cliCommandHere(): string[] {
  const script = process.env.HPC_SUBMIT_SCHEDULE_CLI;
  return script
    ? [process.execPath, script]
    : [process.execPath, ...process.execArgv, process.argv[1]];
}

function listen(app: Express, opts: ServeOptions): Promise<Server> {
  return new Promise((ok, fail) => {
    const where = listenTarget(opts);
    const s =
      typeof where === 'string'
        ? app.listen(where, () => {
            // Only its owner may connect; the Jupyter server proxies for the browser.
            chmodSync(where, 0o600);
            ok(s);
          })
        : app.listen(where.port, where.host, () => ok(s));
    s.once('error', fail);
  });
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
