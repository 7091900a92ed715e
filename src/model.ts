/**
 * The jobs model: the state the sidebar and toolbar render (profiles, jobs,
 * scheduler reachability, the filter), kept current by the companion's pushed
 * events. It renders nothing.
 */
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { api } from './api';
import { isLive, sortJobs } from './labels';
import { companionUrl } from './request';
import type { Job, ProfileStatus } from './wire';

export type JobFilter = 'notebook' | 'all';

export class JobsModel {
  private _profiles: ProfileStatus[] = [];
  private _jobs = new Map<string, Job>();
  private _sorted: Job[] = [];
  private _reachable = true;
  private _schedulerMessage: string | undefined;
  private _companionError: string | undefined;
  private _filter: JobFilter = 'notebook';
  private _currentNotebook: string | null = null;
  private _events: EventSource | null = null;
  private _fallback: number | null = null;
  private _failures = 0;
  private readonly _changed = new Signal<this, void>(this);
  private readonly _jobEnded = new Signal<this, Job>(this);

  /** Any change of what is shown. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** A job seen live has ended (completed, failed, cancelled, timed out). */
  get jobEnded(): ISignal<this, Job> {
    return this._jobEnded;
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
    if (value === this._filter) return;
    this._filter = value;
    this._changed.emit();
  }

  get currentNotebook(): string | null {
    return this._currentNotebook;
  }

  set currentNotebook(path: string | null) {
    if (path === this._currentNotebook) return;
    this._currentNotebook = path;
    this._changed.emit();
  }

  /** All jobs, newest first. */
  get jobs(): Job[] {
    return this._sorted;
  }

  /** The jobs the sidebar shows under the current filter. */
  get visibleJobs(): Job[] {
    if (this._filter === 'all' || !this._currentNotebook) return this._sorted;
    // An executed notebook open in front shows the runs that made it.
    return this._sorted.filter((j) => j.notebook === this._currentNotebook || j.output === this._currentNotebook);
  }

  get anyRunning(): boolean {
    return this._sorted.some(isLive);
  }

  /** Settings changed what the toolbar and sidebar show (the default profile). */
  changedSettings(): void {
    this._changed.emit();
  }

  job(id: string): Job | undefined {
    return this._jobs.get(id);
  }

  profile(id: string | undefined): ProfileStatus | undefined {
    return this._profiles.find((p) => p.id === id);
  }

  /** Newest job of a notebook. */
  latestFor(notebook: string): Job | undefined {
    return this._sorted.find((j) => j.notebook === notebook);
  }

  async refreshProfiles(): Promise<void> {
    try {
      this._profiles = await api.profiles();
      this._companionError = undefined;
    } catch (e) {
      this._companionError = (e as Error).message;
    }
    this._changed.emit();
  }

  async refreshJobs(): Promise<void> {
    try {
      const jobs = await api.jobs();
      const seen = new Set<string>();
      for (const job of jobs) {
        seen.add(job.id);
        this.upsert(job, false);
      }
      for (const id of [...this._jobs.keys()]) if (!seen.has(id)) this._jobs.delete(id);
      this._companionError = undefined;
      this.resort();
    } catch (e) {
      this._companionError = (e as Error).message;
      this._changed.emit();
    }
  }

  /** A job from a response or an event; emits jobEnded on a live -> final change. */
  upsert(job: Job, emit = true): void {
    const before = this._jobs.get(job.id);
    this._jobs.set(job.id, job);
    if (before && isLive(before) && !isLive(job)) this._jobEnded.emit(job);
    if (emit) this.resort();
  }

  remove(id: string): void {
    if (this._jobs.delete(id)) this.resort();
  }

  /** Subscribes to the companion's events; falls back to a cheap poll when a proxy blocks them. */
  connect(settings: ServerConnection.ISettings = ServerConnection.makeSettings()): void {
    if (this._events) return;
    const source = new EventSource(companionUrl(settings, 'api/events'), { withCredentials: true });
    this._events = source;
    source.addEventListener('open', () => {
      this._failures = 0;
      this.stopFallback();
      // Catch up with what happened while disconnected.
      void this.refreshJobs();
    });
    source.addEventListener('job', (e) => this.upsert(JSON.parse((e as MessageEvent).data) as Job));
    source.addEventListener('forget', (e) => this.remove((JSON.parse((e as MessageEvent).data) as { id: string }).id));
    source.addEventListener('scheduler', (e) => {
      const s = JSON.parse((e as MessageEvent).data) as { reachable: boolean; message?: string };
      this._reachable = s.reachable;
      this._schedulerMessage = s.message;
      this._changed.emit();
    });
    source.addEventListener('error', () => {
      this._failures++;
      if (this._failures >= 3) this.startFallback();
    });
  }

  dispose(): void {
    this._events?.close();
    this._events = null;
    this.stopFallback();
    Signal.clearData(this);
  }

  private startFallback(): void {
    if (this._fallback !== null) return;
    // The companion answers GET api/jobs from memory: this never reaches the scheduler.
    this._fallback = window.setInterval(() => void this.refreshJobs(), 10_000);
  }

  private stopFallback(): void {
    if (this._fallback !== null) window.clearInterval(this._fallback);
    this._fallback = null;
  }

  private resort(): void {
    this._sorted = sortJobs([...this._jobs.values()]);
    this._changed.emit();
  }
}
