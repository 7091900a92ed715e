/**
 * The companion's HTTP API (docs/API.md): routes only parse and answer; the
 * job service decides. Every error is {"error": sentence}: Express 5 passes
 * what a handler throws, or its rejected promise, on to errorAnswer.
 */
import express, { type NextFunction, type Request, type Response, Router } from 'express';
import type {
  EstimateAnswer,
  HealthInfo,
  JobDetails,
  JobList,
  NotebookParameters,
  PipelineAnswer,
  Profile,
  ScheduleInfo,
  ScheduleList,
  ScheduleOutcome,
  SetupLog,
  SweepAnswer
} from '../../contract/wire';
import { refuseCrossSiteWrites, requireToken } from './auth';
import type { EventHub } from './events';
import type { Executor } from '../executors/executor';
import { answerOf } from './httpError';
import type { JobService } from '../jobs/jobService';
import type { ScheduleService } from '../schedules/scheduleService';
import type { KernelChecker } from '../jobs/kernels';
import { estimateCache } from '../jobs/estimates';
import { profileList } from '../jobs/profileStatus';
import { resolveNotebook } from '../jobs/paths';
import type { ProfileOrigins } from '../jobs/profileSources';
import type { SchedulerHealthView } from '../jobs/schedulerHealth';

export interface AppDeps {
  service: JobService;
  schedules: ScheduleService;
  events: EventHub;
  kernels: KernelChecker;
  executor: Executor;
  profiles: Profile[];
  /** Which file each profile came from, and the files that did not load. */
  profileOrigins?: ProfileOrigins;
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
  app.use('/api/setup', setupRoutes(deps.service));
  app.use('/api/jobs', jobRoutes(deps.service));
  app.use('/api/sweeps', sweepRoutes(deps.service));
  app.use('/api/pipelines', pipelineRoutes(deps.service));
  app.use('/api/schedules', scheduleRoutes(deps.schedules));
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

function profileRoutes({ service, kernels, executor, profiles, profileOrigins }: AppDeps): Router {
  const router = Router();
  const estimates = estimateCache(executor);
  router.get('/', async (req, res) => {
    const { notebook } = req.query;
    const nb = notebook === undefined ? null : await resolveNotebook(service.rootDir, notebook);
    const answer = await profileList(
      {
        profiles,
        kernels,
        executor: executor.name,
        scheduler: await executor.describe(),
        origins: profileOrigins,
        environments: service.environments
      },
      nb?.absolute
    );
    res.json(answer);
  });
  router.get('/:id/estimate', async (req, res) => {
    const answer: EstimateAnswer = await estimates(service.profile(req.params.id));
    res.json(answer);
  });
  return router;
}

/** Installing an environment, creating a kernel: tasks with a log to follow and a cancel. */
function setupRoutes(service: JobService): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const { task, created } = await service.environments.startSetup(req.body);
    res.status(created ? 202 : 200).json(task);
  });
  router.get('/:id', (req, res) => {
    const answer: SetupLog = service.environments.readSetup(
      req.params.id,
      Number(req.query.offset ?? 0)
    );
    res.json(answer);
  });
  router.delete('/:id', (req, res) => {
    res.json(service.environments.cancelSetup(req.params.id));
  });
  return router;
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
    const details: JobDetails = await service.details(req.params.id);
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

function scheduleRoutes(schedules: ScheduleService): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const answer: ScheduleList = await schedules.list();
    res.json(answer);
  });
  router.post('/', async (req, res) => {
    const answer: ScheduleInfo = await schedules.add(req.body);
    res.status(201).json(answer);
  });
  router.post('/:id/pause', async (req, res) => {
    const answer: ScheduleInfo = await schedules.setPaused(req.params.id, true);
    res.json(answer);
  });
  router.post('/:id/resume', async (req, res) => {
    const answer: ScheduleInfo = await schedules.setPaused(req.params.id, false);
    res.json(answer);
  });
  router.post('/:id/start', async (req, res) => {
    const answer: ScheduleOutcome = await schedules.start(req.params.id);
    res.json(answer);
  });
  router.delete('/:id', async (req, res) => {
    await schedules.remove(req.params.id);
    res.status(204).end();
  });
  return router;
}

function pipelineRoutes(service: JobService): Router {
  const router = Router();
  router.post('/', async (req, res) => {
    const { body, created }: { body: PipelineAnswer; created: boolean } =
      await service.submitPipeline(req.body);
    res.status(created ? 201 : 200).json(body);
  });
  router.get('/:id', (req, res) => {
    const answer: PipelineAnswer = service.pipeline(req.params.id);
    res.json(answer);
  });
  router.post('/:id/cancel', async (req, res) => {
    const answer: PipelineAnswer = await service.cancelPipeline(req.params.id);
    res.json(answer);
  });
  router.post('/:id/rerun', async (req, res) => {
    const answer: PipelineAnswer = await service.rerunPipeline(req.params.id);
    res.status(201).json(answer);
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
