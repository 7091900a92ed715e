/**
 * The companion's pushed events (GET api/events), fed into the model. The
 * browser's EventSource retries on its own after a dropped connection; when
 * it gives up (an HTTP error, a proxy that answers HTML) this reconnects with
 * backoff, and after repeated failures polls GET api/jobs every 10 s, which
 * the companion answers from memory without asking the scheduler.
 */
import type { JobsModel } from './model';
import { eventsUrl } from './request';
import type { Job } from '../contract/wire';

const FALLBACK_AFTER_FAILURES = 3;
const FALLBACK_POLL_MS = 10_000;
const MAX_BACKOFF_MS = 60_000;

export class JobEventStream {
  private source: EventSource | null = null;
  private failures = 0;
  private reconnectTimer: number | null = null;
  private pollTimer: number | null = null;
  private disposed = false;

  constructor(
    private readonly model: JobsModel,
    private readonly url: () => string = () => eventsUrl()
  ) {}

  /** True while updates come by polling instead of events. */
  get polling(): boolean {
    return this.pollTimer !== null;
  }

  connect(): void {
    if (this.disposed || this.source) {
      return;
    }
    const source = new EventSource(this.url(), { withCredentials: true });
    this.source = source;
    source.addEventListener('open', () => {
      this.failures = 0;
      this.stopPolling();
      // Catch up with what happened while disconnected (or before the first open).
      void this.model.refreshJobs();
      void this.model.refreshHealth();
    });
    source.addEventListener('job', e =>
      this.parse(e, (job: Job) => this.model.apply({ type: 'job', job }))
    );
    source.addEventListener('forget', e =>
      this.parse(e, (d: { id: string }) => this.model.apply({ type: 'forget', id: d.id }))
    );
    source.addEventListener('scheduler', e =>
      this.parse(e, (d: { reachable: boolean; message?: string }) =>
        this.model.apply({
          type: 'scheduler',
          reachable: d.reachable,
          message: d.message ?? undefined
        })
      )
    );
    source.addEventListener('error', () => this.onError(source));
  }

  dispose(): void {
    this.disposed = true;
    this.source?.close();
    this.source = null;
    if (this.reconnectTimer !== null) {
      window.clearTimeout(this.reconnectTimer);
    }
    this.stopPolling();
  }

  private parse<T>(e: Event, then: (data: T) => void): void {
    try {
      then(JSON.parse((e as MessageEvent<string>).data) as T);
    } catch (error) {
      console.warn('jupyterlab-hpc-submit: unreadable event', error);
    }
  }

  private onError(source: EventSource): void {
    if (source !== this.source) {
      return;
    }
    this.failures++;
    if (this.failures >= FALLBACK_AFTER_FAILURES) {
      this.startPolling();
    }
    if (source.readyState === EventSource.CLOSED) {
      // The browser stopped retrying: try again later ourselves.
      source.close();
      this.source = null;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures, 6));
      if (this.reconnectTimer !== null) {
        window.clearTimeout(this.reconnectTimer);
      }
      this.reconnectTimer = window.setTimeout(() => {
        this.reconnectTimer = null;
        this.connect();
      }, delay);
    }
  }

  private startPolling(): void {
    if (this.pollTimer !== null || this.disposed) {
      return;
    }
    const poll = () => {
      void this.model.refreshJobs();
      void this.model.refreshHealth();
    };
    poll();
    this.pollTimer = window.setInterval(poll, FALLBACK_POLL_MS);
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) {
      window.clearInterval(this.pollTimer);
    }
    this.pollTimer = null;
  }
}
