/**
 * The companion's HTTP API (the contract is in DESIGN.md): routes only parse
 * and answer; the job service decides. Every error is {"error": sentence}.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { HealthInfo, Profile, ProfileStatus } from '../../contract/wire';
import { refuseCrossSiteWrites, requireToken } from './auth';
import type { EventHub } from './events';
import type { Executor } from '../executors/executor';
import { HttpError } from './httpError';
import type { JobService, SchedulerHealth } from '../jobs/jobService';
import type { KernelChecker } from '../jobs/kernels';

export interface AppDeps {
  service: JobService;
  events: EventHub;
  kernels: KernelChecker;
  executor: Executor;
  profiles: Profile[];
  scheduler: () => SchedulerHealth;
  version: string;
  /** Null behind jupyter-server-proxy (Unix socket): the Jupyter server authenticates. */
  token: string | null;
  log?: (line: string) => void;
}

const BODY_LIMIT = '64kb';

type Handler = (req: Request, res: Response) => Promise<unknown> | unknown;
const route = (handler: Handler) => (req: Request, res: Response, next: NextFunction) => {
  Promise.resolve()
    .then(() => handler(req, res))
    .catch(next);
};

export function createApp(deps: AppDeps): express.Express {
  const { service } = deps;
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
    const s = deps.scheduler();
    const body: HealthInfo = {
      ok: true,
      version: deps.version,
      executor: deps.executor.name,
      schedulerReachable: s.reachable,
      ...(s.message ? { schedulerMessage: s.message } : {})
    };
    res.json(body);
  });

  app.get(
    '/api/profiles',
    route(async (_req, res) => {
      const [info] = await Promise.all([deps.executor.describe()]);
      const profiles: ProfileStatus[] = await Promise.all(
        deps.profiles.map(p => {
          const extra = [];
          if (!info.reachable) {
            extra.push({
              code: 'scheduler-unreachable' as const,
              message: info.message ?? 'the scheduler is not answering'
            });
          } else if (
            deps.executor.name === 'slurm' &&
            p.resources.partition &&
            !info.partitions.includes(p.resources.partition)
          ) {
            extra.push({
              code: 'partition-unknown' as const,
              message: `the partition "${p.resources.partition}" does not exist on this cluster (it has ${info.partitions.join(', ') || 'none'})`
            });
          }
          return deps.kernels.status(p, extra);
        })
      );
      res.json({ profiles });
    })
  );

  app.post(
    '/api/profiles/:id/kernel',
    route(async (req, res) => {
      const profile = service.profile(req.params.id);
      try {
        await deps.kernels.create(profile);
      } catch (e) {
        throw new HttpError(500, (e as Error).message);
      }
      res.json(await deps.kernels.status(profile));
    })
  );

  app.post(
    '/api/jobs',
    route(async (req, res) => {
      const { job, created } = await service.submit(req.body);
      res.status(created ? 201 : 200).json(job);
    })
  );

  app.get('/api/jobs', (req, res) => {
    res.type('application/json').send(service.listJson(req.query.notebook));
  });

  app.get('/api/jobs/:id', (req, res) => {
    res.json(service.get(String(req.params.id)));
  });

  app.get(
    '/api/jobs/:id/log',
    route(async (req, res) => {
      const { text, next } = await service.log(String(req.params.id), req.query.offset);
      res.setHeader('X-Log-Offset', String(next));
      res.type('text/plain; charset=utf-8').send(text);
    })
  );

  app.post(
    '/api/jobs/:id/cancel',
    route(async (req, res) => {
      res.json(await service.cancel(String(req.params.id)));
    })
  );

  app.delete(
    '/api/jobs/:id',
    route(async (req, res) => {
      await service.forget(String(req.params.id));
      res.status(204).end();
    })
  );

  app.get('/api/events', (_req, res) => {
    deps.events.subscribe(res);
  });

  app.use((req, res) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });

  // Every failure answers a sentence, never a stack trace.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    let status = 500;
    let message = 'internal error in the companion; see its log';
    if (err instanceof HttpError) {
      status = err.status;
      message = err.message;
    } else if (e.type === 'entity.too.large') {
      status = 413;
      message = `the request body is larger than ${BODY_LIMIT}`;
    } else if (e.type === 'entity.parse.failed') {
      status = 400;
      message = 'the request body is not valid JSON';
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      message = `bad request: ${e.type ?? 'malformed'}`;
    } else {
      deps.log?.(`error on ${req.method} ${req.path}: ${(err as Error)?.stack ?? String(err)}`);
    }
    if (res.headersSent) {
      return res.end();
    }
    res.status(status).json({ error: message });
  });
  return app;
}
