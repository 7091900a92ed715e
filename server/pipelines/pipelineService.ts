/**
 * Pipelines: a pipeline file becomes its steps' runs, submitted at once, each
 * after the steps it comes after as the scheduler's own dependency (Slurm's
 * --dependency; the local executor holds the same wait). Every step is
 * checked before the first is submitted; the scheduler then holds the chain,
 * so a restart of the companion loses nothing. A copy of the file is kept
 * with the pipeline, for "re-run from the failed step".
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { isPipelineRun, pipelineOf, stepsToRerun } from '../../contract/pipelines';
import { isFinal } from '../../contract/rules';
import type {
  Parameters,
  PipelineAnswer,
  PipelineStepRef,
  Profile,
  SubmitRequest
} from '../../contract/wire';
import { NOTEBOOK_METADATA_KEY } from '../../contract/wire';
import type { JobQueries } from '../jobs/jobQueries';
import type { Launcher, PreparedRun } from '../jobs/launching';
import { resolveNotebook } from '../jobs/paths';
import { Refusal, invalid } from '../jobs/refusal';
import { type JobRecord, type JobStore, newJobId } from '../jobs/store';
import { writeStateFile } from '../jobs/storage';
import { sweepOutputDir } from '../jobs/sweeps';
import { type EarlierStep, lateParameters } from './lateParameters';
import { type PipelineStep, parsePipeline, parsePipelineRequest } from './pipelineFile';
import { resolvePipelineFile } from './pipelinePath';
import { dependencyFor, stepNotebookPath, waitIdsOf } from './pipelinePlan';
import { fillTemplates } from './templates';

/** The copy of the pipeline file kept in <state>/pipelines/<id>/. */
const KEPT_FILE = 'pipeline.yaml';

export interface PipelineServiceDeps {
  rootDir: string;
  store: JobStore;
  launcher: Launcher;
  queries: JobQueries;
  /** Records and delivers the cancel of these live runs with one scheduler call. */
  cancelRuns: (live: JobRecord[], what: string) => Promise<void>;
  pollSoon?: () => void;
}

/** A step made ready: its checks passed, what it takes from earlier steps still to fill. */
interface ReadyStep {
  step: PipelineStep;
  prepared: PreparedRun;
}

export class PipelineService {
  constructor(private readonly deps: PipelineServiceDeps) {}

  /** POST /api/pipelines: every step checked, then each submitted after those it comes after. */
  async submit(body: unknown): Promise<{ body: PipelineAnswer; created: boolean }> {
    const { file, idempotencyKey } = parsePipelineRequest(body);
    const earlier = idempotencyKey ? this.deps.store.byIdempotencyKey(idempotencyKey) : undefined;
    if (earlier?.pipeline) {
      return { body: this.answer(earlier.pipeline.pipelineId), created: false };
    }
    if (earlier) {
      throw new Refusal(
        'conflict',
        `the idempotency key was given to job ${earlier.id}, which is no pipeline's: use a new key`
      );
    }
    const resolved = await resolvePipelineFile(this.deps.rootDir, file);
    const pipeline = parsePipeline(resolved.text);
    const id = newJobId();
    const answer = await this.run(id, resolved.relative, pipeline.steps, resolved.text, {
      attempt: 0,
      ...(idempotencyKey ? { idempotencyKey } : {})
    });
    return { body: answer, created: true };
  }

  /** The file found and read as a submission would, its steps' notebooks found; nothing submitted. */
  async check(body: unknown): Promise<void> {
    const { file } = parsePipelineRequest(body);
    const resolved = await resolvePipelineFile(this.deps.rootDir, file);
    const pipeline = parsePipeline(resolved.text);
    await Promise.all(
      pipeline.steps.map(step =>
        resolveNotebook(
          this.deps.rootDir,
          stepNotebookPath(resolved.relative, step.name, step.notebook)
        )
      )
    );
  }

  /** GET /api/pipelines/:id */
  get(id: string): PipelineAnswer {
    return this.answer(id);
  }

  /** Every live run of the pipeline's steps, cancelled with one scheduler call. */
  async cancel(id: string): Promise<PipelineAnswer> {
    const current = this.answer(id);
    const live = current.pipeline.steps
      .flatMap(s => s.jobIds)
      .map(jobId => this.deps.queries.record(jobId))
      .filter(r => !isFinal(r));
    if (live.length === 0) {
      throw new Refusal('conflict', `pipeline ${id} already ended; there is nothing to cancel`);
    }
    await this.deps.cancelRuns(live, `pipeline ${id}`);
    return this.answer(id);
  }

  /**
   * Every step that did not complete, again, from the copy of the file kept
   * at submission: the completed steps' outputs and values stand.
   */
  async rerun(id: string): Promise<PipelineAnswer> {
    const { pipeline } = this.answer(id);
    if (!isFinal(pipeline)) {
      throw new Refusal(
        'conflict',
        `pipeline ${id} is still ${pipeline.state}: wait for it or cancel it first`
      );
    }
    const again = new Set(stepsToRerun(pipeline));
    if (again.size === 0) {
      throw new Refusal(
        'conflict',
        `every step of pipeline ${id} completed: there is nothing to re-run`
      );
    }
    const text = await fs.readFile(join(this.pipelineDir(id), KEPT_FILE), 'utf8').catch(() => {
      throw new Refusal(
        'not-found',
        `the copy of pipeline ${id}'s file is gone from the state directory`
      );
    });
    const steps = parsePipeline(text).steps;
    const done = new Map(
      pipeline.steps.filter(s => !again.has(s.name)).map(s => [s.name, s.jobIds[0]])
    );
    const attempt =
      1 + Math.max(...this.deps.store.pipelineRuns(id).map(r => r.pipeline?.attempt ?? 0));
    return this.run(id, pipeline.file, steps, null, { attempt, done, again });
  }

  /**
   * Checks every step to run, then submits them in start order. `done`: the
   * steps that completed before (a re-run), by name, with a run of theirs.
   */
  private async run(
    id: string,
    file: string,
    steps: PipelineStep[],
    text: string | null,
    how: {
      attempt: number;
      idempotencyKey?: string;
      done?: ReadonlyMap<string, string>;
      again?: ReadonlySet<string>;
    }
  ): Promise<PipelineAnswer> {
    const ready = await this.prepareAll(file, steps, how.again);
    await this.deps.launcher.requireScheduler();
    if (text !== null) {
      await fs.mkdir(this.pipelineDir(id), { recursive: true, mode: 0o700 });
      await writeStateFile(join(this.pipelineDir(id), KEPT_FILE), text);
    }
    const submitted = new Map<string, string[]>();
    const runOf = new Map<string, string>(how.done ?? []);
    const launched: JobRecord[] = [];
    try {
      for (const [index, { step, prepared }] of ready.entries()) {
        const ref: PipelineStepRef = {
          pipelineId: id,
          file,
          step: step.name,
          index: steps.indexOf(step),
          stepCount: steps.length,
          after: step.after,
          attempt: how.attempt
        };
        const waitsFor = { ...step, after: step.after.filter(a => submitted.has(a)) };
        const after = dependencyFor(waitsFor, submitted);
        const late = lateParameters(prepared.request.parameters ?? {}, step.references, s =>
          this.earlierStep(runOf.get(s) as string)
        );
        const records = await this.deps.launcher.launch(prepared, {
          pipeline: ref,
          ...(after ? { after } : {}),
          ...(late ? { late } : {}),
          ...(index === 0 && how.idempotencyKey ? { idempotencyKey: how.idempotencyKey } : {})
        });
        launched.push(...records);
        submitted.set(step.name, waitIdsOf(records.map(r => r.schedulerId as string)));
        runOf.set(step.name, records[0].id);
      }
    } catch (e) {
      await this.takeBack(launched, e);
    }
    this.deps.pollSoon?.();
    return this.answer(id);
  }

  /**
   * A step's submission failed after earlier ones went in: those are
   * cancelled (their records stay, as cancelled runs), and the refusal says so.
   */
  private async takeBack(launched: JobRecord[], e: unknown): Promise<never> {
    const message = (e as Error).message;
    if (launched.length === 0) {
      throw e;
    }
    await this.deps.cancelRuns(launched, 'the pipeline').catch(() => undefined);
    const steps = [...new Set(launched.map(r => r.pipeline?.step))].join(', ');
    const kind = e instanceof Refusal ? e.kind : 'failed';
    throw new Refusal(kind, `${message}; the steps already submitted (${steps}) were cancelled`);
  }

  /**
   * The checks of every step to run (`only`; all when absent), with its
   * templates of paths filled from every step's notebook; the first refusal
   * names its step.
   */
  private async prepareAll(
    file: string,
    steps: PipelineStep[],
    only?: ReadonlySet<string>
  ): Promise<ReadyStep[]> {
    const outputs = new Map<string, { output: string; summary?: string }>();
    const seen = new Map<string, string>();
    const ready: ReadyStep[] = [];
    for (const step of steps) {
      const request = await inStep(step, async () => {
        const notebook = stepNotebookPath(file, step.name, step.notebook);
        const nb = await resolveNotebook(this.deps.rootDir, notebook);
        const other = seen.get(nb.absolute);
        if (other !== undefined) {
          throw invalid(
            `steps "${other}" and "${step.name}" both run ${nb.relative}: one would overwrite the other's output; give each step its own notebook`
          );
        }
        seen.set(nb.absolute, step.name);
        const sweepDir = step.sweep ? await sweepOutputDir(this.deps.rootDir, nb) : null;
        outputs.set(step.name, {
          output: sweepDir ?? join(nb.outputDir, nb.outputName),
          ...(sweepDir ? { summary: join(sweepDir, 'summary.csv') } : {})
        });
        const profile = step.profile ?? (await savedProfile(nb.absolute));
        if (profile === undefined) {
          throw invalid(
            `the step names no profile and ${nb.relative} has none saved: add "profile:" to the step`
          );
        }
        return this.requestOf(step, notebook, profile, outputs);
      });
      if (!only || only.has(step.name)) {
        ready.push({
          step,
          prepared: await inStep(step, () => this.deps.launcher.prepare(request))
        });
      }
    }
    return ready;
  }

  /** The step as a run's request, with {{ S.output }} and {{ S.summary }} filled. */
  private requestOf(
    step: PipelineStep,
    notebook: string,
    profile: Profile['id'],
    outputs: ReadonlyMap<string, { output: string; summary?: string }>
  ): SubmitRequest {
    const parameters: Parameters | undefined = step.parameters
      ? fillTemplates(step.name, step.parameters, ref => {
          const made = outputs.get(ref.step);
          if (ref.field === 'values') {
            return ref.text; // filled by the job at its start (lateParameters.ts)
          }
          return ref.field === 'summary' ? made?.summary : made?.output;
        })
      : undefined;
    return {
      notebook,
      profile,
      ...(step.resources ? { resources: step.resources } : {}),
      ...(parameters ? { parameters } : {}),
      ...(step.sweep ? { sweep: step.sweep } : {})
    };
  }

  /** What a later step takes from an earlier one: its run's folder, and a sweep's summary.csv. */
  private earlierStep(jobId: string): EarlierStep {
    const record = this.deps.queries.record(jobId);
    const jobDir = this.deps.store.jobDir(jobId);
    if (!record.sweepId) {
      return { jobDir };
    }
    const tasks = this.deps.store.sweepTasks(record.sweepId);
    return {
      jobDir,
      summary: { path: join(dirname(record.outputPath), 'summary.csv'), rows: tasks.length }
    };
  }

  /** The kept copy of the file goes with the pipeline's last run. */
  async forgotten(record: JobRecord): Promise<void> {
    const id = record.pipeline?.pipelineId;
    if (id && this.deps.store.pipelineRuns(id).length === 0) {
      await fs.rm(this.pipelineDir(id), { recursive: true, force: true }).catch(() => undefined);
    }
  }

  private pipelineDir(id: string): string {
    return join(this.deps.store.stateDir, 'pipelines', id);
  }

  private answer(id: string): PipelineAnswer {
    const runs = this.deps.store.pipelineRuns(id);
    const pipeline = pipelineOf(runs.filter(isPipelineRun));
    if (!pipeline) {
      throw new Refusal('not-found', `no pipeline ${id}`);
    }
    const current = new Set(pipeline.steps.flatMap(s => s.jobIds));
    return {
      pipeline,
      jobs: runs.filter(r => current.has(r.id)).map(r => this.deps.queries.wire(r))
    };
  }
}

/** Runs `check` for a step; a refusal it throws is said of that step. */
async function inStep<T>(step: PipelineStep, check: () => Promise<T> | T): Promise<T> {
  try {
    return await check();
  } catch (e) {
    if (e instanceof Refusal && !e.message.startsWith('step "')) {
      throw new Refusal(e.kind, `step "${step.name}": ${e.message}`);
    }
    throw e;
  }
}

/** The profile the notebook saved (the toolbar's picker writes it), if any. */
async function savedProfile(notebookPath: string): Promise<string | undefined> {
  try {
    const nb = JSON.parse(await fs.readFile(notebookPath, 'utf8')) as {
      metadata?: Record<string, { profile?: unknown } | undefined>;
    };
    const profile = nb.metadata?.[NOTEBOOK_METADATA_KEY]?.profile;
    return typeof profile === 'string' && profile !== '' ? profile : undefined;
  } catch {
    return undefined;
  }
}
