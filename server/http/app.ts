/**
 * The companion's HTTP API (docs/API.md): routes only parse and answer; the
 * job service decides. Every error is {"error": sentence}: Express 5 passes
 * what a handler throws, or its rejected promise, on to errorAnswer.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  EstimateAnswer,
  HealthInfo,
  Job,
  JobDetails,
  JobList,
  NotebookParameters,
  Profile,
  SweepAnswer,
  RunRecord
} from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import { refuseCrossSiteWrites, requireToken } from './auth';
import type { EventHub } from './events';
import type { Executor } from '../executors/executor';
import { HttpError, answerOf } from './httpError';
import type { JobService } from '../jobs/jobService';
import { readJobStatus } from '../jobs/jobStatus';
import type { KernelChecker } from '../jobs/kernels';
import { profileStatus } from '../jobs/profileStatus';
import type { SchedulerHealthView } from '../jobs/schedulerHealth';
import { RUN_FACTS_FILE } from '../runtime/runFacts';

export interface AppDeps {
  service: JobService;
  events: EventHub;
  kernels: KernelChecker;
  executor: Executor;
  profiles: Profile[];
  scheduler: SchedulerHealthView;
  version: string;
  /** Null behind jupyter-server-proxy (Unix socket): the Jupyter server authenticates. */
  token: string | null;
  log?: (line: string) => void;
}

const BODY_LIMIT = '64kb';

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requireToken(deps.token));
  app.use(refuseCrossSiteWrites());
  app.use(express.json({ limit: BODY_LIMIT, strict: true }));

  app.get('/', (_req, res) => {
    res.type('text/plain').send('hpc-submit companion\n');
  });
  app.get('/api/health', (_req, res) => {
    res.json(healthInfo(deps));
  });
  app.use('/api/profiles', profileRoutes(deps));
  app.use('/api/jobs', jobRoutes(deps.service));
  app.use('/api/sweeps', sweepRoutes(deps.service));
  app.get('/api/parameters', async (req, res) => {
    const answer: NotebookParameters = await deps.service.parameters(req.query.notebook);
    res.json(answer);
  });
  app.get('/api/events', (_req, res) => {
    deps.events.subscribe(res);
  });

  app.use((req, res) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });
  app.use(errorAnswer(deps.log));
  return app;
}

function healthInfo(deps: AppDeps): HealthInfo {
  const { reachable, message } = deps.scheduler.current;
  return {
    ok: true,
    version: deps.version,
    executor: deps.executor.name,
    schedulerReachable: reachable,
    ...(message ? { schedulerMessage: message } : {})
  };
}

function profileRoutes({ service, kernels, executor, profiles }: AppDeps): Router {
  const router = Router();
  const estimates = estimateCache(executor);
  router.get('/', async (_req, res) => {
    const scheduler = await executor.describe();
    res.json({
      profiles: await Promise.all(
        profiles.map(p => profileStatus(p, kernels, executor.name, scheduler))
      )
    });
  });
  router.post('/:id/kernel', async (req, res) => {
    const profile = service.profile(req.params.id);
    try {
      await kernels.create(profile);
    } catch (e) {
      throw new HttpError(500, (e as Error).message);
    }
    res.json(await kernels.status(profile));
  });
  router.get('/:id/estimate', async (req, res) => {
    const answer: EstimateAnswer = await estimates(service.profile(req.params.id));
    res.json(answer);
  });
  return router;
}

/** How long Slurm's estimate for a profile is reused: every open tab asks for it. */
const ESTIMATE_TTL_MS = 30_000;

/**
 * The start estimate of a profile's run, one scheduler call per profile per
 * 30 s whatever the number of tabs (concurrent asks share the call). The
 * local executor answers from memory: never cached, so it follows the queue.
 */
function estimateCache(executor: Executor): (profile: Profile) => Promise<EstimateAnswer> {
  const cache = new Map<string, { at: number; answer: Promise<EstimateAnswer> }>();
  const ttl = executor.name === 'slurm' ? ESTIMATE_TTL_MS : 0;
  return profile => {
    if (!executor.estimateStart) {
      return Promise.resolve({ expectedStart: null, message: 'no estimate' });
    }
    const hit = cache.get(profile.id);
    if (hit && Date.now() - hit.at < ttl) {
      return hit.answer;
    }
    const answer = executor.estimateStart(profile.resources);
    cache.set(profile.id, { at: Date.now(), answer });
    answer.catch(() => cache.delete(profile.id));
    return answer;
  };
}

function jobRoutes(service: JobService): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const { body, created } = await service.submit(req.body);
    res.status(created ? 201 : 200).json(body);
  });
  router.get('/', (req, res) => {
    const { notebook, limit, cursor } = req.query;
    res.type('application/json').send(service.listJson(notebook, limit, cursor));
  });
  router.get('/:id', (req, res) => {
    res.json(service.get(req.params.id));
  });
  router.get('/:id/details', async (req, res) => {
    const record = service.record(req.params.id);
    const details: JobDetails = await jobDetails(
      service.wire(record),
      record.outputPath,
      service.jobDir(record.id)
    );
    res.json(details);
  });
  router.get('/:id/log', async (req, res) => {
    const { text, next } = await service.log(req.params.id, req.query.offset);
    res.setHeader('X-Log-Offset', String(next));
    res.type('text/plain; charset=utf-8').send(text);
  });
  router.post('/:id/cancel', async (req, res) => {
    res.json(await service.cancel(req.params.id));
  });
  router.delete('/:id', async (req, res) => {
    await service.forget(req.params.id);
    res.status(204).end();
  });
  return router;
}

function sweepRoutes(service: JobService): Router {
  const router = Router();
  router.get('/:id', (req, res) => {
    const answer: SweepAnswer = service.sweep(req.params.id);
    res.json(answer);
  });
  router.post('/:id/cancel', async (req, res) => {
    const answer: JobList = await service.cancelSweep(req.params.id);
    res.json(answer);
  });
  router.post('/:id/rerun-failed', async (req, res) => {
    const answer: SweepAnswer = await service.rerunFailed(req.params.id);
    res.status(201).json(answer);
  });
  return router;
}

/** An executed notebook larger than this is not parsed for its run record: it would stall the companion. */
const NOTEBOOK_PARSE_LIMIT = 50 * 1024 * 1024;

/**
 * "Run details": the job, its run record (the executed notebook's, else what
 * the companion knew at submission) and its status.json.
 */
async function jobDetails(job: Job, outputPath: string, jobDir: string): Promise<JobDetails> {
  const [fromNotebook, status] = await Promise.all([
    notebookRunRecord(outputPath, job.id),
    readJobStatus(jobDir)
  ]);
  if ('run' in fromNotebook) {
    return { job, run: fromNotebook.run, runSource: 'notebook', status };
  }
  if (fromNotebook.tooLarge) {
    return { job, run: null, runSource: null, note: fromNotebook.note, status };
  }
  const facts = await submissionFacts(jobDir);
  const note =
    fromNotebook.note ??
    (isFinal(job)
      ? 'the executed notebook holds no run record of this run'
      : 'the run record is written into the executed notebook when the run ends');
  return facts
    ? { job, run: facts, runSource: 'submission', note, status }
    : { job, run: null, runSource: null, note, status };
}

type NotebookRecord = { run: RunRecord } | { note?: string; tooLarge?: boolean };

/**
 * metadata.hpc_submit.run of the executed notebook, when it is this job's:
 * the output path is the same for every run of a notebook, and an earlier
 * run's record must not be shown as this one's.
 */
async function notebookRunRecord(path: string, jobId: string): Promise<NotebookRecord> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return {};
  }
  if (size > NOTEBOOK_PARSE_LIMIT) {
    const mb = Math.round(size / (1024 * 1024));
    return {
      tooLarge: true,
      note: `the executed notebook is ${mb} MB, more than 50 MB: its run record is not read`
    };
  }
  let notebook: { metadata?: { hpc_submit?: { run?: unknown } } };
  try {
    notebook = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    return { note: `the executed notebook cannot be read: ${(e as Error).message}` };
  }
  const run = notebook?.metadata?.hpc_submit?.run;
  if (!run || typeof run !== 'object' || Array.isArray(run)) {
    return {};
  }
  return (run as RunRecord).jobId === jobId ? { run: run as RunRecord } : {};
}

/** run.json's facts in the run record's terms (the notebook's path is the job's own). */
async function submissionFacts(jobDir: string): Promise<Partial<RunRecord> | null> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(join(jobDir, RUN_FACTS_FILE), 'utf8'));
  } catch {
    return null; // a job submitted before run.json existed, or one being removed
  }
  if (!raw || typeof raw !== 'object') {
    return null;
  }
  const { jobId, executor, profile, resources, launcher } = raw as Partial<RunRecord>;
  return { jobId, executor, profile, resources, launcher };
}

/** Every failure answers a sentence, never a stack trace; the unexpected ones are logged. */
function errorAnswer(log: AppDeps['log']) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const { status, message } = errorStatus(err);
    if (status === 500 && !answerOf(err)) {
      log?.(`error on ${req.method} ${req.path}: ${(err as Error)?.stack ?? String(err)}`);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json({ error: message });
  };
}

function errorStatus(err: unknown): { status: number; message: string } {
  const meant = answerOf(err);
  if (meant) {
    return meant;
  }
  const e = err as { status?: number; type?: string };
  if (e.type === 'entity.too.large') {
    return { status: 413, message: `the request body is larger than ${BODY_LIMIT}` };
  }
  if (e.type === 'entity.parse.failed') {
    return { status: 400, message: 'the request body is not valid JSON' };
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, message: `bad request: ${e.type ?? 'malformed'}` };
  }
  return { status: 500, message: 'internal error in the companion; see its log' };
}
