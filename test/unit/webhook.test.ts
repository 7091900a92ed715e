/**
 * The webhook's pure parts: the message, the URL's check and redaction, how a
 * failure is named; and once-per-run, with a URL that nothing listens on (a
 * refused connection is the one delivery these tests make).
 */
import type { Job } from '../../contract/wire';
import {
  WebhookUrlError,
  createWebhook,
  describeFailure,
  formatDuration,
  messageText,
  parseWebhookUrl,
  redactUrl,
  webhookMessage
} from '../../server/jobs/webhook';

const SECRET = '/services/T000/B000/XXXXsecretXXXX';

const job = (over: Partial<Job> = {}): Job => ({
  id: '20250101-120000-abc123',
  notebook: 'analysis/train.ipynb',
  output: 'analysis/executed/train_executed.ipynb',
  host: 'hub',
  profile: 'gpu',
  kernel: 'python3',
  resources: {},
  executor: 'slurm',
  schedulerId: '42',
  state: 'completed',
  node: 'node1',
  submittedAt: '2025-01-01T12:00:00Z',
  startedAt: '2025-01-01T12:00:10Z',
  endedAt: '2025-01-01T12:04:22Z',
  exitCode: 0,
  ...over
});

describe('messageText', () => {
  it('names the notebook, the state, the node and the duration', () => {
    expect(messageText(job())).toBe('analysis/train.ipynb completed on node1 after 4 min 12 s');
  });

  it('gives the reason of a failure', () => {
    expect(messageText(job({ state: 'failed', reason: 'cell 3 raised ValueError: bad' }))).toBe(
      'analysis/train.ipynb failed on node1 after 4 min 12 s: cell 3 raised ValueError: bad'
    );
  });

  it('says a time limit and a cancel in words', () => {
    expect(messageText(job({ state: 'timeout', reason: 'time limit reached' }))).toBe(
      'analysis/train.ipynb hit its time limit on node1 after 4 min 12 s'
    );
    expect(messageText(job({ state: 'cancelled' }))).toContain('was cancelled on node1');
  });

  it('says a run that never started so', () => {
    const queued = job({ state: 'cancelled', node: undefined, startedAt: undefined });
    expect(messageText(queued)).toBe('analysis/train.ipynb was cancelled before it started');
  });

  it('carries the facts beside the text', () => {
    const m = webhookMessage(job({ state: 'failed', reason: 'out of memory' }));
    expect(m.job).toMatchObject({
      id: '20250101-120000-abc123',
      state: 'failed',
      reason: 'out of memory',
      node: 'node1',
      schedulerId: '42',
      durationSeconds: 252
    });
    expect(m.text).toMatch(/: out of memory$/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [12.4, '12 s'],
    [60, '1 min'],
    [252, '4 min 12 s'],
    [3600, '1 h'],
    [3 * 3600 + 125, '3 h 2 min']
  ])('%p s is %p', (s, text) => expect(formatDuration(s)).toBe(text));
});

describe('parseWebhookUrl', () => {
  it('takes http and https', () => {
    expect(parseWebhookUrl(`https://hooks.slack.com${SECRET}`).pathname).toBe(SECRET);
    expect(parseWebhookUrl('http://127.0.0.1:9000/hook').port).toBe('9000');
  });

  it('refuses another scheme, naming only the scheme and host', () => {
    const attempt = () => parseWebhookUrl(`ftp://files.example.org${SECRET}?key=XXXXsecretXXXX`);
    expect(attempt).toThrow(WebhookUrlError);
    expect(attempt).toThrow('must be http or https, not ftp (ftp://files.example.org)');
    expect(() => attempt()).not.toThrow(/secret/);
  });

  it('refuses what is not a URL without echoing it', () => {
    const attempt = () => parseWebhookUrl('hooks.slack.com/XXXXsecretXXXX');
    expect(attempt).toThrow('the webhook URL is not a URL');
    expect(attempt).not.toThrow(/secret/);
  });

  it('redacts to scheme and host: no path, query or user', () => {
    const url = new URL(
      `https://user:XXXXsecretXXXX@hooks.slack.com:8443${SECRET}?t=XXXXsecretXXXX`
    );
    expect(redactUrl(url)).toBe('https://hooks.slack.com:8443');
  });
});

describe('describeFailure', () => {
  it('names a status, a timeout or an error code, nothing else', () => {
    expect(describeFailure(500)).toBe('HTTP 500');
    expect(describeFailure(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))).toBe(
      'timeout'
    );
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED'
    });
    expect(describeFailure(refused)).toBe('ECONNREFUSED');
    expect(describeFailure(new Error(`bad ${SECRET}`))).toBe('network error');
  });
});

describe('createWebhook', () => {
  // Port 1 on the loopback: nothing listens, so each POST is refused at once.
  const unreachable = `http://127.0.0.1:1${SECRET}`;

  it('refuses a bad URL at startup', () => {
    expect(() => createWebhook('file:///etc/passwd', { log: () => undefined })).toThrow(
      WebhookUrlError
    );
  });

  it('posts once per run, only when it is final, and never throws', async () => {
    const lines: string[] = [];
    const hook = createWebhook(unreachable, { log: l => lines.push(l), retryDelayMs: 1 });
    await hook.onJobEvent({ type: 'job', job: job({ state: 'running', endedAt: undefined }) });
    expect(lines).toEqual([]);
    await hook.onJobEvent({ type: 'job', job: job() });
    await hook.onJobEvent({ type: 'job', job: job() });
    await hook.onJobEvent({ type: 'forget', id: job().id });
    expect(lines).toEqual([
      'webhook to http://127.0.0.1:1 failed: ECONNREFUSED; retrying in 0 s',
      'webhook to http://127.0.0.1:1 failed: ECONNREFUSED'
    ]);
  });

  it('does not post while another companion holds the lease, nor after taking it', async () => {
    const lines: string[] = [];
    let owner = false;
    const hook = createWebhook(unreachable, {
      log: l => lines.push(l),
      retryDelayMs: 1,
      mayPost: () => owner
    });
    await hook.onJobEvent({ type: 'job', job: job() });
    owner = true;
    await hook.onJobEvent({ type: 'job', job: job() });
    expect(lines).toEqual([]);
    await hook.onJobEvent({ type: 'job', job: job({ id: '20250101-120000-def456' }) });
    expect(lines).toHaveLength(2);
  });
});
