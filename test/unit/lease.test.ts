/**
 * The state-directory lease: the pure verdict, and real keepers (in this
 * process, over a real temporary directory) taking, holding, renewing and
 * handing over the lease.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LEASE_FILE,
  LeaseKeeper,
  judgeLease,
  parseLease,
  type Lease
} from '../../server/jobs/lease';

const me = { companionId: 'me', host: 'hub', pid: 100 };
const other = (over: Partial<Lease> = {}): Lease => ({
  companionId: 'other',
  host: 'login1',
  pid: 200,
  heartbeat: 'h1',
  ...over
});
const alive = () => true;
const dead = () => false;

describe('judgeLease', () => {
  it('is free when there is no lease', () => {
    expect(judgeLease(null, me, null, 0, 15_000, alive)).toBe('free');
  });

  it('is mine when it names this companion', () => {
    expect(judgeLease({ ...me, heartbeat: 'x' }, me, null, 0, 15_000, alive)).toBe('mine');
  });

  it('is held by another host while its heartbeat changes', () => {
    const sighting = { heartbeat: 'h0', seenAtMs: 0 };
    expect(judgeLease(other(), me, sighting, 60_000, 15_000, dead)).toBe('held');
  });

  it('is free once the heartbeat has not changed for the ttl, by this host’s clock', () => {
    const sighting = { heartbeat: 'h1', seenAtMs: 1_000 };
    expect(judgeLease(other(), me, sighting, 15_999, 15_000, alive)).toBe('held');
    expect(judgeLease(other(), me, sighting, 16_000, 15_000, alive)).toBe('free');
  });

  it('never judges another host’s pid', () => {
    expect(judgeLease(other(), me, null, 0, 15_000, dead)).toBe('held');
  });

  it('is free at once when it names this host and a pid that is gone', () => {
    expect(judgeLease(other({ host: 'hub' }), me, null, 0, 15_000, dead)).toBe('free');
    expect(judgeLease(other({ host: 'hub' }), me, null, 0, 15_000, alive)).toBe('held');
  });
});

describe('parseLease', () => {
  it('reads a lease and refuses torn or foreign files', () => {
    expect(parseLease(JSON.stringify(other()))).toEqual(other());
    expect(parseLease('{"companionId":')).toBeNull();
    expect(parseLease('{"host":"x"}')).toBeNull();
  });
});

describe('LeaseKeeper over a real directory', () => {
  let dir: string;
  const keepers: LeaseKeeper[] = [];
  const keeper = (host: string, ttlMs = 400) => {
    const k = new LeaseKeeper({ stateDir: dir, host, heartbeatMs: 50, ttlMs, settleMs: 20 });
    keepers.push(k);
    return k;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hpc-lease-'));
  });
  afterEach(async () => {
    await Promise.all(keepers.splice(0).map(k => k.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the lease to exactly one of two companions starting together', async () => {
    const [a, b] = [keeper('hub'), keeper('login1')];
    const roles = await Promise.all([a.start(), b.start()]);
    await new Promise(r => setTimeout(r, 200));
    expect([a.role, b.role].sort()).toEqual(['follower', 'owner']);
    const lease = parseLease(readFileSync(join(dir, LEASE_FILE), 'utf8'));
    const owner = a.role === 'owner' ? a : b;
    expect(lease?.companionId).toBe(owner.identity.companionId);
    expect(roles).toHaveLength(2);
  });

  it('hands over when the owner stops, and within the ttl when it dies', async () => {
    const a = keeper('hub');
    expect(await a.start()).toBe('owner');
    const b = keeper('login1');
    expect(await b.start()).toBe('follower');
    expect(b.owner?.host).toBe('hub');

    // A clean stop removes the lease: the other takes it at its next look.
    await a.stop();
    await new Promise(r => setTimeout(r, 150));
    expect(b.role).toBe('owner');

    // A dead owner on another host (a frozen heartbeat): taken after the ttl, not before.
    await b.stop();
    writeFileSync(join(dir, LEASE_FILE), JSON.stringify(other({ heartbeat: 'frozen' })));
    const c = keeper('hub', 400);
    expect(await c.start()).toBe('follower');
    await new Promise(r => setTimeout(r, 200));
    expect(c.role).toBe('follower');
    await new Promise(r => setTimeout(r, 450));
    expect(c.role).toBe('owner');
  });

  it('steps down when another companion has taken the lease meanwhile', async () => {
    const a = keeper('hub');
    await a.start();
    const changes: string[] = [];
    a.onChange(role => changes.push(role));
    writeFileSync(join(dir, LEASE_FILE), JSON.stringify(other({ heartbeat: `${Date.now()}` })));
    await a.tick();
    expect(a.role).toBe('follower');
    expect(changes).toEqual(['follower']);
  });
});
