/**
 * The jobs model's actions, in jsdom: each calls the companion, then updates
 * the state and emits; a refusal rejects with the companion's word and
 * changes nothing. `FakeCompanion` stands in for the transport only: it
 * answers the companion's HTTP routes (the CompanionApi shape) from memory,
 * as the companion would, so what is tested is the model, not a mock of it.
 * The event stream's tests put `FakeEventSource` where the browser's
 * EventSource would be (jsdom has none): the same transport, driven by hand.
 */
import type { CompanionApi, LogChunk } from '../../src/api';
import { JobEventStream } from '../../src/eventStream';
import { JobsModel } from '../../src/model';
import { sortJobs } from '../../contract/rules';
import type {
  Job,
  JobList,
  ProfileList,
  Resources,
  SetupRequest,
  SetupTask,
  SubmitRequest
} from '../../contract/wire';
import { gpuProfile, testJob } from '../fixtures/wire';

const GPU = gpuProfile({
  problems: [
    {
      code: 'kernel-missing',
      message: 'the kernel "convcnp-gpu" is not installed',
      fix: 'pixi run -e gpu python -m ipykernel install --user --name convcnp-gpu'
    }
  ]
});

const notImplemented = (): Promise<never> => Promise.reject(new Error('not used by this test'));

/** The companion's HTTP answers, from memory: the transport the model talks to. */
class FakeCompanion implements CompanionApi {
  readonly jobList = new Map<string, Job>();
  readonly submissions: {
    notebook: string;
    profile: string;
    resources?: Resources;
    key?: string;
    environment?: string;
  }[] = [];
  kernels = new Set<string>();
  /** When set, the next call is refused with this sentence, as the companion's `{error}`. */
  refuseWith: string | undefined;
  private next = 1;

  // Sweeps are not this test's: they answer as a companion without them would.
  submitSweep = notImplemented;
  parameters = notImplemented;
  cancelSweep = notImplemented;
  rerunFailed = notImplemented;
  submitPipeline = notImplemented;
  cancelPipeline = notImplemented;
  rerunPipeline = notImplemented;
  schedules = notImplemented;
  addSchedule = notImplemented;
  pauseSchedule = notImplemented;
  removeSchedule = notImplemented;
  sweep = notImplemented;

  async health() {
    return { ok: true, version: '0.1.0', executor: 'local' as const, schedulerReachable: true };
  }

  /** Notebooks asked about, in order. */
  asked: Array<string | undefined> = [];

  async profiles(notebook?: string): Promise<ProfileList> {
    this.asked.push(notebook);
    const installed = this.kernels.has(GPU.kernel);
    const site = { ...GPU, problems: installed ? [] : GPU.problems };
    if (notebook?.startsWith('myproj/')) {
      const environment = {
        name: 'gpu',
        project: 'myproj',
        manifest: 'myproj/pixi.toml',
        installed: true
      };
      return {
        profiles: [{ ...site, kernel: 'myproj-gpu', environment }, site],
        project: { name: 'myproj', manifest: 'myproj/pixi.toml' }
      };
    }
    return { profiles: [site] };
  }

  async startSetup(request: SetupRequest): Promise<SetupTask> {
    this.refuseIfAsked();
    this.kernels.add(GPU.kernel);
    return {
      id: 't1',
      action: request.action,
      title: `Create kernel ${GPU.kernel}`,
      command: 'python -m ipykernel install',
      state: 'completed',
      startedAt: '2026-12-04T10:00:00Z'
    };
  }

  setupLog = notImplemented;
  cancelSetup = notImplemented;

  async submit(request: SubmitRequest) {
    this.refuseIfAsked();
    const { notebook, profile, resources, idempotencyKey: key, environment } = request;
    this.submissions.push({ notebook, profile, resources, key, environment });
    const id = `job-${this.next++}`;
    const job: Job = {
      id,
      notebook,
      output: notebook.replace(/([^/]+)\.ipynb$/, 'executed/$1_executed.ipynb'),
      profile,
      kernel: GPU.kernel,
      resources: resources ?? {},
      executor: 'local',
      schedulerId: String(this.next),
      state: 'queued',
      submittedAt: new Date(Date.UTC(2026, 10, 23, 12, this.next)).toISOString()
    };
    this.jobList.set(id, job);
    return job;
  }

  async jobs(): Promise<Job[]> {
    return [...this.jobList.values()];
  }

  /** All of the list as one page: this test's histories are short. */
  async jobsPage(): Promise<JobList> {
    return { jobs: sortJobs([...this.jobList.values()]) };
  }

  async log(id: string, offset: number): Promise<LogChunk> {
    this.refuseIfAsked();
    const text = `log of ${id}\n`.slice(offset);
    return { text, next: offset + text.length };
  }

  async cancel(id: string): Promise<Job> {
    this.refuseIfAsked();
    const job = { ...this.known(id), state: 'cancelled' as const, endedAt: '2026-11-23T13:00:00Z' };
    this.jobList.set(id, job);
    return job;
  }

  async forget(id: string): Promise<unknown> {
    this.refuseIfAsked();
    this.known(id);
    this.jobList.delete(id);
    return {};
  }

  details(): Promise<never> {
    return Promise.reject(new Error('not used by these tests'));
  }

  estimate(): Promise<never> {
    return Promise.reject(new Error('not used by these tests'));
  }

  private known(id: string): Job {
    const job = this.jobList.get(id);
    if (!job) {
      throw new Error(`no job ${id}`);
    }
    return job;
  }

  private refuseIfAsked(): void {
    const refusal = this.refuseWith;
    this.refuseWith = undefined;
    if (refusal) {
      throw new Error(refusal);
    }
  }
}

function setup() {
  const companion = new FakeCompanion();
  const model = new JobsModel(companion);
  const changed = jest.fn();
  const ended = jest.fn();
  model.changed.connect(changed);
  model.jobEnded.connect((_, job) => ended(job.id, job.state));
  return { companion, model, changed, ended };
}

describe('JobsModel actions', () => {
  it('submit adds the job at once and emits', async () => {
    const { companion, model, changed } = setup();
    const job = await model.submit('exp/a.ipynb', { profile: 'gpu' }, { gpus: 2 });
    expect(model.jobs).toStrictEqual([job]);
    expect(model.job(job.id)?.state).toBe('queued');
    expect(model.latestFor('exp/a.ipynb')?.id).toBe(job.id);
    expect(changed).toHaveBeenCalled();
    expect(companion.submissions).toMatchObject([
      { notebook: 'exp/a.ipynb', profile: 'gpu', resources: { gpus: 2 } }
    ]);
  });

  it('each submission carries its own idempotency key', async () => {
    const { companion, model } = setup();
    await model.submit('exp/a.ipynb', { profile: 'gpu' });
    await model.submit('exp/a.ipynb', { profile: 'gpu' });
    const [first, second] = companion.submissions.map(s => s.key);
    expect(first).toEqual(expect.any(String));
    expect(second).toEqual(expect.any(String));
    expect(first).not.toBe(second);
  });

  it('rerun submits the same notebook with the same profile and resources', async () => {
    const { companion, model } = setup();
    const first = await model.submit('exp/a.ipynb', { profile: 'gpu' }, { time: '01:00:00' });
    const again = await model.rerun(first);
    expect(again.id).not.toBe(first.id);
    expect(model.jobs.map(j => j.id)).toStrictEqual([again.id, first.id]);
    expect(companion.submissions[1]).toMatchObject({
      notebook: 'exp/a.ipynb',
      profile: 'gpu',
      resources: { time: '01:00:00' }
    });
  });

  it('cancel stores the cancelled job, emits, and announces the end once', async () => {
    const { model, changed, ended } = setup();
    const job = await model.submit('exp/a.ipynb', { profile: 'gpu' });
    changed.mockClear();
    await model.cancel(job.id);
    expect(model.job(job.id)?.state).toBe('cancelled');
    expect(model.anyRunning).toBe(false);
    expect(changed).toHaveBeenCalled();
    expect(ended.mock.calls).toStrictEqual([[job.id, 'cancelled']]);
  });

  it('forget drops the job and emits', async () => {
    const { model, changed } = setup();
    const job = await model.submit('exp/a.ipynb', { profile: 'gpu' });
    await model.cancel(job.id);
    changed.mockClear();
    await model.forget(job.id);
    expect(model.job(job.id)).toBeUndefined();
    expect(model.jobs).toStrictEqual([]);
    expect(changed).toHaveBeenCalled();
  });

  it('a refused call rejects with the companion’s word and leaves the state as it was', async () => {
    const { companion, model, changed, ended } = setup();
    const job = await model.submit('exp/a.ipynb', { profile: 'gpu' });
    const before = model.jobs;
    changed.mockClear();

    companion.refuseWith = 'the scheduler refused the job: partition "gpu" is down';
    await expect(model.submit('exp/b.ipynb', { profile: 'gpu' })).rejects.toThrow(
      'partition "gpu" is down'
    );
    companion.refuseWith = 'scancel failed: Invalid job id specified';
    await expect(model.cancel(job.id)).rejects.toThrow('Invalid job id');
    companion.refuseWith = 'the job is still running';
    await expect(model.forget(job.id)).rejects.toThrow('still running');

    expect(model.jobs).toBe(before);
    expect(model.job(job.id)?.state).toBe('queued');
    expect(changed).not.toHaveBeenCalled();
    expect(ended).not.toHaveBeenCalled();
    // A refused action is the caller's to show; it is not a companion that cannot be reached.
    expect(model.companionError).toBeUndefined();
  });

  it("asks a notebook's choices once, the site's standing in until they come, and again on refresh", async () => {
    const { companion, model } = setup();
    await model.refreshProfiles();
    expect(model.choicesFor('myproj/a.ipynb').map(p => p.environment?.name)).toStrictEqual([
      undefined
    ]);
    expect(model.choicesFor('myproj/a.ipynb')).toHaveLength(1);
    // The answer comes on a later turn of the event loop.
    await new Promise(resolve => setTimeout(resolve, 0));
    const choices = model.choicesFor('myproj/a.ipynb');
    expect(choices.map(p => [p.kernel, p.environment?.name])).toStrictEqual([
      ['myproj-gpu', 'gpu'],
      [GPU.kernel, undefined]
    ]);
    expect(model.projectOf('myproj/a.ipynb').project?.name).toBe('myproj');
    expect(companion.asked.filter(n => n === 'myproj/a.ipynb')).toHaveLength(1);
    // Outside a project: the site's profiles, as fresh as the model's.
    expect(model.choicesFor('plain.ipynb')).toBe(model.profiles);
    await model.refreshProfiles();
    expect(companion.asked.filter(n => n === 'myproj/a.ipynb')).toHaveLength(2);
  });

  it('a run of a project environment names it, and its rerun too', async () => {
    const { companion, model } = setup();
    const job = await model.submit('myproj/a.ipynb', { profile: 'gpu', environment: 'gpu' });
    await model.rerun({ ...job, environment: 'gpu' });
    expect(companion.submissions.map(s => s.environment)).toStrictEqual(['gpu', 'gpu']);
  });

  it('a setup that cannot start rejects with the companion’s word', async () => {
    const { companion, model } = setup();
    companion.refuseWith = 'pixi is not on PATH of the companion';
    await expect(model.startSetup({ action: 'create-kernel', profile: 'gpu' })).rejects.toThrow(
      'pixi is not on PATH'
    );
  });

  it('readLog answers the companion’s piece and where to read next', async () => {
    const { model } = setup();
    const job = await model.submit('exp/a.ipynb', { profile: 'gpu' });
    const first = await model.readLog(job.id, 0);
    expect(first.text).toBe(`log of ${job.id}\n`);
    expect(await model.readLog(job.id, first.next)).toStrictEqual({ text: '', next: first.next });
  });
});

/** The browser's EventSource, opened, fed and failed by the test. */
class FakeEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static made: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;

  constructor(readonly url: string) {
    super();
    FakeEventSource.made.push(this);
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED;
  }

  open(): void {
    this.readyState = FakeEventSource.OPEN;
    this.dispatchEvent(new Event('open'));
  }

  push(type: string, data: unknown): void {
    this.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  }

  /** The browser retries on its own unless it gave up (`closed`). */
  fail(closed = false): void {
    this.readyState = closed ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
    this.dispatchEvent(new Event('error'));
  }
}

describe('JobEventStream', () => {
  let stream: JobEventStream | undefined;
  const latest = () => FakeEventSource.made[FakeEventSource.made.length - 1];

  function start() {
    const all = setup();
    const jobs = jest.spyOn(all.companion, 'jobsPage');
    stream = new JobEventStream(all.model, () => '/hpc-submit/api/events');
    stream.connect();
    return { ...all, jobs };
  }

  beforeEach(() => {
    jest.useFakeTimers();
    FakeEventSource.made = [];
    (globalThis as { EventSource?: unknown }).EventSource = FakeEventSource;
  });

  afterEach(() => {
    stream?.dispose();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('feeds pushed events into the model and catches up when the stream opens', async () => {
    const { model, jobs } = start();
    await jest.advanceTimersByTimeAsync(0);
    expect(FakeEventSource.made.map(s => s.url)).toStrictEqual(['/hpc-submit/api/events']);
    latest().open();
    await jest.advanceTimersByTimeAsync(0);
    expect(jobs).toHaveBeenCalledTimes(1);

    const job = testJob({ state: 'running' });
    latest().push('job', job);
    expect(model.job('j1')?.state).toBe('running');
    latest().push('scheduler', { reachable: false, message: 'squeue: timeout' });
    expect(model.schedulerMessage).toBe('squeue: timeout');
    latest().push('forget', { id: 'j1' });
    expect(model.job('j1')).toBeUndefined();
  });

  it('polls the job list only while the stream is down', async () => {
    const { jobs } = start();
    await jest.advanceTimersByTimeAsync(0);
    latest().open();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(jobs).toHaveBeenCalledTimes(1);

    latest().fail();
    latest().fail();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(jobs).toHaveBeenCalledTimes(1);
    latest().fail();
    await jest.advanceTimersByTimeAsync(0);
    expect(jobs).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(jobs).toHaveBeenCalledTimes(4);

    latest().open();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(jobs).toHaveBeenCalledTimes(5);
    expect(FakeEventSource.made).toHaveLength(1);
  });

  it('opens a new stream later each time, at most a minute apart, when the browser gives up', async () => {
    // The poll's backoff is jittered: pinned to the middle of its range, it grows steadily.
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    start();
    const opened: number[] = [];
    for (let second = 0; second <= 600; second++) {
      await jest.advanceTimersByTimeAsync(1000);
      if (latest().readyState === FakeEventSource.CONNECTING) {
        opened.push(second);
        latest().fail(true);
      }
    }
    const gaps = opened.slice(1).map((t, i) => t - opened[i]);
    expect(gaps.slice(0, 5)).toStrictEqual([...gaps.slice(0, 5)].sort((x, y) => x - y));
    expect(gaps[0]).toBeLessThanOrEqual(3);
    expect(Math.max(...gaps)).toBe(60);
    expect(gaps.slice(-3)).toStrictEqual([60, 60, 60]);
    expect(FakeEventSource.made.slice(0, -1).every(s => s.readyState === 2)).toBe(true);
  });
});
