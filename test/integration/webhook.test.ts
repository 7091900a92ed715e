/**
 * The webhook against a real HTTP receiver on 127.0.0.1, with the job events
 * the lease holder's poller publishes: a record, its job's own status.json
 * read and reconciled as the poller does, the client's view (toWire). No
 * companion: the module is called as serve.ts calls it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../contract/wire';
import { runCli } from '../fixtures/cli';
import { type Companion, startCompanion, until } from '../fixtures/companion';
import { notebookJson } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { readJobStatus } from '../../server/jobs/jobStatus';
import { reconcile } from '../../server/jobs/reconcile';
import { type JobRecord, toWire } from '../../server/jobs/store';
import { createWebhook, type WebhookMessage } from '../../server/jobs/webhook';

const SECRET_PATH = '/services/T0001/B0002/XXXXsecretXXXX';
const SECRET_QUERY = 'token=YYYYsecretYYYY';

interface Received {
  path: string;
  body: WebhookMessage;
}

/** A receiver that answers each POST with the next status of `answers` (then 200), or never. */
async function receiver(answers: (number | 'hang')[]): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const answer = answers.shift() ?? 200;
      if (answer === 'hang') {
        return; // never answers
      }
      if (answer === 200) {
        received.push({
          path: req.url ?? '',
          body: JSON.parse(Buffer.concat(chunks).toString('utf8'))
        });
      }
      res.writeHead(answer).end(answer === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>(ok => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${SECRET_PATH}?${SECRET_QUERY}`,
    received,
    close: () =>
      new Promise(ok => {
        server.closeAllConnections();
        server.close(() => ok());
      })
  };
}

const root = mkdtempSync(join(tmpdir(), 'hpc-webhook-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A running job whose own status.json then says it ended: the poller's event for it. */
async function endedJob(
  id: string,
  end: { outcome: 'completed' | 'failed'; exitCode: number; reason?: string }
): Promise<Job> {
  const dir = join(root, id);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const record: JobRecord = {
    id,
    notebook: 'project/train.ipynb',
    output: 'project/executed/train_executed.ipynb',
    notebookPath: join(root, 'project', 'train.ipynb'),
    outputPath: join(root, 'project', 'executed', 'train_executed.ipynb'),
    host: 'hub',
    profile: 'gpu',
    kernel: 'python3',
    resources: { gpus: 1 },
    executor: 'slurm',
    schedulerId: '4242',
    state: 'running',
    node: 'node1',
    submittedAt: '2025-01-01T12:00:00Z',
    startedAt: '2025-01-01T12:00:05Z'
  };
  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({
      phase: 'ended',
      host: 'node1',
      gpus: ['0'],
      startedAt: '2025-01-01T12:00:05Z',
      endedAt: '2025-01-01T12:03:05Z',
      ...end
    })
  );
  writeFileSync(join(dir, 'log.txt'), '');
  const status = await readJobStatus(dir);
  const patch = reconcile(record, status, null, undefined, {
    cancelRequested: false,
    schedulerReachable: true
  });
  return toWire({ ...record, ...patch }, root);
}

/** Every line must hold neither the URL's path nor its query. */
function expectNoSecret(lines: string[]): void {
  for (const line of lines) {
    expect(line).not.toContain('secret');
    expect(line).not.toContain('/services/');
    expect(line).not.toContain('token=');
  }
}

describe('webhook delivery to a real receiver', () => {
  it('posts the end of a run once, Slack-compatible, to the full URL', async () => {
    const r = await receiver([]);
    const lines: string[] = [];
    try {
      const hook = createWebhook(r.url, { log: l => lines.push(l) });
      const job = await endedJob('20250101-120000-aaaaaa', { outcome: 'completed', exitCode: 0 });
      expect(job.state).toBe('completed');
      await hook.onJobEvent({ type: 'job', job });
      await hook.onJobEvent({ type: 'job', job });
      expect(r.received).toHaveLength(1);
      expect(r.received[0].path).toBe(`${SECRET_PATH}?${SECRET_QUERY}`);
      expect(r.received[0].body.text).toBe('project/train.ipynb completed on node1 after 3 min');
      expect(r.received[0].body.job).toMatchObject({
        id: job.id,
        state: 'completed',
        schedulerId: '4242',
        durationSeconds: 180
      });
      expect(lines).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it('retries once after a 500: exactly one message arrives', async () => {
    const r = await receiver([500]);
    const lines: string[] = [];
    try {
      const hook = createWebhook(r.url, { log: l => lines.push(l) });
      const job = await endedJob('20250101-120000-bbbbbb', {
        outcome: 'failed',
        exitCode: 1,
        reason: 'cell 3 raised ValueError: bad input'
      });
      const started = Date.now();
      await hook.onJobEvent({ type: 'job', job });
      // The default retry delay (5 s), for real.
      expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
      expect(r.received).toHaveLength(1);
      expect(r.received[0].body.text).toBe(
        'project/train.ipynb failed on node1 after 3 min: cell 3 raised ValueError: bad input'
      );
      expect(lines).toEqual([
        `webhook to ${new URL(r.url).origin} failed: HTTP 500; retrying in 5 s`
      ]);
      expectNoSecret(lines);
    } finally {
      await r.close();
    }
  });

  it('gives up on a receiver that hangs, after the timeout and one retry, naming only the host', async () => {
    const r = await receiver(['hang', 'hang']);
    const lines: string[] = [];
    try {
      const hook = createWebhook(r.url, {
        log: l => lines.push(l),
        timeoutMs: 300,
        retryDelayMs: 100
      });
      const job = await endedJob('20250101-120000-cccccc', { outcome: 'completed', exitCode: 0 });
      const started = Date.now();
      await expect(hook.onJobEvent({ type: 'job', job })).resolves.toBeUndefined();
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      expect(r.received).toHaveLength(0);
      const origin = new URL(r.url).origin;
      expect(lines).toEqual([
        `webhook to ${origin} failed: timeout; retrying in 0.1 s`,
        `webhook to ${origin} failed: timeout`
      ]);
      expectNoSecret(lines);
    } finally {
      await r.close();
    }
  });

  it('does not retry what the receiver refuses as wrong (404)', async () => {
    const r = await receiver([404]);
    const lines: string[] = [];
    try {
      const hook = createWebhook(r.url, { log: l => lines.push(l), retryDelayMs: 100 });
      const job = await endedJob('20250101-120000-dddddd', { outcome: 'completed', exitCode: 0 });
      await hook.onJobEvent({ type: 'job', job });
      expect(r.received).toHaveLength(0);
      expect(lines).toEqual([`webhook to ${new URL(r.url).origin} failed: HTTP 404`]);
      expectNoSecret(lines);
    } finally {
      await r.close();
    }
  });
});

describe('serve --webhook-url', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['serve', ...args], {
      cwd: root,
      profiles: join(root, 'no-profiles.json'),
      state: { dir: join(root, 'state') },
      env
    });

  it('refuses a URL that is not http(s) at startup, naming only its scheme and host', () => {
    const r = run(['--webhook-url', `ftp://hooks.example.org${SECRET_PATH}?${SECRET_QUERY}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--webhook-url: the webhook URL must be http or https, not ftp (ftp://hooks.example.org)'
    );
    expectNoSecret([r.stdout, r.stderr]);
  });

  it('refuses HPC_SUBMIT_WEBHOOK_URL when it is not a URL, without echoing it', () => {
    const r = run([], { HPC_SUBMIT_WEBHOOK_URL: `hooks.example.org${SECRET_PATH}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('HPC_SUBMIT_WEBHOOK_URL: the webhook URL is not a URL');
    expectNoSecret([r.stdout, r.stderr]);
  });
});

describe('the webhook through a real companion', () => {
  it('posts each run’s end exactly once, and the URL reaches neither the log nor the job', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hpc-webhook-companion-'));
    const hook = await receiver([]);
    let companion: Companion | undefined;
    try {
      mkdirSync(join(dir, 'root'));
      writeFileSync(join(dir, 'root', 'hooked.ipynb'), notebookJson(["print('done')"]));
      companion = await startCompanion({
        rootDir: join(dir, 'root'),
        stateDir: join(dir, 'state'),
        profiles: writeTestProfiles(join(dir, 'profiles.json')),
        env: { HPC_SUBMIT_WEBHOOK_URL: hook.url }
      });
      const c = companion;
      const job = (await c.api('POST', 'api/jobs', { notebook: 'hooked.ipynb', profile: 'cpu' }))
        .json;
      await until('the run to end', async () => {
        const j = (await c.api('GET', `api/jobs/${job.id}`)).json;
        return j.state === 'completed' ? j : null;
      });
      await until('the webhook post', () => hook.received.length > 0, 10_000);
      await new Promise(r => setTimeout(r, 2500)); // a second post would come within a poll
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0].body.text).toMatch(/hooked\.ipynb completed/);
      expect(hook.received[0].path).toBe(`${SECRET_PATH}?${SECRET_QUERY}`);
      const jobFiles = ['job.json', 'job.sh', 'log.txt', 'status.json'].map(f =>
        readFileSync(join(dir, 'state', 'jobs', job.id, f), 'utf8')
      );
      for (const text of [c.output(), ...jobFiles]) {
        expect(text).not.toContain('secret');
      }
    } finally {
      await companion?.stop();
      await hook.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
