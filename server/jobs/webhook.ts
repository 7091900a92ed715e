/**
 * The opt-in webhook (`--webhook-url`, `HPC_SUBMIT_WEBHOOK_URL`): one POST
 * when a run ends, Slack-compatible (`{"text": ...}`) with the job's facts
 * beside the text. The URL is a secret (Slack's path is the credential), so
 * only its scheme and host are ever written anywhere: logs, errors, files.
 *
 * Once per run: only the lease holder's poller sees a run become final
 * (serve.ts wires it), and a run already posted, or seen final while another
 * companion held the lease, is never posted again by this companion.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Job, ServerEvent } from '../../contract/wire';
import { isFinal } from '../../contract/rules';

export interface WebhookOptions {
  log: (line: string) => void;
  /** Each attempt's limit; default 5 s. */
  timeoutMs?: number;
  /** The wait before the one retry; default 5 s. */
  retryDelayMs?: number;
  /** Whether this companion may post now (holds the lease); default always. */
  mayPost?: () => boolean;
}

export interface Webhook {
  /** Where it posts, without the secret: `https://hooks.slack.com`. */
  readonly target: string;
  /** Posts once for a run that is final; resolves when delivered or given up; never rejects. */
  onJobEvent(event: ServerEvent): Promise<void>;
}

/** What is posted: Slack reads `text`; other receivers may read `job`. */
export interface WebhookMessage {
  text: string;
  job: {
    id: string;
    notebook: string;
    state: Job['state'];
    reason?: string;
    node?: string;
    host?: string;
    schedulerId: string | null;
    exitCode?: number;
    startedAt?: string;
    endedAt?: string;
    durationSeconds?: number;
  };
}

/** A webhook URL that cannot be used; its message never holds the URL's path or query. */
export class WebhookUrlError extends Error {}

/** The URL's scheme and host only: what logs and errors may name. Pure. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** Checks the URL: http or https, with a host. Pure; the error names only scheme and host. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new WebhookUrlError('the webhook URL is not a URL: give http(s)://host/path');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlError(
      `the webhook URL must be http or https, not ${url.protocol.replace(/:$/, '')} (${redactUrl(url)})`
    );
  }
  if (!url.hostname) {
    throw new WebhookUrlError(`the webhook URL has no host (${redactUrl(url)})`);
  }
  return url;
}

/** "3 h 2 min", "4 min 12 s", "12 s". Pure. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) {
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  if (m > 0) {
    return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  }
  return `${s} s`;
}

const STATE_WORDS: Record<string, string> = {
  completed: 'completed',
  failed: 'failed',
  cancelled: 'was cancelled',
  timeout: 'hit its time limit'
};

/** Seconds the run ran (start to end), when both are known. Pure. */
function ranSeconds(job: Job): number | undefined {
  if (!job.startedAt || !job.endedAt) {
    return undefined;
  }
  const ms = Date.parse(job.endedAt) - Date.parse(job.startedAt);
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/**
 * "analysis.ipynb failed on node1 after 4 min 12 s: cell 3 raised ValueError".
 * A run that never started says so instead of a node and a duration. Pure.
 */
export function messageText(job: Job): string {
  const words = STATE_WORDS[job.state] ?? job.state;
  const seconds = ranSeconds(job);
  const where = job.node ? ` on ${job.node}` : '';
  const when =
    seconds !== undefined
      ? ` after ${formatDuration(seconds)}`
      : job.startedAt
        ? ''
        : ' before it started';
  const why = job.state === 'failed' && job.reason ? `: ${job.reason}` : '';
  return `${job.notebook} ${words}${where}${when}${why}`;
}

/** The body posted for a final run. Pure. */
export function webhookMessage(job: Job): WebhookMessage {
  const seconds = ranSeconds(job);
  return {
    text: messageText(job),
    job: {
      id: job.id,
      notebook: job.notebook,
      state: job.state,
      reason: job.reason,
      node: job.node,
      host: job.host,
      schedulerId: job.schedulerId,
      exitCode: job.exitCode,
      startedAt: job.startedAt,
      endedAt: job.endedAt,
      durationSeconds: seconds === undefined ? undefined : Math.round(seconds)
    }
  };
}

/** How an attempt failed, without the URL: "HTTP 500", "timeout", "ECONNREFUSED". Pure. */
export function describeFailure(failure: number | unknown): string {
  if (typeof failure === 'number') {
    return `HTTP ${failure}`;
  }
  // Only the code: an error's message may quote the URL.
  const code = (failure as { code?: unknown } | null)?.code;
  if (code === 'ETIMEDOUT') {
    return 'timeout';
  }
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : 'network error';
}

/** 2xx: delivered (a redirect is not followed: the secret stays with the one host). */
function ok(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}

/** A 4xx other than 408/429 says the request itself is wrong: the same one again fails too. */
function worthRetrying(failure: number | unknown): boolean {
  return typeof failure !== 'number' || failure >= 500 || failure === 408 || failure === 429;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_RETRY_DELAY_MS = 5000;

/** Throws WebhookUrlError at startup for a URL it cannot use; never throws afterwards. */
export function createWebhook(urlText: string, opts: WebhookOptions): Webhook {
  const url = parseWebhookUrl(urlText);
  const target = redactUrl(url);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const mayPost = opts.mayPost ?? (() => true);
  /** Runs seen final: posted, or ended while another companion held the lease. */
  const seenFinal = new Set<string>();

  /** One POST; answers the failure (status or error), or null when delivered. */
  const attempt = (body: string): Promise<number | unknown | null> =>
    new Promise(settle => {
      // node:http, not fetch(): fetch refuses some ports and wraps the socket's error.
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body)
          },
          timeout: timeoutMs
        },
        res => {
          res.resume(); // the answer's body is not read, only drained
          res.on('end', () => settle(ok(res.statusCode) ? null : (res.statusCode ?? 0)));
          res.on('error', e => settle(e));
        }
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))
      );
      req.on('error', e => settle(e));
      req.end(body);
    });

  const deliver = async (job: Job): Promise<void> => {
    const body = JSON.stringify(webhookMessage(job));
    const first = await attempt(body);
    if (first === null) {
      return;
    }
    if (!worthRetrying(first)) {
      opts.log(`webhook to ${target} failed: ${describeFailure(first)}`);
      return;
    }
    opts.log(
      `webhook to ${target} failed: ${describeFailure(first)}; retrying in ${Math.round(retryDelayMs / 100) / 10} s`
    );
    await new Promise(wake => setTimeout(wake, retryDelayMs).unref());
    const second = await attempt(body);
    if (second !== null) {
      opts.log(`webhook to ${target} failed: ${describeFailure(second)}`);
    }
  };

  return {
    target,
    async onJobEvent(event: ServerEvent): Promise<void> {
      if (event.type !== 'job' || !isFinal(event.job) || seenFinal.has(event.job.id)) {
        return;
      }
      seenFinal.add(event.job.id);
      if (!mayPost()) {
        return;
      }
      try {
        await deliver(event.job);
      } catch (e) {
        // Never reached by design; a webhook must not take the companion down.
        opts.log(`webhook to ${target} failed: ${describeFailure(e)}`);
      }
    }
  };
}
