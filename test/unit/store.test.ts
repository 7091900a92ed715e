/**
 * The job store shared by several companions: what one writes, another's
 * `rescan` brings in; and the wire view of a record from different roots.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerEvent } from '../../contract/wire';
import { JobStore, type JobRecord, newJobId, toWire, underRoot } from '../../server/jobs/store';

const record = (id: string, over: Partial<JobRecord> = {}): JobRecord => ({
  id,
  notebook: 'a/x.ipynb',
  output: 'a/executed/x_executed.ipynb',
  notebookPath: '/home/u/a/x.ipynb',
  outputPath: '/home/u/a/executed/x_executed.ipynb',
  profile: 'cpu',
  kernel: 'k',
  resources: {},
  executor: 'local',
  schedulerId: '1',
  state: 'running',
  submittedAt: new Date().toISOString(),
  ...over
});

describe('toWire from different roots', () => {
  it('shows paths relative to the asking root, else absolute and marked', () => {
    const r = record('20260101-000000-aaaaaa');
    expect(toWire(r, '/home/u')).toMatchObject({
      notebook: 'a/x.ipynb',
      output: 'a/executed/x_executed.ipynb'
    });
    expect(toWire(r, '/home/u/a')).toMatchObject({
      notebook: 'x.ipynb',
      output: 'executed/x_executed.ipynb'
    });
    expect(toWire(r, '/home/u/a').outsideRoot).toBeUndefined();
    expect(toWire(r, '/home/v')).toMatchObject({
      notebook: '/home/u/a/x.ipynb',
      output: '/home/u/a/executed/x_executed.ipynb',
      outsideRoot: true
    });
    expect(toWire(r, '/home/u/a/x')).toMatchObject({ outsideRoot: true });
  });

  it('never takes a sibling folder with the same prefix for the root', () => {
    expect(underRoot('/home/u', '/home/u2/x.ipynb')).toBeNull();
    expect(underRoot('/home/u', '/home/u/..x.ipynb')).toBe('..x.ipynb');
    expect(underRoot('/home/u', '/home/u')).toBeNull();
  });
});

describe('JobStore.rescan', () => {
  let state: string;
  beforeEach(() => {
    state = mkdtempSync(join(tmpdir(), 'hpc-store-'));
  });
  afterEach(() => rmSync(state, { recursive: true, force: true }));

  it("brings in another companion's new, changed and forgotten runs, and not its own writes", async () => {
    const told: ServerEvent[] = [];
    const mine = new JobStore(state, '/home/u', { publish: e => told.push(e) });
    const theirs = new JobStore(state, '/home/u/a');
    mine.load();
    theirs.load();
    const id = newJobId();
    await theirs.create(record(id, { state: 'queued' }));
    expect(await theirs.rescan()).toEqual({ changed: [], removed: [] });

    const first = await mine.rescan();
    expect(first.changed.map(r => r.id)).toEqual([id]);
    expect(mine.get(id)?.state).toBe('queued');
    expect(await mine.rescan()).toEqual({ changed: [], removed: [] });

    // mtime resolution: make sure the rewrite is seen as a change.
    await new Promise(r => setTimeout(r, 20));
    await theirs.update(id, { state: 'completed', endedAt: new Date().toISOString() });
    const second = await mine.rescan();
    expect(second.changed.map(r => [r.id, r.state])).toEqual([[id, 'completed']]);

    await theirs.remove(id);
    expect(await mine.rescan()).toEqual({ changed: [], removed: [id] });
    expect(mine.get(id)).toBeUndefined();
    // This store's browsers heard of each, once, in this store's own view (its root).
    expect(told.map(e => (e.type === 'job' ? [e.job.state, e.job.notebook] : [e.type]))).toEqual([
      ['queued', 'a/x.ipynb'],
      ['completed', 'a/x.ipynb'],
      ['forget']
    ]);
  });

  it('keeps a run this companion is still creating', async () => {
    const store = new JobStore(state, '/home/u');
    store.load();
    const id = newJobId();
    store.reserve(record(id, { schedulerId: null, state: 'queued' }));
    expect((await store.rescan()).removed).toEqual([]);
    expect(store.get(id)).toBeDefined();
  });
});
