/**
 * One writer per state directory. The hub and the login node share one home
 * directory (a network filesystem), so two companions can run over the same
 * state directory. Only the holder of the lease (`owner.json`: host, pid,
 * heartbeat) polls the scheduler and updates job records; the others serve
 * reads from the files and submit or cancel through files that only they
 * write. See docs/ARCHITECTURE.md, "Several hosts, one state directory".
 *
 * A lease is stale when its heartbeat has not changed for `ttlMs` by this
 * host's own clock (so clock skew between hosts does not matter), or at once
 * when it names this host and a pid that is gone.
 */
import { pidExists } from '../processes';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeStateFile } from './storage';

export interface Lease {
  companionId: string;
  host: string;
  pid: number;
  /** Changes at every renewal; only compared for change, never against a clock. */
  heartbeat: string;
}

export interface LeaseIdentity {
  companionId: string;
  host: string;
  pid: number;
}

export type LeaseRole = 'owner' | 'follower';

/** What the last reading of the lease said, by this host's clock. */
export interface LeaseSighting {
  heartbeat: string;
  seenAtMs: number;
}

export type LeaseVerdict = 'mine' | 'held' | 'free';

/** Pure: whose lease is it now? */
export function judgeLease(
  lease: Lease | null,
  me: LeaseIdentity,
  sighting: LeaseSighting | null,
  nowMs: number,
  ttlMs: number,
  pidAlive: (pid: number) => boolean
): LeaseVerdict {
  if (!lease) {
    return 'free';
  }
  if (lease.companionId === me.companionId) {
    return 'mine';
  }
  if (lease.host === me.host && !pidAlive(lease.pid)) {
    return 'free';
  }
  if (sighting && sighting.heartbeat === lease.heartbeat && nowMs - sighting.seenAtMs >= ttlMs) {
    return 'free';
  }
  return 'held';
}

export function parseLease(text: string): Lease | null {
  try {
    const v = JSON.parse(text) as Partial<Lease>;
    if (
      typeof v.companionId === 'string' &&
      typeof v.host === 'string' &&
      typeof v.pid === 'number' &&
      typeof v.heartbeat === 'string'
    ) {
      return v as Lease;
    }
  } catch {
    // a torn or foreign file counts as no lease
  }
  return null;
}

export interface LeaseKeeperOptions {
  stateDir: string;
  host?: string;
  /** How often the owner renews and a follower looks (ms). */
  heartbeatMs?: number;
  /** How long an unchanged heartbeat means a dead owner (ms). */
  ttlMs?: number;
  /** How long a taker waits before reading back whether it won a race (ms). */
  settleMs?: number;
  log?: (line: string) => void;
}

export const LEASE_FILE = 'owner.json';

export class LeaseKeeper {
  readonly identity: LeaseIdentity;
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  private readonly settleMs: number;
  private readonly path: string;
  private readonly log: (line: string) => void;
  private readonly listeners = new Set<(role: LeaseRole) => void>();
  private sighting: LeaseSighting | null = null;
  private current: LeaseRole = 'follower';
  private holder: Lease | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> = Promise.resolve();

  constructor(opts: LeaseKeeperOptions) {
    this.identity = {
      companionId: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      host: opts.host ?? hostname(),
      pid: process.pid
    };
    this.heartbeatMs = opts.heartbeatMs ?? 2000;
    this.ttlMs = opts.ttlMs ?? 15_000;
    this.settleMs = opts.settleMs ?? 300;
    this.path = join(opts.stateDir, LEASE_FILE);
    this.log = opts.log ?? (() => undefined);
  }

  get role(): LeaseRole {
    return this.current;
  }

  /** The lease as last read: who writes the records now. */
  get owner(): LeaseIdentity | null {
    return this.current === 'owner' ? this.identity : this.holder;
  }

  onChange(listener: (role: LeaseRole) => void): void {
    this.listeners.add(listener);
  }

  /** Takes the lease if it is free, then keeps checking. */
  async start(): Promise<LeaseRole> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.timer.unref();
    return this.current;
  }

  /** Gives the lease up (when it is still ours), so another host takes over at once. */
  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
    }
    this.timer = null;
    await this.ticking;
    if (
      this.current === 'owner' &&
      (await this.read())?.companionId === this.identity.companionId
    ) {
      await fs.rm(this.path, { force: true });
    }
  }

  /** One look at the lease; serialized so that two ticks never interleave. */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => this.look()).catch(e => this.log(`lease: ${e}`));
    return this.ticking;
  }

  private async look(): Promise<void> {
    const lease = await this.read();
    const verdict = judgeLease(
      lease,
      this.identity,
      this.sighting,
      Date.now(),
      this.ttlMs,
      pidExists
    );
    this.remember(lease);
    if (verdict === 'mine') {
      await this.write();
      this.become('owner');
    } else if (verdict === 'free') {
      await this.take(lease);
    } else {
      this.holder = lease;
      this.become('follower');
    }
  }

  /** Writes our lease, waits, and reads back: of two takers the last rename wins. */
  private async take(previous: Lease | null): Promise<void> {
    await this.write();
    await new Promise(resolve => setTimeout(resolve, this.settleMs));
    const after = await this.read();
    this.remember(after);
    if (after?.companionId === this.identity.companionId) {
      if (previous) {
        this.log(`took over the state directory from ${previous.host} (pid ${previous.pid})`);
      }
      this.become('owner');
    } else {
      this.holder = after;
      this.become('follower');
    }
  }

  private remember(lease: Lease | null): void {
    if (!lease) {
      this.sighting = null;
    } else if (this.sighting?.heartbeat !== lease.heartbeat) {
      this.sighting = { heartbeat: lease.heartbeat, seenAtMs: Date.now() };
    }
  }

  private become(role: LeaseRole): void {
    if (role === this.current) {
      return;
    }
    this.current = role;
    if (role === 'owner') {
      this.holder = null;
    }
    this.log(
      role === 'owner'
        ? `this companion (${this.identity.host}, pid ${this.identity.pid}) writes the state directory`
        : `another companion writes the state directory (${this.holder?.host}, pid ${this.holder?.pid}); serving reads`
    );
    for (const listener of this.listeners) {
      listener(role);
    }
  }

  private async write(): Promise<void> {
    const heartbeat = `${Date.now()}-${randomBytes(3).toString('hex')}`;
    const lease: Lease = { ...this.identity, heartbeat };
    await writeStateFile(this.path, JSON.stringify(lease) + '\n');
  }

  private async read(): Promise<Lease | null> {
    try {
      return parseLease(await fs.readFile(this.path, 'utf8'));
    } catch {
      return null;
    }
  }
}
