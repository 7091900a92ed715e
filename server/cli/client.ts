/**
 * The CLI's side of the API: finds a companion running on this host through
 * the state directory (companions/, token), starts one in the background when
 * none answers, and makes requests over its socket or port. A companion started
 * here exits by itself when idle (HPC_SUBMIT_IDLE_EXIT_MINUTES, default 30):
 * the next command starts another.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';

import type { ApiError, CompanionFile } from '../../contract/wire';
import { companionsOnThisHost } from '../companionFiles';
import { underRoot } from '../jobs/store';

export type CompanionInfo = CompanionFile;

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class Client {
  constructor(
    readonly info: CompanionInfo,
    private readonly token: string | null
  ) {}

  request(
    method: string,
    path: string,
    body?: unknown,
    onData?: (chunk: string) => void
  ): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const target = this.info.socket
      ? { socketPath: this.info.socket }
      : { host: new URL(this.info.url).hostname, port: Number(new URL(this.info.url).port) };
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...target,
          method,
          path,
          headers: {
            ...(this.token ? { Authorization: `token ${this.token}` } : {}),
            ...(payload
              ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
              : {})
          }
        },
        res => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (onData ? onData(c) : (text += c)));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text })
          );
        }
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const reply = await this.request(method, path, body);
    if (reply.status >= 400) {
      throw refusalOf(reply);
    }
    return (reply.body ? JSON.parse(reply.body) : undefined) as T;
  }
}

function readToken(stateDir: string): string | null {
  try {
    return readFileSync(join(stateDir, 'token'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function clientOf(stateDir: string, info: CompanionInfo): Client {
  return new Client(info, info.socket ? null : readToken(stateDir));
}

async function answers(client: Client): Promise<boolean> {
  try {
    return (await client.request('GET', '/api/health')).status === 200;
  } catch {
    return false;
  }
}

/** The real path where there is one: roots are compared with a notebook's real path. */
export function realPath(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

function holds(info: CompanionInfo, path: string): boolean {
  const root = realPath(info.rootDir);
  return path === root || underRoot(root, path) !== null;
}

/**
 * The companions worth asking, in order. Lab's own (on its socket) first: it
 * never exits by itself, and its root is the one the user sees in the file
 * browser. For a run, only those whose root holds the notebook. Otherwise
 * any answers for the whole state directory; one whose root holds the given
 * root (the current folder) writes paths as the user sees them.
 */
function candidates(running: CompanionInfo[], opts: ConnectOptions): CompanionInfo[] {
  const labFirst = [...running.filter(c => c.socket), ...running.filter(c => !c.socket)];
  const { notebook, rootDir } = opts;
  if (notebook) {
    return labFirst.filter(c => holds(c, notebook));
  }
  return [...labFirst.filter(c => holds(c, rootDir)), ...labFirst.filter(c => !holds(c, rootDir))];
}

const DEFAULT_IDLE_EXIT_MINUTES = 30;

/**
 * How long a companion started here may sit idle (default 30 minutes). The
 * same variable sets the idle exit of a companion under jupyter-server-proxy,
 * which proxy.py reads itself (default 15 there) and mends the proxy to
 * start it again on the next request.
 */
function idleExitMinutes(): string {
  const given = process.env.HPC_SUBMIT_IDLE_EXIT_MINUTES?.trim();
  if (!given) {
    return String(DEFAULT_IDLE_EXIT_MINUTES);
  }
  if (!(Number(given) >= 0)) {
    throw new Error(
      `HPC_SUBMIT_IDLE_EXIT_MINUTES must be a number of minutes (0: never), not ${given}`
    );
  }
  return given;
}

export interface ConnectOptions {
  stateDir: string;
  /** The root of a companion started here (a real path). */
  rootDir: string;
  serveArgs: string[];
  /** For a run: the notebook's real path, which the companion's root must hold. */
  notebook?: string;
}

/**
 * A client of a companion running on this host (for a run, one whose root
 * holds the notebook), starting one (local port + token) when none answers.
 * Another host's companions are never asked: their socket or port is not
 * reachable from here, and they read the same state directory anyway.
 */
export async function connect(opts: ConnectOptions): Promise<Client> {
  const running = await companionsOnThisHost(opts.stateDir);
  for (const info of candidates(running, opts)) {
    const client = clientOf(opts.stateDir, info);
    if (await answers(client)) {
      return client;
    }
  }
  return startCompanion({ ...opts, rootDir: rootToStart(opts) });
}

/** The given root, unless it does not hold the notebook: then the notebook's folder. */
function rootToStart({ rootDir, notebook }: ConnectOptions): string {
  return notebook && underRoot(rootDir, notebook) === null ? dirname(notebook) : rootDir;
}

async function startCompanion(opts: ConnectOptions): Promise<Client> {
  const idleExit = idleExitMinutes();
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const logFd = openSync(join(opts.stateDir, 'companion.log'), 'a', 0o600);
  const child = spawn(
    process.execPath,
    // execArgv too: run from source, node needs its TypeScript loader again.
    [
      ...process.execArgv,
      process.argv[1],
      'serve',
      '--port',
      '0',
      '--state-dir',
      opts.stateDir,
      '--root-dir',
      opts.rootDir,
      '--idle-exit',
      idleExit,
      ...opts.serveArgs
    ],
    { detached: true, stdio: ['ignore', logFd, logFd] }
  );
  child.unref();
  let exited: number | null = null;
  child.once('exit', code => (exited = code ?? 1));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && exited === null) {
    await new Promise(r => setTimeout(r, 100));
    const info = (await companionsOnThisHost(opts.stateDir)).find(c => c.pid === child.pid);
    if (info && existsSync(join(opts.stateDir, 'token'))) {
      const client = clientOf(opts.stateDir, info);
      if (await answers(client)) {
        return client;
      }
    }
  }
  const why = exited === null ? 'it did not answer within 15 s' : `it exited with status ${exited}`;
  throw new Error(
    `could not start a companion (${why}); see ${join(opts.stateDir, 'companion.log')}`
  );
}

/** A refused request's error, in the companion's own sentence when it gave one. */
export function refusalOf(reply: Reply): Error {
  try {
    return new Error((JSON.parse(reply.body) as ApiError).error);
  } catch {
    return new Error(reply.body); // not JSON: show as is
  }
}
