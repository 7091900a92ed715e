/**
 * The jobs model: the state the sidebar and toolbar render (profiles, jobs,
 * scheduler reachability, the filter), and the actions that change it
 * (submit, rerun, cancel, forget, set up an environment). Each action calls the
 * companion, then updates the state and emits; a refused call rejects with
 * the companion's word and changes nothing. The companion's pushed events
 * (eventStream.ts) keep the state current between actions. It renders nothing
 * and touches no DOM, so the unit tests run it against a stand-in transport.
 */
import { type ISignal, Signal } from '@lumino/signaling';
import type { CompanionApi, LogChunk } from './api';
import { isPipelineRun, pipelineOf } from '../contract/pipelines';
import { isLive } from '../contract/rules';
import { type CurrentNotebookSource, followCurrentNotebook } from './currentNotebook';
import { StartEstimates } from './estimates';
import { JobList } from './jobList';
import type {
  EstimateAnswer,
  Job,
  JobDetails,
  NotebookParameters,
  PipelineAnswer,
  PipelineInfo,
  Parameters,
  ProfileList,
  ProfileStatus,
  Resources,
  RunChoice,
  ServerEvent,
  SetupLog,
  SetupRequest,
  SetupTask,
  SubmitRequest,
  SweepAnswer
} from '../contract/wire';

export type JobFilter = 'notebook' | 'all';

/** Notebooks whose choices are kept: more than a session keeps open. */
const CHOICES_KEPT = 20;

/** The history is read this many runs at a time, newest first: start-up never waits for all of it. */
export const HISTORY_PAGE = 200;

/** A sweep none of whose tasks is live any more, after one of them was seen live. */
export interface SweepEnd {
  sweepId: string;
  /** Its tasks this browser knows, in task order. */
  tasks: Job[];
}

export class JobsModel {
  private _profiles: ProfileStatus[] = [];
  private _profileProblems: string[] = [];
  /** Each notebook's choices, as the companion answered them (the last CHOICES_KEPT asked). */
  private readonly _choices = new Map<string, ProfileList>();
  private readonly _choicesAsked = new Set<string>();
  /** The jobs, newest first and by sweep; reports a live job that ended. */
  private readonly _list = new JobList(job => {
    this._jobEnded.emit(job);
    this.signalSweepEnd(job.sweepId);
    this.signalPipelineEnd(job);
  });
  /** The cursor of the history's next older page; undefined once all of it is here. */
  private _next: string | undefined;
  private _loadingMore = false;
  private _reachable = true;
  private _schedulerMessage: string | undefined;
  private _companionError: string | undefined;
  private _filter: JobFilter = 'notebook';
  private _currentNotebook: string | null = null;
  private _disposed = false;
  private readonly _estimates = new StartEstimates(
    profile => this.api.estimate(profile),
    () => this.emit()
  );
  private readonly _changed = new Signal<this, void>(this);
  private readonly _jobEnded = new Signal<this, Job>(this);
  private readonly _sweepEnded = new Signal<this, SweepEnd>(this);
  private readonly _pipelineEnded = new Signal<this, PipelineInfo>(this);
  /** Each pipeline's submission whose end was told (several of its runs may end in one page). */
  private readonly _pipelinesTold = new Set<string>();

  constructor(private readonly api: CompanionApi) {}

  /** Any change of what is shown. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** A job seen live has ended (completed, failed, cancelled, timed out). */
  get jobEnded(): ISignal<this, Job> {
    return this._jobEnded;
  }

  /** A sweep seen live has no live task left: one notice for the whole sweep. */
  get sweepEnded(): ISignal<this, SweepEnd> {
    return this._sweepEnded;
  }

  /** A pipeline none of whose runs is live any more, after one of them was seen live. */
  get pipelineEnded(): ISignal<this, PipelineInfo> {
    return this._pipelineEnded;
  }

  /** Each pipeline's runs, newest first, the newest pipeline first. */
  get pipelineLists(): Array<readonly Job[]> {
    return this._list.pipelineLists();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  get profiles(): ProfileStatus[] {
    return this._profiles;
  }

  get schedulerReachable(): boolean {
    return this._reachable;
  }

  get schedulerMessage(): string | undefined {
    return this._schedulerMessage;
  }

  /** Set when the companion itself cannot be reached. */
  get companionError(): string | undefined {
    return this._companionError;
  }

  get filter(): JobFilter {
    return this._filter;
  }

  set filter(value: JobFilter) {
    if (value === this._filter) {
      return;
    }
    this._filter = value;
    this._changed.emit();
  }

  get currentNotebook(): string | null {
    return this._currentNotebook;
  }

  /**
   * Follows the notebook in front (JupyterLab's notebook tracker), renames
   * included: which runs are "this notebook's" is the model's to know.
   */
  followCurrentNotebook(tracker: CurrentNotebookSource): void {
    followCurrentNotebook(tracker, path => this.setCurrentNotebook(path));
  }

  private setCurrentNotebook(path: string | null): void {
    if (path === this._currentNotebook) {
      return;
    }
    this._currentNotebook = path;
    this._changed.emit();
  }

  /** All jobs, newest first. */
  get jobs(): Job[] {
    return this._list.sorted;
  }

  /**
   * The jobs the sidebar shows under the current filter: on "This notebook",
   * the runs of the notebook in front (or of the notebook they wrote); the
   * same array until one of them changes.
   */
  get visibleJobs(): readonly Job[] {
    if (this._filter === 'all' || !this._currentNotebook) {
      return this._list.sorted;
    }
    return this._list.runsOf(this._currentNotebook);
  }

  /** Each notebook's runs, newest first, the notebook with the newest run first; a list is replaced only when one of its runs changes. */
  get notebookLists(): Array<readonly Job[]> {
    return this._list.notebookLists();
  }

  /** Something is queued or running: elapsed times move. */
  get anyRunning(): boolean {
    return this._list.sorted.some(isLive);
  }

  /** Settings changed what the toolbar and sidebar show (the default profile). */
  changedSettings(): void {
    this._changed.emit();
  }

  /** The companion has older runs than those loaded (loadMore reads them). */
  get hasMore(): boolean {
    return this._next !== undefined;
  }

  get loadingMore(): boolean {
    return this._loadingMore;
  }

  /** The tasks of a sweep this browser knows, in task order. */
  sweepTasks(sweepId: string): Job[] {
    return this._list.sweepTasks(sweepId);
  }

  job(id: string): Job | undefined {
    return this._list.get(id);
  }

  profile(id: string | undefined): ProfileStatus | undefined {
    return this._profiles.find(p => p.id === id);
  }

  /** Newest job of a notebook of this root. */
  latestFor(notebook: string): Job | undefined {
    return this._list.sorted.find(j => !j.outsideRoot && j.notebook === notebook);
  }

  /** Everything the companion knows: profiles, jobs and the scheduler's reachability. */
  async refresh(): Promise<void> {
    await Promise.all([this.refreshProfiles(), this.catchUp()]);
  }

  /** Jobs and reachability after a gap in the events (or before the first). */
  async catchUp(): Promise<void> {
    await Promise.all([this.refreshJobs(), this.refreshHealth()]);
  }

  /** The site's profiles, and again the choices of each notebook asked for (they may have changed). */
  refreshProfiles(): Promise<void> {
    return this.readCompanion(async () => {
      const [site] = await Promise.all([
        this.api.profiles(),
        ...[...this._choices.keys()].map(notebook => this.loadChoices(notebook))
      ]);
      this._profiles = site.profiles;
      this._profileProblems = site.problems ?? [];
    });
  }

  /** Profiles files that did not load, named with their problems. */
  get profileProblems(): string[] {
    return this._profileProblems;
  }

  /**
   * What a notebook may run with: its pixi project's environments on the
   * site's hardware, then the site's profiles. Asked of the companion once
   * per notebook (again on refreshProfiles); until it answers, the site's.
   */
  choicesFor(notebook: string | null): ProfileStatus[] {
    const list = notebook === null ? undefined : this.choiceList(notebook);
    // Outside a project the choices are the site's profiles, kept fresh here.
    return list?.project ? list.profiles : this._profiles;
  }

  /** The notebook's pixi project, once known; and a manifest that could not be read. */
  projectOf(notebook: string): Pick<ProfileList, 'project' | 'problems'> {
    return this.choiceList(notebook) ?? {};
  }

  private choiceList(notebook: string): ProfileList | undefined {
    const known = this._choices.get(notebook);
    if (!known && !this._choicesAsked.has(notebook)) {
      void this.loadChoices(notebook).then(() => this.emit());
    }
    return known;
  }

  private async loadChoices(notebook: string): Promise<void> {
    this._choicesAsked.add(notebook);
    try {
      const list = await this.api.profiles(notebook);
      this._choices.delete(notebook);
      this._choices.set(notebook, list);
      // Only the notebooks of this session: the oldest asked goes first.
      for (const old of [...this._choices.keys()].slice(0, -CHOICES_KEPT)) {
        this._choices.delete(old);
      }
    } catch {
      // A notebook gone or renamed: the site's profiles stand for it, and it is not asked again at once.
      this._choices.set(notebook, { profiles: [] });
    } finally {
      this._choicesAsked.delete(notebook);
    }
  }

  /** Starts installing an environment or creating a kernel; its log is read with setupLog. */
  startSetup(request: SetupRequest): Promise<SetupTask> {
    return this.api.startSetup(request);
  }

  setupLog(taskId: string, offset: number): Promise<SetupLog> {
    return this.api.setupLog(taskId, offset);
  }

  cancelSetup(taskId: string): Promise<SetupTask> {
    return this.api.cancelSetup(taskId);
  }

  /** Reachability of the scheduler as the companion last saw it (events carry changes after this). */
  refreshHealth(): Promise<void> {
    return this.readCompanion(async () => {
      const health = await this.api.health();
      this.storeScheduler(health.schedulerReachable !== false, health.schedulerMessage);
    });
  }

  /**
   * The newest runs from the companion (its memory, never the scheduler), as
   * many as are loaded already and at least one page: the start, and the
   * catch-up after a gap. What it no longer lists among them was forgotten.
   */
  refreshJobs(): Promise<void> {
    return this.readCompanion(async () => {
      const page = await this.api.jobsPage(Math.max(HISTORY_PAGE, this._list.sorted.length));
      this._list.replaceNewest(page.jobs, page.next === undefined);
      this._next = page.next;
    });
  }

  /** The next page of older runs; nothing when all are loaded or a page is on its way. */
  async loadMore(): Promise<void> {
    const cursor = this._next;
    if (cursor === undefined || this._loadingMore) {
      return;
    }
    this._loadingMore = true;
    this.emit();
    try {
      await this.readCompanion(async () => {
        const page = await this.api.jobsPage(HISTORY_PAGE, cursor);
        page.jobs.forEach(job => this._list.store(job));
        this._next = page.next;
      });
    } finally {
      this._loadingMore = false;
      this.emit();
    }
  }

  /** Submits a notebook; the job is shown at once, the companion's event for it follows. */
  async submit(
    notebook: string,
    choice: RunChoice,
    resources?: Resources,
    parameters?: Parameters
  ): Promise<Job> {
    const job = await this.api.submit({
      notebook,
      ...choice,
      ...(resources ? { resources } : {}),
      idempotencyKey: newIdempotencyKey(),
      ...(parameters && Object.keys(parameters).length > 0 ? { parameters } : {})
    });
    this.upsert(job);
    return job;
  }

  /** Submits a sweep; its tasks are shown at once. */
  async submitSweep(request: Omit<SubmitRequest, 'idempotencyKey'>): Promise<SweepAnswer> {
    const answer = await this.api.submitSweep({ ...request, idempotencyKey: newIdempotencyKey() });
    answer.jobs.forEach(job => this.upsert(job));
    return answer;
  }

  /** The notebook's parameters (its cell tagged `parameters`), as papermill reads them. */
  parameters(notebook: string): Promise<NotebookParameters> {
    return this.api.parameters(notebook);
  }

  /** Cancels every live task of a sweep. */
  async cancelSweep(sweepId: string): Promise<void> {
    const { jobs } = await this.api.cancelSweep(sweepId);
    jobs.forEach(job => this.upsert(job));
  }

  /**
   * Every task of a sweep, however far back in the history (the history is
   * read a page at a time): what the Results view shows.
   */
  async loadSweep(sweepId: string): Promise<void> {
    const { jobs } = await this.api.sweep(sweepId);
    this._list.storeAll(jobs);
    this.emit();
  }

  /** Runs the sweep's failed tasks again, as a new sweep. */
  async rerunFailed(sweepId: string): Promise<SweepAnswer> {
    const answer = await this.api.rerunFailed(sweepId);
    answer.jobs.forEach(job => this.upsert(job));
    return answer;
  }

  /** A pipeline file's steps, each after those it comes after. */
  async submitPipeline(file: string): Promise<PipelineAnswer> {
    return this.storePipeline(await this.api.submitPipeline(file));
  }

  /** Every live run of the pipeline (one scheduler call). */
  async cancelPipeline(pipelineId: string): Promise<PipelineAnswer> {
    return this.storePipeline(await this.api.cancelPipeline(pipelineId));
  }

  /** Every step that did not complete, again. */
  async rerunPipeline(pipelineId: string): Promise<PipelineAnswer> {
    return this.storePipeline(await this.api.rerunPipeline(pipelineId));
  }

  private storePipeline(answer: PipelineAnswer): PipelineAnswer {
    this._list.storeAll(answer.jobs);
    this.emit();
    return answer;
  }

  /** The same notebook again, with the same profile and resources. */
  rerun(job: Job): Promise<Job> {
    const choice: RunChoice = job.environment
      ? { profile: job.profile, environment: job.environment }
      : { profile: job.profile };
    return this.submit(job.notebook, choice, job.resources, job.parameters);
  }

  async cancel(id: string): Promise<Job> {
    const job = await this.api.cancel(id);
    this.upsert(job);
    return job;
  }

  /** Drops an ended job from the companion's list and from this one. */
  async forget(id: string): Promise<void> {
    await this.api.forget(id);
    this.remove(id);
  }

  /** A piece of a job's log from `offset` on. */
  readLog(id: string, offset: number): Promise<LogChunk> {
    return this.api.log(id, offset);
  }

  /** The run record, status and job of a run (GET api/jobs/:id/details); a refusal rejects. */
  details(id: string): Promise<JobDetails> {
    return this.api.details(id);
  }

  /** The profile's last start estimate, if one was fetched; never fetches. */
  estimate(profile: string): EstimateAnswer | undefined {
    return this._estimates.get(profile);
  }

  /**
   * Asks the companion when a run of the profile would start, unless it was
   * asked within ESTIMATE_INTERVAL_MS; emits when the answer arrives. A
   * refusal keeps the last answer: the tooltip then shows no fresh guess.
   */
  requestEstimate(profile: string, now = Date.now()): void {
    this._estimates.request(profile, now);
  }

  /** A job from a response or an event; emits jobEnded on a live -> final change. */
  upsert(job: Job): void {
    this._list.store(job);
    this.emit();
  }

  /** One event pushed by the companion. */
  apply(event: ServerEvent): void {
    switch (event.type) {
      case 'job':
        this.upsert(event.job);
        break;
      case 'forget':
        this.remove(event.id);
        break;
      case 'scheduler':
        if (this.storeScheduler(event.reachable, event.message)) {
          this.emit();
        }
        break;
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  /** A read whose failure is kept as companionError for the sidebar, not thrown. */
  private async readCompanion(read: () => Promise<void>): Promise<void> {
    try {
      await read();
      this._companionError = undefined;
    } catch (e) {
      this._companionError = (e as Error).message;
    }
    this.emit();
  }

  private signalPipelineEnd(job: Job): void {
    const id = job.pipeline?.pipelineId;
    const info = id ? pipelineOf(this._list.pipelineRuns(id).filter(isPipelineRun)) : null;
    const attempt = Math.max(
      ...(id ? this._list.pipelineRuns(id) : []).map(r => r.pipeline?.attempt ?? 0)
    );
    const told = `${id}#${attempt}`;
    if (info && !info.steps.some(isLive) && !this._pipelinesTold.has(told)) {
      this._pipelinesTold.add(told);
      this._pipelineEnded.emit(info);
    }
  }

  private signalSweepEnd(sweepId: string | undefined): void {
    if (!sweepId) {
      return;
    }
    const tasks = this.sweepTasks(sweepId);
    if (!tasks.some(isLive)) {
      this._sweepEnded.emit({ sweepId, tasks });
    }
  }

  private remove(id: string): void {
    if (this._list.drop(id)) {
      this.emit();
    }
  }

  /** Returns whether anything changed. */
  private storeScheduler(reachable: boolean, message?: string): boolean {
    const shown = reachable ? undefined : message;
    if (reachable === this._reachable && shown === this._schedulerMessage) {
      return false;
    }
    this._reachable = reachable;
    this._schedulerMessage = shown;
    return true;
  }

  private emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }
}

/** One key per click: a retried request never submits twice. */
function newIdempotencyKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
