/**
 * How the CLI finds a running companion: each one writes
 * `<state>/companions/<host>-<pid>.json` (a `CompanionFile`) once it listens
 * and removes it when it stops. The state directory may be shared by several
 * hosts (one home directory on a network filesystem): a socket or a
 * 127.0.0.1 port is reachable from its own host only, so a reader keeps to
 * the files of its host, and one file per companion lets the hub's companion
 * and a login node's (or two roots on one host) run side by side without
 * overwriting each other's address.
 */
import { isOwnPid } from './processes';
import { promises as fs, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CompanionFile } from '../contract/wire';
import { writeStateFile } from './jobs/storage';

const FOLDER = 'companions';

/** A hostname as part of a file name: nothing that could leave the folder. */
function fileHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '_');
}

function fileOf(stateDir: string, host: string, pid: number): string {
  return join(stateDir, FOLDER, `${fileHost(host)}-${pid}.json`);
}

/** The pid a file of this host names; null for another host's file (or none of ours). */
function pidOfOwnHostFile(name: string, host: string): number | null {
  const prefix = `${fileHost(host)}-`;
  if (!name.startsWith(prefix) || !name.endsWith('.json')) {
    return null;
  }
  // "login-1-42.json" is not a file of host "login": its middle is not a pid.
  const middle = name.slice(prefix.length, -'.json'.length);
  return /^\d+$/.test(middle) ? Number(middle) : null;
}

/** A live process of this user's: one that has ended but is not reaped yet is not. */
function isOwnProcess(pid: number): boolean {
  return isOwnPid(pid) && !isZombie(pid);
}

/**
 * A killed companion nobody has reaped yet (no init in a container) still
 * takes signal 0, but will never answer again. Where there is no /proc, it
 * counts as running.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return false;
  }
}

/** Called by `serve` once it listens; the file is this process's (host, pid), mode 0600. */
export async function writeCompanionFile(
  stateDir: string,
  info: Omit<CompanionFile, 'host' | 'pid'>,
  host: string = hostname()
): Promise<void> {
  await fs.mkdir(join(stateDir, FOLDER), { recursive: true, mode: 0o700 });
  const file: CompanionFile = { ...info, host, pid: process.pid };
  await writeStateFile(fileOf(stateDir, host, process.pid), JSON.stringify(file) + '\n');
}

/** Called by `serve` when it stops: its own file only, whatever others run beside it. */
export async function removeCompanionFile(
  stateDir: string,
  host: string = hostname()
): Promise<void> {
  await fs.rm(fileOf(stateDir, host, process.pid), { force: true });
}

/**
 * The companions this host runs, by their files. A file of this host whose
 * process is gone (killed, or the host rebooted), or is now someone else's,
 * is removed: its port may be anyone's by now, and the token must not go
 * there. Other hosts' files are left alone: this host cannot tell whether
 * they live.
 */
export async function companionsOnThisHost(
  stateDir: string,
  host: string = hostname()
): Promise<CompanionFile[]> {
  const names = await fs.readdir(join(stateDir, FOLDER)).catch(() => [] as string[]);
  const found: CompanionFile[] = [];
  for (const name of names.sort()) {
    const pid = pidOfOwnHostFile(name, host);
    if (pid === null) {
      continue;
    }
    const path = join(stateDir, FOLDER, name);
    if (!isOwnProcess(pid)) {
      await fs.rm(path, { force: true });
      continue;
    }
    const info = await readCompanionFile(path);
    if (info && info.host === host && info.pid === pid) {
      found.push(info);
    }
  }
  return found;
}

async function readCompanionFile(path: string): Promise<CompanionFile | null> {
  try {
    const v = JSON.parse(await fs.readFile(path, 'utf8')) as Partial<CompanionFile>;
    const complete =
      typeof v.url === 'string' &&
      typeof v.rootDir === 'string' &&
      typeof v.pid === 'number' &&
      typeof v.host === 'string';
    return complete ? (v as CompanionFile) : null;
  } catch {
    return null; // removed meanwhile, or not ours to read
  }
}
