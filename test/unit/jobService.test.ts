/**
 * The job service and the poller in-process, wired as serve.ts wires them
 * (a real JobStore in a temp dir, the scheduler health the poller writes and
 * the service reads), over the InMemoryExecutor test double instead of a
 * scheduler. Notebook validation runs for real in the test Python's worker.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, ServerEvent } from '../../contract/wire';
import { JobService } from '../../server/jobs/jobService';
import { NotebookValidator } from '../../server/jobs/notebookValidation';
import { Poller } from '../../server/jobs/poller';
import { Refusal, type RefusalKind } from '../../server/jobs/refusal';
import { SchedulerHealthHolder } from '../../server/jobs/schedulerHealth';
import { CANCEL_REQUEST_FILE, JobStore, toWire } from '../../server/jobs/store';
import { InMemoryExecutor } from '../fixtures/inMemoryExecutor';
import { tempDir, writeNotebook } from '../fixtures/jobRuntime';
import { testProfile } from '../fixtures/profiles';

/** The events sink: every event published, in order. */
class CollectedEvents {
  readonly events: ServerEvent[] = [];
  publish(e: ServerEvent): void {
    this.events.push(e);
  }
  jobs(): Job[] {
    return this.events.flatMap(e => (e.type === 'job' ? [e.job] : []));
  }
}

interface World {
  rootDir: string;
  stateDir: string;
  store: JobStore;
  executor: InMemoryExecutor;
  events: CollectedEvents;
  scheduler: SchedulerHealthHolder;
  poller: Poller;
  service: JobService;
  ended: Job[];
  pollSoonCalls: number;
}

const made: string[] = [];
const validator = new NotebookValidator(() => undefined);

/** A fresh root, state directory, store, executor, poller and service, wired as assemble() in serve.ts. */
function world(intervalMs = 60_000): World {
  const rootDir = tempDir('hpc-svc-root-');
  const stateDir = tempDir('hpc-svc-state-');
  made.push(rootDir, stateDir);
  const events = new CollectedEvents();
  const store = new JobStore(stateDir, rootDir, events);
  store.load();
  const executor = new InMemoryExecutor();
  const scheduler = new SchedulerHealthHolder();
  const ended: Job[] = [];
  // Never started: the tests run its rounds themselves, no timers.
  const poller = new Poller(store, executor, events, scheduler, {
    intervalMs,
    view: record => toWire(record, rootDir),
    onEnded: job => ended.push(job)
  });
  const w: Partial<World> = { rootDir, stateDir, store, executor, events, scheduler, poller };
  w.ended = ended;
  w.pollSoonCalls = 0;
  w.service = new JobService({
    rootDir,
    store,
    executor,
    profiles: [testProfile()],
    scheduler,
    validator,
    recheckScheduler: () => poller.recheck(),
    pollSoon: () => {
      w.pollSoonCalls = (w.pollSoonCalls ?? 0) + 1;
    }
  });
  return w as World;
}

/** A minimal valid notebook at `name` under the root; answers its path relative to the root. */
function notebook(w: World, name: string): string {
  writeNotebook(join(w.rootDir, name), ['x = 1']);
  return name;
}

/** A run of a new notebook `name`, submitted through the service: the job and its scheduler id. */
async function submitted(w: World, name: string): Promise<{ job: Job; sid: string }> {
  const { body } = await w.service.submit({ notebook: notebook(w, name), profile: 'cpu' });
  const job = body as Job;
  return { job, sid: job.schedulerId as string };
}

/** The Refusal a promise rejects with (fails the test when it resolves or throws something else). */
async function refusalOf(p: Promise<unknown>): Promise<Refusal> {
  const e = await p.then(
    () => null,
    (err: unknown) => err
  );
  expect(e).toBeInstanceOf(Refusal);
  return e as Refusal;
}

async function expectRefused(p: Promise<unknown>, kind: RefusalKind): Promise<Refusal> {
  const refusal = await refusalOf(p);
  expect(refusal.kind).toBe(kind);
  return refusal;
}

afterAll(() => {
  validator.stop();
  made.forEach(dir => rmSync(dir, { recursive: true, force: true }));
});

describe('JobService over an in-memory executor', () => {
  it('submits a notebook: a queued job with the executor id, on disk, and a job event', async () => {
    const w = world();
    const nb = notebook(w, 'analysis.ipynb');
    const { body, created } = await w.service.submit({ notebook: nb, profile: 'cpu' });
    const job = body as Job;

    expect(created).toBe(true);
    expect(w.executor.submitCalls).toBe(1);
    expect(job.state).toBe('queued');
    expect(job.schedulerId).toBe('1000');
    expect(job.notebook).toBe('analysis.ipynb');
    expect(job.profile).toBe('cpu');
    expect(job.executor).toBe('slurm');

    const spec = w.executor.submitted[0];
    expect(spec.jobId).toBe(job.id);
    expect(spec.cwd).toBe(w.rootDir);
    expect(existsSync(spec.scriptPath)).toBe(true);
    expect(spec.env.HPC_SUBMIT_JOB_ID).toBe(job.id);

    // The store holds it (in memory and in job.json) with the scheduler's id.
    expect(w.store.get(job.id)?.schedulerId).toBe('1000');
    const reloaded = new JobStore(w.stateDir, w.rootDir);
    reloaded.load();
    expect(reloaded.get(job.id)).toMatchObject({ state: 'queued', schedulerId: '1000' });

    const published = w.events.jobs();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ id: job.id, state: 'queued', schedulerId: '1000' });
    expect(w.pollSoonCalls).toBe(1);
  });

  it('submits once for the same idempotencyKey twice, and answers the first job', async () => {
    const w = world();
    const nb = notebook(w, 'once.ipynb');
    const request = { notebook: nb, profile: 'cpu', idempotencyKey: 'key-1' };
    const first = await w.service.submit(request);
    const second = await w.service.submit(request);

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect((second.body as Job).id).toBe((first.body as Job).id);
    expect((second.body as Job).schedulerId).toBe('1000');
    expect(w.executor.submitCalls).toBe(1);
    expect(w.store.list()).toHaveLength(1);
    expect(w.events.jobs()).toHaveLength(1);
  });

  it('refuses a second run of a live notebook as a conflict, and submits nothing more', async () => {
    const w = world();
    const nb = notebook(w, 'busy.ipynb');
    const { body } = await w.service.submit({ notebook: nb, profile: 'cpu' });
    const refusal = await expectRefused(
      w.service.submit({ notebook: nb, profile: 'cpu' }),
      'conflict'
    );
    expect(refusal.message).toContain((body as Job).id);
    expect(w.executor.submitCalls).toBe(1);
    expect(w.store.list()).toHaveLength(1);
  });

  it('refuses an unknown profile as invalid, before anything is written', async () => {
    const w = world();
    const nb = notebook(w, 'gpu.ipynb');
    const refusal = await expectRefused(
      w.service.submit({ notebook: nb, profile: 'no-such-profile' }),
      'invalid'
    );
    expect(refusal.message).toContain('no-such-profile');
    expect(w.executor.submitCalls).toBe(0);
    expect(w.store.list()).toHaveLength(0);
    expect(w.events.events).toHaveLength(0);
  });

  it('refuses a submission as scheduler-down while the executor does not answer', async () => {
    const w = world();
    const running = await w.service.submit({ notebook: notebook(w, 'a.ipynb'), profile: 'cpu' });
    w.executor.unreachable = true;

    // The poller finds out, as it would on its round, and tells the browsers.
    await w.poller.pollScheduler();
    expect(w.scheduler.current.reachable).toBe(false);
    expect(w.events.events).toContainEqual(
      expect.objectContaining({ type: 'scheduler', reachable: false })
    );

    const describesBefore = w.executor.describeCalls;
    await expectRefused(
      w.service.submit({ notebook: notebook(w, 'b.ipynb'), profile: 'cpu' }),
      'scheduler-down'
    );
    // Asked once more before refusing; nothing submitted, nothing written.
    expect(w.executor.describeCalls).toBe(describesBefore + 1);
    expect(w.executor.submitCalls).toBe(1);
    expect(w.store.list().map(r => r.id)).toEqual([(running.body as Job).id]);
    expect(readdirSync(w.store.jobsDir)).toEqual([(running.body as Job).id]);

    // Once it answers again, the recheck lets the next submission through.
    w.executor.unreachable = false;
    const later = await w.service.submit({ notebook: 'b.ipynb', profile: 'cpu' });
    expect(later.created).toBe(true);
    expect(w.executor.submitCalls).toBe(2);
    expect(w.scheduler.current.reachable).toBe(true);
  });
});

describe('Poller over an in-memory executor', () => {
  it('ends a job the scheduler reports ended/completed, after holding it one round', async () => {
    const w = world();
    const { job, sid: schedulerId } = await submitted(w, 'done.ipynb');

    // Default observation: pending. One batched observe per round; the job stays queued.
    await w.poller.pollScheduler();
    expect(w.executor.observeCalls).toBe(1);
    expect(w.store.get(job.id)?.state).toBe('queued');

    w.executor.setObservation(schedulerId, { phase: 'ended', endState: 'completed', exitCode: 0 });
    // An end only the scheduler reports waits one round for the job's own status.json.
    await w.poller.pollScheduler();
    expect(w.store.get(job.id)?.state).toBe('queued');
    expect(w.ended).toHaveLength(0);

    await w.poller.pollScheduler();
    expect(w.executor.observeCalls).toBe(3);
    const record = w.store.get(job.id);
    expect(record?.state).toBe('completed');
    expect(record?.exitCode).toBe(0);
    expect(record?.endedAt).toEqual(expect.any(String));
    expect(w.store.live()).toHaveLength(0);
    expect(w.ended).toEqual([expect.objectContaining({ id: job.id, state: 'completed' })]);
    expect(w.events.jobs().at(-1)).toMatchObject({ id: job.id, state: 'completed' });

    // An ended job is not observed again.
    await w.poller.pollScheduler();
    expect(w.executor.observeCalls).toBe(3);
  });

  it('a query asked for soon takes the place of the next regular one: still one per interval', async () => {
    const w = world();
    await submitted(w, 'soon.ipynb');
    // Fake timers, real I/O: each step lets the poll's file reads finish, in real time.
    const realTimeout = global.setTimeout;
    jest.useFakeTimers();
    const advance = async (ms: number) => {
      await jest.advanceTimersByTimeAsync(ms);
      await new Promise(r => realTimeout(r, 50));
    };
    try {
      const poller = new Poller(w.store, w.executor, w.events, new SchedulerHealthHolder(), {
        intervalMs: 30_000,
        fileWatchMs: 3_600_000,
        view: record => toWire(record, w.rootDir)
      });
      const before = w.executor.observeCalls;
      poller.start();
      await advance(10); // the first regular query, at once
      expect(w.executor.observeCalls - before).toBe(1);
      await advance(10_000);
      poller.pollSoon();
      poller.pollSoon(); // coalesced
      await advance(1_000);
      expect(w.executor.observeCalls - before).toBe(2);
      // The regular query due 30 s after the first now comes 30 s after the soon one.
      await advance(25_000);
      expect(w.executor.observeCalls - before).toBe(2);
      await advance(5_500);
      expect(w.executor.observeCalls - before).toBe(3);
      for (let round = 0; round < 3; round++) {
        await advance(30_000);
      }
      expect(w.executor.observeCalls - before).toBe(6);
      poller.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  it('delivers a cancel that a companion without the lease left as a file, once, and records it', async () => {
    const w = world();
    const { job, sid } = await submitted(w, 'relayed.ipynb');
    writeFileSync(join(w.store.jobDir(job.id), CANCEL_REQUEST_FILE), '');
    await w.poller.pollScheduler();
    expect(w.executor.cancelled).toStrictEqual([sid]);
    expect(w.store.get(job.id)?.cancelRequested).toBe(true);
    await w.poller.pollScheduler();
    expect(w.executor.cancelled).toStrictEqual([sid]);
    // The scheduler's end then reads as the cancel it was.
    w.executor.setObservation(sid, { phase: 'ended', endState: 'cancelled' });
    await w.poller.pollScheduler();
    await w.poller.pollScheduler();
    expect(w.store.get(job.id)?.state).toBe('cancelled');
  });

  it('tells the browsers of each change from the store alone: nothing of a launch taken back, a forget once', async () => {
    const w = world();
    w.executor.submitError = new Error('sbatch: error: Batch job submission failed');
    await refusalOf(w.service.submit({ notebook: notebook(w, 'refused.ipynb'), profile: 'cpu' }));
    // The record was made and removed again: never listed, never forgotten aloud.
    expect(w.events.events).toEqual([]);
    expect(w.store.list()).toHaveLength(0);

    w.executor.submitError = null;
    const { body } = await w.service.submit({ notebook: 'refused.ipynb', profile: 'cpu' });
    const job = body as Job;
    expect(w.events.events).toEqual([{ type: 'job', job }]);
    w.executor.setObservation(job.schedulerId as string, {
      phase: 'ended',
      endState: 'completed',
      exitCode: 0
    });
    await w.poller.pollScheduler();
    await w.poller.pollScheduler();
    await w.service.forget(job.id);
    expect(w.events.events.at(-1)).toEqual({ type: 'forget', id: job.id });
    expect(w.events.events.filter(e => e.type === 'forget')).toHaveLength(1);
  });

  it('backs off while the scheduler does not answer, says so once, and catches up when it answers', async () => {
    const w = world(15_000);
    const { body } = await w.service.submit({ notebook: notebook(w, 'out.ipynb'), profile: 'cpu' });
    const job = body as Job;
    expect(w.poller.pollDelayMs).toBe(15_000);
    w.executor.unreachable = true;
    const delays: number[] = [];
    for (let round = 0; round < 4; round++) {
      await w.poller.pollScheduler();
      delays.push(w.poller.pollDelayMs);
    }
    // Doubled each round, up to the most (2 min by default, never under the interval).
    expect(delays).toStrictEqual([30_000, 60_000, 120_000, 120_000]);
    const down = w.events.events.filter(e => e.type === 'scheduler');
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({ reachable: false });
    // Nothing is marked failed while the scheduler is away.
    expect(w.store.get(job.id)?.state).toBe('queued');

    w.executor.unreachable = false;
    w.executor.setObservation(job.schedulerId as string, { phase: 'running', node: 'n1' });
    await w.poller.pollScheduler();
    expect(w.poller.pollDelayMs).toBe(15_000);
    expect(w.events.events.filter(e => e.type === 'scheduler').at(-1)).toMatchObject({
      reachable: true
    });
    expect(w.store.get(job.id)).toMatchObject({ state: 'running', node: 'n1' });
  });

  it("reads an ended run's accounting once it is settled, asking again while it is not", async () => {
    const w = world();
    const { job, sid } = await submitted(w, 'acct.ipynb');
    // The job's own start record, as job.sh writes it on the node.
    const startedAt = new Date(Date.now() - 120_000).toISOString().replace(/\.\d+Z$/, 'Z');
    writeFileSync(
      join(w.store.jobDir(job.id), 'status.json'),
      JSON.stringify({ phase: 'started', host: 'n1', gpus: [], startedAt })
    );
    w.executor.setObservation(sid, { phase: 'running', node: 'n1' });
    await w.poller.pollScheduler();
    expect(w.store.get(job.id)?.startedAt).toBe(startedAt);
    w.executor.setObservation(sid, { phase: 'ended', endState: 'completed', exitCode: 0 });
    await w.poller.pollScheduler(); // held one round for the job's own end record
    await w.poller.pollScheduler(); // ended; its accounting is asked in this round
    expect(w.store.get(job.id)?.state).toBe('completed');
    expect(w.executor.accountingAsked).toStrictEqual([[sid]]);

    // Still running in the database's eyes: asked again next round.
    const record = {
      state: 'COMPLETED',
      exitCode: '0:0',
      elapsedSeconds: 120,
      totalCpuSeconds: 60,
      allocCpus: 1,
      maxRssBytes: 2 ** 30,
      hasBatchStep: true
    };
    w.executor.accountingRecords.set(sid, { ...record, final: false });
    await w.poller.pollScheduler();
    expect(w.executor.accountingAsked).toHaveLength(2);
    expect(w.store.get(job.id)?.efficiency?.source).toBe('samples');

    w.executor.accountingRecords.set(sid, { ...record, final: true });
    await w.poller.pollScheduler();
    expect(w.executor.accountingAsked).toHaveLength(3);
    expect(w.store.get(job.id)?.efficiency).toMatchObject({
      source: 'samples+sacct',
      wallSeconds: 120,
      peakRssBytes: 2 ** 30
    });
    // Settled: not asked again.
    await w.poller.pollScheduler();
    expect(w.executor.accountingAsked).toHaveLength(3);
  });

  it('after a restart, a new store and poller adopt the live runs and follow them to their end', async () => {
    const w = world();
    const { job, sid } = await submitted(w, 'long.ipynb');

    // The companion restarts: everything but the state directory and the scheduler is new.
    const store = new JobStore(w.stateDir, w.rootDir);
    expect(store.load()).toStrictEqual({ loaded: 1, skipped: [] });
    const ended: Job[] = [];
    const poller = new Poller(store, w.executor, w.events, new SchedulerHealthHolder(), {
      intervalMs: 60_000,
      view: record => toWire(record, w.rootDir),
      onEnded: j => ended.push(j)
    });
    await poller.adopt();
    expect(w.executor.adopted).toStrictEqual([[sid]]);

    w.executor.setObservation(sid, { phase: 'ended', endState: 'completed', exitCode: 0 });
    await poller.pollScheduler();
    await poller.pollScheduler();
    expect(store.get(job.id)?.state).toBe('completed');
    expect(ended.map(j => j.id)).toStrictEqual([job.id]);
    // An ended run is not adopted again.
    await poller.adopt();
    expect(w.executor.adopted).toHaveLength(1);
  });
});
