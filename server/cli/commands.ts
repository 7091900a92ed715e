/**
 * What each hpc-submit command does, and main(argv): the command line parsed,
 * then run without a companion or with one found or started in the
 * background. Resolves to the exit status (-1: keep running, as serve does);
 * a UsageError or another failure rejects.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type {
  Job,
  JobList,
  PipelineAnswer,
  ScheduleInfo,
  ScheduleList,
  ScheduleOutcome,
  ScheduleRequest,
  RunChoice,
  SubmitRequest,
  SweepAnswer
} from '../../contract/wire';
import { describeSchedule } from './scheduleLines';
import { isFinal } from '../../contract/rules';
import { type Client, connect, refusalOf, realPath } from './client';
import {
  describeJob,
  describeNewSweep,
  describePipeline,
  describeSweep,
  describeTask,
  listLines,
  tasksOf
} from './jobLines';
import type { CommandName } from './options';
import { resultsTable, sortedBy } from '../../contract/results';
import { tableCsv, tableJson, tableText } from './resultsTable';
import { type ParameterFields, parameterFields } from './parameterArgs';
import { underRoot } from '../jobs/store';
import { doctor, formatFindings } from './doctor';
import type { ExecutorMode } from '../executors';
import { defaultStateDir, serve, type RunningCompanion } from '../serve';
import { VERSION } from '../version';
import { parseWebhookUrl } from '../jobs/webhook';
import {
  type Invocation,
  numberOption,
  parseCommandLine,
  str,
  strings,
  UsageError,
  type Values
} from './argv';
import { helpFor } from './help';

/** Where the state is, and how a companion is started: checked before anything starts. */
interface Settings {
  stateDir: string;
  rootDir: string;
  profilesFile?: string;
  configPath?: string;
  executor: ExecutorMode;
}

/** What a command of options.ts's COMMANDS does. */
interface Handler {
  /** Refuses what is plainly wrong before a companion is started for it. */
  check?: (inv: Invocation) => void;
  /** Runs without a companion (help, serve, doctor)... */
  local?: (inv: Invocation) => Promise<number>;
  /** ...or with one, found or started in the background. */
  withCompanion?: (client: Client, inv: Invocation) => Promise<number>;
}

/** One per command of options.ts: the type refuses a command without its handler. */
export const HANDLERS: Record<CommandName, Handler> = {
  run: {
    check: inv => {
      notebookUnderGivenRoot(inv);
      submissionFields(inv);
    },
    withCompanion: runNotebook
  },
  pipeline: {
    check: inv => void pipelineFile(inv.args[0]),
    withCompanion: runPipeline
  },
  list: {
    withCompanion: async (client, inv) => {
      const { jobs } = await client.json<JobList>('GET', '/api/jobs');
      const lines = listLines(jobs, inv.values.tasks === true);
      console.log(lines.length ? lines.join('\n') : 'no jobs');
      return 0;
    }
  },
  status: {
    withCompanion: async (client, inv) => {
      const pipeline = await pipelineOfId(client, inv.args[0]);
      if (pipeline) {
        console.log(describePipeline(pipeline.pipeline, true).join('\n'));
        return 0;
      }
      const tasks = await sweepTasks(client, inv.args[0]);
      if (tasks.length) {
        console.log([describeSweep(tasks), ...tasks.map(t => `  ${describeTask(t)}`)].join('\n'));
        return 0;
      }
      const job = await client.json<Job>('GET', jobPath(inv));
      console.log(JSON.stringify(job, null, 2));
      return 0;
    }
  },
  results: {
    check: inv => {
      if (inv.values.csv && inv.values.json) {
        throw new UsageError('results: --csv or --json, not both', 'results');
      }
    },
    withCompanion: printResults
  },
  logs: {
    withCompanion: printLog
  },
  cancel: {
    withCompanion: async (client, inv) => {
      const id = inv.args[0];
      if (await pipelineOfId(client, id)) {
        const path = `/api/pipelines/${encodeURIComponent(id)}/cancel`;
        const { pipeline } = await client.json<PipelineAnswer>('POST', path);
        console.log(describePipeline(pipeline, true).join('\n'));
        return 0;
      }
      if ((await sweepTasks(client, id)).length) {
        const path = `/api/sweeps/${encodeURIComponent(id)}/cancel`;
        const { jobs } = await client.json<JobList>('POST', path);
        console.log(describeSweep(tasksOf(jobs, id)));
        return 0;
      }
      console.log(describeJob(await client.json<Job>('POST', `${jobPath(inv)}/cancel`)));
      return 0;
    }
  },
  schedule: {
    check: checkScheduleArgs,
    withCompanion: runScheduleAction
  },
  scheduled: {
    withCompanion: async (client, inv) => {
      const path = `/api/schedules/${encodeURIComponent(inv.args[0])}/start`;
      const outcome = await client.json<ScheduleOutcome>('POST', path);
      if (outcome.error !== undefined) {
        console.error(`hpc-submit: schedule ${inv.args[0]} started nothing: ${outcome.error}`);
        return 1;
      }
      console.log(`schedule ${inv.args[0]}: submitted ${outcome.id}`);
      return 0;
    }
  },
  doctor: {
    local: async inv => {
      const found = await doctor(settingsOf(inv));
      console.log(formatFindings(found));
      return found.every(f => f.ok) ? 0 : 1;
    }
  },
  serve: {
    local: startCompanion
  },
  help: {
    local: async inv => {
      console.log(helpFor(inv.args[0]));
      return 0;
    }
  }
};

function settingsOf(inv: Invocation): Settings {
  const executor = str(inv.values, 'executor') ?? (process.env.HPC_SUBMIT_EXECUTOR || 'auto');
  if (!['auto', 'slurm', 'local'].includes(executor)) {
    throw new UsageError(`--executor must be auto, slurm or local, not ${executor}`, inv.command);
  }
  return {
    stateDir: resolve(
      str(inv.values, 'state-dir') ?? (process.env.HPC_SUBMIT_STATE_DIR || defaultStateDir())
    ),
    rootDir: resolve(str(inv.values, 'root-dir') ?? process.cwd()),
    profilesFile: str(inv.values, 'profiles') ?? (process.env.HPC_SUBMIT_PROFILES || undefined),
    configPath: str(inv.values, 'config-path') ?? (process.env.HPC_SUBMIT_CONFIG_PATH || undefined),
    executor: executor as ExecutorMode
  };
}

/** The webhook's URL, checked before the companion starts; an error names only its scheme and host. */
function webhookOption(values: Values, command: string): string | undefined {
  const option = str(values, 'webhook-url');
  const given = option ?? (process.env.HPC_SUBMIT_WEBHOOK_URL || undefined);
  if (given === undefined) {
    return undefined;
  }
  try {
    return parseWebhookUrl(given).href;
  } catch (e) {
    const from = option === undefined ? 'HPC_SUBMIT_WEBHOOK_URL' : '--webhook-url';
    throw new UsageError(`${from}: ${(e as Error).message}`, command);
  }
}

async function startCompanion(inv: Invocation): Promise<number> {
  const s = settingsOf(inv);
  const v = inv.values;
  const port = numberOption(inv, 'port', { min: 0, max: 65535, integer: true });
  const poll = numberOption(inv, 'poll-interval', { min: 0.1 });
  const maxConcurrent = numberOption(inv, 'max-concurrent', { min: 1, integer: true });
  const idleMinutes = numberOption(inv, 'idle-exit', { min: 0 });
  const webhookUrl = webhookOption(v, inv.command);
  let stopping = false;
  const stop = async () => {
    if (stopping) {
      return;
    }
    stopping = true;
    await companion.close();
    process.exit(0);
  };
  const companion: RunningCompanion = await serve({
    ...s,
    unixSocket: str(v, 'unix-socket'),
    port: port ?? 0,
    token: str(v, 'token'),
    pollIntervalMs: poll === undefined ? undefined : poll * 1000,
    maxConcurrent,
    webhookUrl,
    onListening: url => console.log(`hpc-submit listening on ${url}`),
    idleExit: idleMinutes
      ? {
          minutes: idleMinutes,
          onIdle: () => {
            process.stderr.write(
              `[hpc-submit] no live job and no request for ${idleMinutes} min: exiting\n`
            );
            void stop();
          }
        }
      : undefined
  });
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1; // keep running
}

const SCHEDULE_ACTIONS = ['add', 'list', 'pause', 'resume', 'remove'];

function checkScheduleArgs(inv: Invocation): void {
  const [action, target] = inv.args;
  if (!SCHEDULE_ACTIONS.includes(action)) {
    throw new UsageError(
      `schedule: ${JSON.stringify(action)} is not one of ${SCHEDULE_ACTIONS.join(', ')}`,
      'schedule'
    );
  }
  if (action === 'list') {
    return;
  }
  if (target === undefined) {
    const what = action === 'add' ? 'the notebook or pipeline file' : "the schedule's id";
    throw new UsageError(`schedule ${action}: give ${what}`, 'schedule');
  }
  if (action === 'add') {
    if (str(inv.values, 'when') === undefined) {
      throw new UsageError(
        "schedule add: give --when, such as --when nightly or '0 2 * * *'",
        'schedule'
      );
    }
    scheduledFile(target);
    submissionFields(inv);
  }
}

/** The file `schedule add` was given: a notebook (.ipynb) or a pipeline file. */
function scheduledFile(given: string): string {
  try {
    return realpathSync(resolve(given));
  } catch {
    throw new UsageError(`schedule add: no file at ${given}`, 'schedule');
  }
}

async function runScheduleAction(client: Client, inv: Invocation): Promise<number> {
  const [action, target] = inv.args;
  if (action === 'list') {
    const { schedules, unavailable } = await client.json<ScheduleList>('GET', '/api/schedules');
    if (unavailable) {
      console.error(`hpc-submit: ${unavailable}`);
      return 1;
    }
    console.log(schedules.length ? schedules.map(describeSchedule).join('\n') : 'no schedules');
    return 0;
  }
  if (action === 'add') {
    const file = underRoot(realPath(client.info.rootDir), scheduledFile(target));
    if (file === null) {
      throw new Error(`${target} is outside the companion's root ${client.info.rootDir}`);
    }
    const when = str(inv.values, 'when') as string;
    const body: ScheduleRequest = file.toLowerCase().endsWith('.ipynb')
      ? {
          when,
          run: { notebook: file, ...choiceFields(inv), ...submissionFields(inv) }
        }
      : { when, pipeline: { file } };
    console.log(describeSchedule(await client.json<ScheduleInfo>('POST', '/api/schedules', body)));
    return 0;
  }
  const path = `/api/schedules/${encodeURIComponent(target)}`;
  if (action === 'remove') {
    await client.json<void>('DELETE', path);
    console.log(`schedule ${target} removed`);
    return 0;
  }
  console.log(describeSchedule(await client.json<ScheduleInfo>('POST', `${path}/${action}`)));
  return 0;
}

function jobPath(inv: Invocation): string {
  return `/api/jobs/${encodeURIComponent(inv.args[0])}`;
}

function notebookFile(given: string): string {
  try {
    return realpathSync(resolve(given));
  } catch {
    throw new UsageError(`run: no notebook at ${given}`, 'run');
  }
}

/** A --root-dir given for run must hold the notebook; the default gives way to its folder. */
function notebookUnderGivenRoot(inv: Invocation): void {
  const notebook = notebookFile(inv.args[0]);
  const given = str(inv.values, 'root-dir');
  if (given !== undefined && underRoot(realPath(given), notebook) === null) {
    throw new UsageError(`run: ${inv.args[0]} is not under --root-dir ${given}`, 'run');
  }
}

/** The run's parameters and sweep, as papermill reads the same options; throws UsageError. */
function choiceFields(inv: Invocation): RunChoice {
  const environment = str(inv.values, 'environment');
  return { profile: str(inv.values, 'profile') ?? 'gpu', ...(environment ? { environment } : {}) };
}

function submissionFields(inv: Invocation): ParameterFields {
  const maxParallel = numberOption(inv, 'max-parallel', { min: 1, integer: true });
  try {
    return parameterFields({
      yaml: strings(inv.values, 'parameters-yaml'),
      pairs: inv.pairs,
      zip: inv.values.zip === true,
      maxParallel,
      allowUnknown: inv.values['allow-unknown-parameters'] === true
    });
  } catch (e) {
    throw new UsageError(`${inv.command}: ${(e as Error).message}`, inv.command);
  }
}

async function runNotebook(client: Client, inv: Invocation): Promise<number> {
  const given = inv.args[0];
  // connect picked (or started) a companion whose root holds the notebook.
  const notebook = underRoot(realPath(client.info.rootDir), notebookFile(given));
  if (notebook === null) {
    throw new Error(`${given} is outside the companion's root ${client.info.rootDir}`);
  }
  const request: SubmitRequest = { notebook, ...choiceFields(inv), ...submissionFields(inv) };
  if (request.sweep) {
    const { sweep } = await client.json<SweepAnswer>('POST', '/api/jobs', request);
    console.log(describeNewSweep(sweep));
    return inv.values.wait ? waitForSweep(client, sweep.id) : 0;
  }
  const job = await client.json<Job>('POST', '/api/jobs', request);
  console.log(describeJob(job));
  return inv.values.wait ? waitFor(client, job.id) : 0;
}

function pipelineFile(given: string): string {
  try {
    return realpathSync(resolve(given));
  } catch {
    throw new UsageError(`pipeline: no pipeline file at ${given}`, 'pipeline');
  }
}

async function runPipeline(client: Client, inv: Invocation): Promise<number> {
  const given = inv.args[0];
  const file = underRoot(realPath(client.info.rootDir), pipelineFile(given));
  if (file === null) {
    throw new Error(`${given} is outside the companion's root ${client.info.rootDir}`);
  }
  const { pipeline } = await client.json<PipelineAnswer>('POST', '/api/pipelines', { file });
  console.log(describePipeline(pipeline, true).join('\n'));
  return inv.values.wait ? waitForPipeline(client, pipeline.id) : 0;
}

/** The pipeline of `id` (GET /api/pipelines/:id); null when `id` is no pipeline's. */
async function pipelineOfId(client: Client, id: string): Promise<PipelineAnswer | null> {
  const reply = await client.request('GET', `/api/pipelines/${encodeURIComponent(id)}`);
  if (reply.status === 404 || reply.status === 400) {
    return null;
  }
  if (reply.status !== 200) {
    throw refusalOf(reply);
  }
  return JSON.parse(reply.body) as PipelineAnswer;
}

/** Waits until every step ended; exit 0 only when all completed. */
async function waitForPipeline(client: Client, id: string): Promise<number> {
  for (;;) {
    const answer = await pipelineOfId(client, id);
    if (!answer) {
      throw new Error(`pipeline ${id} has no runs any more (forgotten meanwhile?)`);
    }
    if (isFinal(answer.pipeline)) {
      console.log(describePipeline(answer.pipeline, true).join('\n'));
      return answer.pipeline.state === 'completed' ? 0 : 1;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

/** The tasks of sweep `id` in task order (GET /api/sweeps/:id); none when `id` is no sweep's. */
async function sweepTasks(client: Client, id: string): Promise<Job[]> {
  const path = `/api/sweeps/${encodeURIComponent(id)}`;
  const reply = await client.request('GET', path);
  if (reply.status === 404 || reply.status === 400) {
    return [];
  }
  if (reply.status !== 200) {
    throw refusalOf(reply);
  }
  return (JSON.parse(reply.body) as SweepAnswer).jobs;
}

/** A sweep's tasks, a notebook's runs (NOTEBOOK ends in .ipynb), or the one run of an id. */
async function runsFor(client: Client, given: string): Promise<Job[]> {
  if (given.toLowerCase().endsWith('.ipynb')) {
    const notebook = underRoot(realPath(client.info.rootDir), notebookFile(given));
    if (notebook === null) {
      throw new Error(`${given} is outside the companion's root ${client.info.rootDir}`);
    }
    const path = `/api/jobs?notebook=${encodeURIComponent(notebook)}`;
    return (await client.json<JobList>('GET', path)).jobs;
  }
  const tasks = await sweepTasks(client, given);
  return tasks.length
    ? tasks
    : [await client.json<Job>('GET', `/api/jobs/${encodeURIComponent(given)}`)];
}

async function printResults(client: Client, inv: Invocation): Promise<number> {
  const runs = await runsFor(client, inv.args[0]);
  let table = resultsTable(runs);
  const sort = str(inv.values, 'sort');
  if (sort !== undefined) {
    try {
      table = sortedBy(table, sort);
    } catch (e) {
      throw new UsageError(`results: ${(e as Error).message}`, 'results');
    }
  }
  if (inv.values.json) {
    console.log(tableJson(table));
  } else if (inv.values.csv) {
    process.stdout.write(tableCsv(table));
  } else {
    console.log(runs.length ? tableText(table) : 'no runs');
  }
  return 0;
}

async function printLog(client: Client, inv: Invocation): Promise<number> {
  let offset = 0;
  for (;;) {
    const reply = await client.request('GET', `${jobPath(inv)}/log?offset=${offset}`);
    if (reply.status >= 400) {
      throw new Error(JSON.parse(reply.body).error);
    }
    process.stdout.write(reply.body);
    offset = Number(reply.headers['x-log-offset'] ?? offset);
    if (!inv.values.follow) {
      return 0;
    }
    const job = await client.json<Job>('GET', jobPath(inv));
    if (isFinal(job) && reply.body === '') {
      return 0;
    }
    if (reply.body === '') {
      await new Promise(r => setTimeout(r, 1000));
    }
  }
}

/** Waits until the job ends (the companion answers from memory); exit 0 only when it completed. */
async function waitFor(client: Client, id: string): Promise<number> {
  for (;;) {
    const job = await client.json<Job>('GET', `/api/jobs/${encodeURIComponent(id)}`);
    if (isFinal(job)) {
      console.log(describeJob(job));
      return job.state === 'completed' ? 0 : 1;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

/** Waits until every task of the sweep ended; exit 0 only when all completed. */
async function waitForSweep(client: Client, id: string): Promise<number> {
  for (;;) {
    const tasks = await sweepTasks(client, id);
    if (tasks.length === 0) {
      throw new Error(`sweep ${id} has no runs any more (forgotten meanwhile?)`);
    }
    if (tasks.every(isFinal)) {
      console.log(describeSweep(tasks));
      return tasks.every(t => t.state === 'completed') ? 0 : 1;
    }
    await new Promise(r => setTimeout(r, 1000));
  }
}

/** The file a companion's root must hold for this command, where it names one. */
function fileToHold(inv: Invocation): string | undefined {
  if (inv.command === 'run') {
    return notebookFile(inv.args[0]);
  }
  if (inv.command === 'pipeline') {
    return pipelineFile(inv.args[0]);
  }
  return inv.command === 'schedule' && inv.args[0] === 'add'
    ? scheduledFile(inv.args[1])
    : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const inv = parseCommandLine(argv);
  if (inv.command === 'version') {
    console.log(VERSION);
    return 0;
  }
  const { local, check, withCompanion } = HANDLERS[inv.command];
  if (local) {
    return local(inv);
  }
  check?.(inv);
  const s = settingsOf(inv);
  const serveArgs = [
    '--executor',
    s.executor,
    ...(s.profilesFile ? ['--profiles', s.profilesFile] : []),
    ...(s.configPath ? ['--config-path', s.configPath] : [])
  ];
  const client = await connect({
    stateDir: s.stateDir,
    rootDir: realPath(s.rootDir),
    serveArgs,
    notebook: fileToHold(inv)
  });
  return (withCompanion as NonNullable<typeof withCompanion>)(client, inv);
}
