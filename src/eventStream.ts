/**
 * The companion's pushed events (GET api/events), fed into the model.
 *
 * The browser's EventSource retries on its own after a dropped connection.
 * When it gives up (an HTTP error, a proxy that answers HTML), a Poll opens a
 * new one with backoff, as JupyterLab's EventManager does for its socket.
 * After repeated errors a second Poll reads GET api/jobs every 10 s, which
 * the companion answers from memory without asking the scheduler, until the
 * stream opens again.
 */
import { Poll } from '@lumino/polling';
import type { JobsModel } from './model';
import { eventsUrl } from './request';
import { eventOf, SERVER_EVENT_TYPES } from '../contract/rules';

/** Errors in a row before updates come by polling. */
const FALLBACK_AFTER_FAILURES = 3;
const FALLBACK_POLL_MS = 10_000;
const RECONNECT_MS = 2000;
const MAX_BACKOFF_MS = 60_000;

export class JobEventStream {
  private source: EventSource | null = null;
  private failures = 0;
  /** Opens the stream, and again with backoff each time the browser gives up on it. */
  private readonly connection: Poll;
  /** Catch-up by polling, only while the stream is down. */
  private readonly fallback: Poll;

  constructor(
    private readonly model: JobsModel,
    private readonly url: () => string = () => eventsUrl()
  ) {
    this.connection = new Poll({
      auto: false,
      factory: () => this.subscribe(),
      // JupyterLab's own growth: jittered, so many tabs do not reconnect in step.
      frequency: { interval: RECONNECT_MS, backoff: true, max: MAX_BACKOFF_MS },
      name: 'jupyterlab-hpc-submit:events',
      standby: 'never'
    });
    this.fallback = new Poll({
      auto: false,
      factory: () => model.catchUp(),
      frequency: { interval: FALLBACK_POLL_MS, backoff: false },
      name: 'jupyterlab-hpc-submit:fallback',
      standby: 'never'
    });
  }

  connect(): void {
    void this.connection.start();
  }

  dispose(): void {
    this.connection.dispose();
    this.fallback.dispose();
    this.source?.close();
    this.source = null;
  }

  /**
   * One EventSource for as long as the browser keeps it. Settles when the
   * browser gives up: resolved if it had opened (reconnect soon), rejected if
   * it never did (the poll backs off).
   */
  private subscribe(): Promise<void> {
    return new Promise((resolve, reject) => {
      const source = new EventSource(this.url(), { withCredentials: true });
      let opened = false;
      this.source = source;
      source.addEventListener('open', () => {
        opened = true;
        this.onOpen();
      });
      this.listen(source);
      source.addEventListener('error', () => {
        this.onError();
        if (source.readyState === EventSource.CLOSED) {
          source.close();
          this.source = null;
          if (opened) {
            resolve();
          } else {
            reject(new Error('the event stream closed before it opened'));
          }
        }
      });
    });
  }

  private listen(source: EventSource): void {
    for (const type of SERVER_EVENT_TYPES) {
      source.addEventListener(type, e => parse(e, data => this.model.apply(eventOf(type, data))));
    }
  }

  private onOpen(): void {
    this.failures = 0;
    void this.fallback.stop();
    // Catch up with what happened while disconnected (or before the first open).
    void this.model.catchUp();
  }

  private onError(): void {
    this.failures++;
    if (this.failures >= FALLBACK_AFTER_FAILURES) {
      void this.fallback.start();
    }
  }
}

function parse(e: Event, then: (data: unknown) => void): void {
  try {
    then(JSON.parse((e as Event & { data: string }).data));
  } catch (error) {
    console.warn('jupyterlab-hpc-submit: unreadable event', error);
  }
}
