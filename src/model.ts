/**
 * The jobs model: the state the sidebar and toolbar render (profiles, jobs,
 * scheduler reachability, the filter), kept current by the companion's pushed
 * events (see eventStream.ts). It renders nothing and touches no DOM, so the
 * unit tests run it in node with a stand-in for the companion's API.
 */
import { type ISignal, Signal } from '@lumino/signaling';
import type { CompanionApi } from './api';
import { isLive, sortJobs } from './labels';
import type { Job, ProfileStatus, ServerEvent } from '../contract/wire';

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
  private _disposed = false;
  private readonly _changed = new Signal<this, void>(this);
  private readonly _jobEnded = new Signal<this, Job>(this);

  constructor(readonly api: CompanionApi) {}

  /** Any change of what is shown. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** A job seen live has ended (completed, failed, cancelled, timed out). */
  get jobEnded(): ISignal<this, Job> {
    return this._jobEnded;
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

  set currentNotebook(path: string | null) {
    if (path === this._currentNotebook) {
      return;
    }
    this._currentNotebook = path;
    this._changed.emit();
  }

  /** All jobs, newest first. */
  get jobs(): Job[] {
    return this._sorted;
  }

  /** The jobs the sidebar shows under the current filter. */
  get visibleJobs(): Job[] {
    if (this._filter === 'all' || !this._currentNotebook) {
      return this._sorted;
    }
    // An executed notebook open in front shows the runs that made it.
    return this._sorted.filter(
      j => j.notebook === this._currentNotebook || j.output === this._currentNotebook
    );
  }

  /** Something is queued or running: elapsed times move. */
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
    return this._profiles.find(p => p.id === id);
  }

  /** Newest job of a notebook. */
  latestFor(notebook: string): Job | undefined {
    return this._sorted.find(j => j.notebook === notebook);
  }

  async refreshProfiles(): Promise<void> {
    try {
      this._profiles = await this.api.profiles();
      this._companionError = undefined;
    } catch (e) {
      this._companionError = (e as Error).message;
    }
    this.emit();
  }

  /** Reachability of the scheduler as the companion last saw it (events carry changes after this). */
  async refreshHealth(): Promise<void> {
    try {
      const health = await this.api.health();
      this._companionError = undefined;
      this.setScheduler(health.schedulerReachable !== false, health.schedulerMessage);
    } catch (e) {
      this._companionError = (e as Error).message;
      this.emit();
    }
  }

  /** The whole list from the companion (its memory, never the scheduler): catch-up after a gap. */
  async refreshJobs(): Promise<void> {
    try {
      const jobs = await this.api.jobs();
      const seen = new Set<string>();
      for (const job of jobs) {
        seen.add(job.id);
        this.upsert(job, false);
      }
      for (const id of [...this._jobs.keys()]) {
        if (!seen.has(id)) {
          this._jobs.delete(id);
        }
      }
      this._companionError = undefined;
      this.resort();
    } catch (e) {
      this._companionError = (e as Error).message;
      this.emit();
    }
  }

  /** A job from a response or an event; emits jobEnded on a live -> final change. */
  upsert(job: Job, emit = true): void {
    const before = this._jobs.get(job.id);
    this._jobs.set(job.id, job);
    if (before && isLive(before) && !isLive(job)) {
      this._jobEnded.emit(job);
    }
    if (emit) {
      this.resort();
    }
  }

  remove(id: string): void {
    if (this._jobs.delete(id)) {
      this.resort();
    }
  }

  setScheduler(reachable: boolean, message?: string): void {
    if (reachable === this._reachable && message === this._schedulerMessage) {
      return;
    }
    this._reachable = reachable;
    this._schedulerMessage = reachable ? undefined : message;
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
        this.setScheduler(event.reachable, event.message);
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

  private emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  private resort(): void {
    this._sorted = sortJobs([...this._jobs.values()]);
    this.emit();
  }
}
