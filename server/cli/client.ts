/**
 * The CLI's side of the API: finds the running companion through the state
 * directory (companion.json, token), starts one in the background when none
 * answers, and makes requests over its socket or port. A companion started
 * here exits by itself when idle (HPC_SUBMIT_IDLE_EXIT_MINUTES, default 30):
 * the next command starts another.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

import type { CompanionFile } from '../../contract/wire';

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
      let message = reply.body;
      try {
        message = (JSON.parse(reply.body) as { error: string }).error;
      } catch {
        // not JSON: show as is
      }
      throw new Error(message);
    }
    return (reply.body ? JSON.parse(reply.body) : undefined) as T;
  }
}

function readInfo(stateDir: string): CompanionInfo | null {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'companion.json'), 'utf8')) as CompanionInfo;
  } catch {
    return null;
  }
}

function readToken(stateDir: string): string | null {
  try {
    return readFileSync(join(stateDir, 'token'), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

async function answers(client: Client): Promise<boolean> {
  try {
    return (await client.request('GET', '/api/health')).status === 200;
  } catch {
    return false;
  }
}

/** A live process of this user: signal 0 reaches no one else's (EPERM) and no dead one (ESRCH). */
function isOwnProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const DEFAULT_IDLE_EXIT_MINUTES = 30;

/**
 * How long a companion started here may sit idle. Only the CLI reads the
 * variable: a companion under jupyter-server-proxy, which inherits the same
 * environment, must keep running (the proxy does not start it again after a
 * clean exit).
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

/** A client of the running companion, starting one (local port + token) when none answers. */
export async function connect(opts: {
  stateDir: string;
  rootDir: string;
  serveArgs: string[];
}): Promise<Client> {
  const known = readInfo(opts.stateDir);
  // A companion.json left by one that was killed names a pid that is gone, or
  // someone else's: the token is not sent to whoever holds that port now.
  if (known && isOwnProcess(known.pid)) {
    const client = new Client(known, known.socket ? null : readToken(opts.stateDir));
    if (await answers(client)) {
      return client;
    }
  }
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
    const info = readInfo(opts.stateDir);
    if (info && info.pid === child.pid && existsSync(join(opts.stateDir, 'token'))) {
      const client = new Client(info, readToken(opts.stateDir));
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
