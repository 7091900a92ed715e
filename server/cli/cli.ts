/**
 * hpc-submit: the companion (serve) and its command line for terminal and
 * VS Code users on the login node. Arguments are checked in full before
 * anything starts: help, a typo or a missing argument never leaves a
 * companion behind.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Job, JobList, SubmitRequest, SweepAnswer } from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import { type Client, connect, realPath } from './client';
import {
  describeJob,
  describeNewSweep,
  describeSweep,
  describeTask,
  listLines,
  tasksOf
} from './jobLines';
import {
  type PairOption,
  type PairSpelling,
  type ParameterFields,
  parameterFields,
  takePairOptions
} from './parameterArgs';
import { underRoot } from '../jobs/store';
import { doctor, formatFindings } from './doctor';
import type { ExecutorMode } from '../executors';
import { defaultStateDir, serve, type RunningCompanion } from '../serve';
import { VERSION } from '../version';
import { parseWebhookUrl } from '../jobs/webhook';

interface Option {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in the help, for a string option. */
  value?: string;
  /** Repeatable: every value is kept, in order. */
  multiple?: boolean;
  /** Takes two values (`-p NAME VALUE`), which parseArgs cannot: taken out of the line first. */
  pair?: boolean;
  help: string;
}
type Options = Record<string, Option>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A command line that makes no sense: said with the usage line, exit status 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string
  ) {
    super(message);
  }
}

interface Invocation {
  command: string;
  args: string[];
  values: Values;
  /** The two-value options, in order. */
  pairs: PairOption[];
}

/** Where the state is, and how a companion is started: checked before anything starts. */
interface Settings {
  stateDir: string;
  rootDir: string;
  profilesFile?: string;
  executor: ExecutorMode;
}

interface Command {
  /** Positional arguments; a name in brackets is optional. */
  args: string[];
  summary: string;
  options: Options;
  /** Refuses what is plainly wrong before a companion is started for it. */
  check?: (inv: Invocation) => void;
  /** Runs without a companion (help, serve, doctor)... */
  local?: (inv: Invocation) => Promise<number>;
  /** ...or with one, found or started in the background. */
  withCompanion?: (client: Client, inv: Invocation) => Promise<number>;
}

const HELP: Options = { help: { type: 'boolean', short: 'h', help: 'show this help' } };

const TOP_LEVEL: Options = {
  ...HELP,
  version: { type: 'boolean', help: 'print the version' }
};

const STATE: Options = {
  'state-dir': {
    type: 'string',
    value: 'DIR',
    help: "jobs, logs and the companion's files (default: $HPC_SUBMIT_STATE_DIR, else $XDG_DATA_HOME/jupyterlab-hpc-submit)"
  },
  'root-dir': {
    type: 'string',
    value: 'DIR',
    help: "the root of a companion started here (default: the current folder, or for run the notebook's folder when the current one does not hold it)"
  },
  profiles: {
    type: 'string',
    value: 'FILE',
    help: 'resource profiles, JSON (default: $HPC_SUBMIT_PROFILES, else the built-in gpu and cpu)'
  },
  executor: {
    type: 'string',
    value: 'MODE',
    help: 'auto, slurm or local (default: $HPC_SUBMIT_EXECUTOR, else auto: Slurm when sbatch is on PATH)'
  }
};

const STARTS_COMPANION =
  'Talks to the companion, started in the background when none answers: --root-dir, ' +
  '--profiles and --executor are its settings then.';

// papermill's own options and their meaning (parameterArgs.ts), and the sweep's.
const PARAMETERS: Options = {
  parameters: {
    type: 'string',
    short: 'p',
    pair: true,
    value: 'NAME VALUE',
    help: "a parameter, as papermill's -p reads it: True, False, None, a number, else text (repeatable)"
  },
  'parameters-yaml': {
    type: 'string',
    short: 'y',
    multiple: true,
    value: 'YAML',
    help: "parameters as YAML, as papermill's -y: 'lr: 0.1' (repeatable; -p wins)"
  },
  sweep: {
    type: 'string',
    pair: true,
    value: 'NAME VALUES',
    help: "one run per value of the YAML list VALUES, '[0.1, 0.01]'; with several, one per combination"
  },
  zip: {
    type: 'boolean',
    help: 'with several --sweep: the i-th value of each (lists of one length), not every combination'
  },
  'max-parallel': {
    type: 'string',
    value: 'K',
    help: "at most K runs of the sweep at once (the profile's limit caps it)"
  },
  'allow-unknown-parameters': {
    type: 'boolean',
    help: "send parameters that the notebook's cell tagged parameters does not define"
  }
};

const COMMANDS: Record<string, Command> = {
  run: {
    args: ['NOTEBOOK'],
    summary:
      "submit a notebook, with parameters or as a sweep of runs; prints the job's (or sweep's) id",
    options: {
      profile: { type: 'string', value: 'ID', help: 'resource profile (default: gpu)' },
      ...PARAMETERS,
      wait: {
        type: 'boolean',
        help: 'wait until the job ends (a sweep: all its runs); exit status 0 only when all completed'
      },
      ...STATE,
      ...HELP
    },
    check: inv => {
      notebookUnderGivenRoot(inv);
      submissionFields(inv);
    },
    withCompanion: runNotebook
  },
  list: {
    args: [],
    summary: 'list the jobs, newest first; a sweep as one line',
    options: {
      tasks: { type: 'boolean', help: "show each sweep's runs below it" },
      ...STATE,
      ...HELP
    },
    withCompanion: async (client, inv) => {
      const { jobs } = await client.json<JobList>('GET', '/api/jobs');
      const lines = listLines(jobs, inv.values.tasks === true);
      console.log(lines.length ? lines.join('\n') : 'no jobs');
      return 0;
    }
  },
  status: {
    args: ['ID'],
    summary: "show one job in full, as JSON; for a sweep's id, its runs with their parameters",
    options: { ...STATE, ...HELP },
    withCompanion: async (client, inv) => {
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
  logs: {
    args: ['ID'],
    summary: "print a job's log",
    options: {
      follow: { type: 'boolean', help: 'keep printing until the job ends' },
      ...STATE,
      ...HELP
    },
    withCompanion: printLog
  },
  cancel: {
    args: ['ID'],
    summary: "cancel a queued or running job; for a sweep's id, all its runs",
    options: { ...STATE, ...HELP },
    withCompanion: async (client, inv) => {
      const id = inv.args[0];
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
  doctor: {
    args: [],
    summary: 'check what a run needs here, and say how to fix each problem',
    options: { ...STATE, ...HELP },
    local: async inv => {
      const found = await doctor(settingsOf(inv));
      console.log(formatFindings(found));
      return found.every(f => f.ok) ? 0 : 1;
    }
  },
  serve: {
    args: [],
    summary: 'run the companion (the API of the extension and the CLI) in the foreground',
    options: {
      'unix-socket': {
        type: 'string',
        value: 'PATH',
        help: 'listen on this Unix socket, without a token (as behind jupyter-server-proxy)'
      },
      port: {
        type: 'string',
        value: 'N',
        help: 'listen on 127.0.0.1:N with a token (default: 0, a free port)'
      },
      token: {
        type: 'string',
        value: 'TOKEN',
        help: 'the token for --port (default: the one kept in the state directory)'
      },
      'poll-interval': {
        type: 'string',
        value: 'SECONDS',
        help: 'how often the scheduler is asked about live jobs (default: 30)'
      },
      'max-concurrent': {
        type: 'string',
        value: 'N',
        help: 'local executor: runs at once, the others wait (default: 2)'
      },
      'idle-exit': {
        type: 'string',
        value: 'MINUTES',
        help: 'exit after MINUTES with no live job and no request (default: never; 30 for a companion the CLI starts)'
      },
      'webhook-url': {
        type: 'string',
        value: 'URL',
        help: 'POST a Slack-compatible message here when a run ends (default: $HPC_SUBMIT_WEBHOOK_URL; prefer it: arguments show in ps)'
      },
      ...STATE,
      ...HELP
    },
    local: startCompanion
  },
  help: {
    args: ['[COMMAND]'],
    summary: "show this help, or a command's",
    options: HELP,
    local: async inv => {
      console.log(helpFor(inv.args[0]));
      return 0;
    }
  }
};

const USAGE = 'usage: hpc-submit <command> [options]';

const ENVIRONMENT: [string, string][] = [
  ['HPC_SUBMIT_STATE_DIR', 'default of --state-dir'],
  ['HPC_SUBMIT_PROFILES', 'default of --profiles'],
  ['HPC_SUBMIT_EXECUTOR', 'default of --executor'],
  ['HPC_SUBMIT_WEBHOOK_URL', 'default of serve --webhook-url'],
  [
    'HPC_SUBMIT_IDLE_EXIT_MINUTES',
    'idle minutes after which a companion the CLI started exits (default: 30; 0: never)'
  ]
];

const LINE_WIDTH = 80;

/** Greedy word wrap. */
function wrap(text: string, width: number): string[] {
  const lines = [''];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last && last.length + 1 + word.length > width) {
      lines.push(word);
    } else {
      lines[lines.length - 1] = last ? `${last} ${word}` : word;
    }
  }
  return lines;
}

/** Names and their help; a name too long for the column has its help on the lines below. */
function columns(rows: [string, string][]): string {
  const indent = Math.min(Math.max(...rows.map(([name]) => name.length)), 24) + 4;
  const lines: string[] = [];
  for (const [name, help] of rows) {
    const text = wrap(help, LINE_WIDTH - indent);
    const head = `  ${name}`;
    if (head.length + 2 > indent) {
      lines.push(head);
    } else {
      lines.push(head.padEnd(indent) + text.shift());
    }
    lines.push(...text.map(t => ' '.repeat(indent) + t));
  }
  return lines.join('\n');
}

function optionRows(options: Options): [string, string][] {
  return Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`,
    o.help
  ]);
}

function commandUsage(name: string | undefined): string {
  if (!name) {
    return USAGE;
  }
  const args = COMMANDS[name].args.map(a => ` ${a}`).join('');
  return `usage: hpc-submit ${name}${args} [options]`;
}

function generalHelp(): string {
  const commands = Object.entries(COMMANDS).map(([name, c]): [string, string] => [
    [name, ...c.args].join(' '),
    c.summary
  ]);
  return [
    USAGE,
    '',
    ...wrap(
      'Runs notebooks as batch jobs on the cluster (Slurm, else local processes) and keeps ' +
        'track of them. run, list, status, logs and cancel talk to a companion process, ' +
        'started in the background when none answers; it exits by itself after 30 idle minutes.',
      LINE_WIDTH
    ),
    '',
    'commands:',
    columns(commands),
    '',
    'options:',
    columns(optionRows(TOP_LEVEL)),
    '',
    'environment:',
    columns(ENVIRONMENT),
    '',
    "`hpc-submit help COMMAND` shows a command's options."
  ].join('\n');
}

function helpFor(name: string | undefined): string {
  if (name === undefined) {
    return generalHelp();
  }
  const command = COMMANDS[name];
  if (!command) {
    throw new UsageError(`unknown command ${name}`);
  }
  const summary = command.summary[0].toUpperCase() + command.summary.slice(1) + '.';
  return [
    commandUsage(name),
    '',
    ...wrap(command.withCompanion ? `${summary} ${STARTS_COMPANION}` : summary, LINE_WIDTH),
    '',
    'options:',
    columns(optionRows(command.options))
  ].join('\n');
}

// Every option of every command, for the tokenizer: one name, one type.
const ALL_OPTIONS: Options = Object.assign(
  {},
  TOP_LEVEL,
  ...Object.values(COMMANDS).map(c => c.options)
);

const spellings = (name: string, o: Option) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])];

// The two-value options by spelling, and the spellings of the other options that take a value.
const PAIRS: Record<string, PairSpelling> = Object.fromEntries(
  Object.entries(ALL_OPTIONS)
    .filter(([, o]) => o.pair)
    .flatMap(([name, o]) =>
      spellings(name, o).map(s => [s, { option: name, value: o.value ?? '' }])
    )
);
const TAKES_VALUE = new Set(
  Object.entries(ALL_OPTIONS)
    .filter(([, o]) => o.type === 'string' && !o.pair)
    .flatMap(([name, o]) => spellings(name, o))
);
const PARSED_OPTIONS: Options = Object.fromEntries(
  Object.entries(ALL_OPTIONS).filter(([, o]) => !o.pair)
);

/** A line parseArgs or the two-value options refused, naming its command if it has one. */
function usageErrorIn(argv: string[], message: string): UsageError {
  const command = commandOf(argv);
  return new UsageError(command ? `${command}: ${message}` : message, command);
}

function takePairs(argv: string[]): ReturnType<typeof takePairOptions> {
  try {
    return takePairOptions(argv, PAIRS, TAKES_VALUE);
  } catch (e) {
    throw usageErrorIn(argv, (e as Error).message);
  }
}

function tokenize(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: PARSED_OPTIONS,
      strict: true,
      allowPositionals: true,
      tokens: true
    });
  } catch (e) {
    throw usageErrorIn(argv, parseErrorMessage(e as Error & { code?: string }));
  }
}

/** The command of a line the strict parse refused, to name it and its usage in the error. */
function commandOf(argv: string[]): string | undefined {
  const [first] = parseArgs({
    args: argv,
    options: ALL_OPTIONS,
    strict: false,
    allowPositionals: true
  }).positionals;
  return first !== undefined && first in COMMANDS ? first : undefined;
}

/** parseArgs' sentences, shorter and in this CLI's words. */
function parseErrorMessage({ code, message }: Error & { code?: string }): string {
  const option = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${option}`;
  }
  if (/argument missing|argument is ambiguous/.test(message)) {
    return `${option} needs a value`;
  }
  if (/does not take an argument/.test(message)) {
    return `${option} takes no value`;
  }
  return message.split('\n')[0];
}

/** The invocation, checked against its command's table; throws UsageError. */
function parseCommandLine(argv: string[]): Invocation {
  const { rest, found: pairs } = takePairs(argv);
  const { values, positionals, tokens } = tokenize(rest);
  const [command, ...args] = positionals;
  if (command === undefined) {
    if (!values.help) {
      refuseOptionsOutside(tokens, pairs, TOP_LEVEL);
    }
    const only = values.version && !values.help ? 'version' : 'help';
    return { command: only, args: [], values, pairs };
  }
  const spec = COMMANDS[command];
  if (!spec) {
    throw new UsageError(`unknown command ${command}`);
  }
  if (values.help) {
    return { command: 'help', args: command === 'help' ? args : [command], values, pairs };
  }
  refuseOptionsOutside(tokens, pairs, spec.options, command);
  const required = spec.args.filter(a => !a.startsWith('['));
  if (args.length < required.length) {
    throw new UsageError(`${command}: missing ${required.slice(args.length).join(' ')}`, command);
  }
  if (args.length > spec.args.length) {
    const extra = args.slice(spec.args.length).join(' ');
    throw new UsageError(`${command}: unexpected argument ${extra}`, command);
  }
  return { command, args, values, pairs };
}

function refuseOptionsOutside(
  tokens: ReturnType<typeof tokenize>['tokens'],
  pairs: PairOption[],
  allowed: Options,
  command?: string
): void {
  const given = [
    ...tokens.flatMap(t => (t.kind === 'option' ? [{ name: t.name, as: t.rawName }] : [])),
    ...pairs.map(p => ({ name: p.option, as: p.flag }))
  ];
  for (const { name, as } of given) {
    if (!(name in allowed)) {
      const what = `unknown option ${as}`;
      throw new UsageError(command ? `${command}: ${what}` : what, command);
    }
  }
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable option's values, in order. */
function strings(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** A number option, checked: NaN never reaches a timer or a listen(). */
function numberOption(
  inv: Invocation,
  name: string,
  check: { min: number; max?: number; integer?: boolean }
): number | undefined {
  const text = str(inv.values, name);
  if (text === undefined) {
    return undefined;
  }
  const n = Number(text);
  const fits =
    text.trim() !== '' &&
    Number.isFinite(n) &&
    n >= check.min &&
    n <= (check.max ?? Infinity) &&
    (!check.integer || Number.isInteger(n));
  if (!fits) {
    const kind = check.integer ? 'a whole number' : 'a number';
    const range = check.max === undefined ? `>= ${check.min}` : `${check.min}..${check.max}`;
    throw new UsageError(`--${name} must be ${kind} ${range}, not ${text}`, inv.command);
  }
  return n;
}

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
  const request: SubmitRequest = {
    notebook,
    profile: str(inv.values, 'profile') ?? 'gpu',
    ...submissionFields(inv)
  };
  if (request.sweep) {
    const { sweep } = await client.json<SweepAnswer>('POST', '/api/jobs', request);
    console.log(describeNewSweep(sweep));
    return inv.values.wait ? waitForSweep(client, sweep.id) : 0;
  }
  const job = await client.json<Job>('POST', '/api/jobs', request);
  console.log(describeJob(job));
  return inv.values.wait ? waitFor(client, job.id) : 0;
}

/** The tasks of the sweep with this id, in task order; none when it is not a sweep's id. */
async function sweepTasks(client: Client, id: string): Promise<Job[]> {
  return tasksOf((await client.json<JobList>('GET', '/api/jobs')).jobs, id);
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

async function main(argv: string[]): Promise<number> {
  const inv = parseCommandLine(argv);
  if (inv.command === 'version') {
    console.log(VERSION);
    return 0;
  }
  const { local, check, withCompanion } = COMMANDS[inv.command];
  if (local) {
    return local(inv);
  }
  check?.(inv);
  const s = settingsOf(inv);
  const serveArgs = [
    '--executor',
    s.executor,
    ...(s.profilesFile ? ['--profiles', s.profilesFile] : [])
  ];
  const client = await connect({
    stateDir: s.stateDir,
    rootDir: realPath(s.rootDir),
    serveArgs,
    notebook: inv.command === 'run' ? notebookFile(inv.args[0]) : undefined
  });
  return (withCompanion as NonNullable<typeof withCompanion>)(client, inv);
}

main(process.argv.slice(2)).then(
  code => {
    if (code >= 0) {
      process.exit(code);
    }
  },
  (e: Error) => {
    if (e instanceof UsageError) {
      const more = e.command ? `hpc-submit help ${e.command}` : 'hpc-submit --help';
      console.error(`hpc-submit: ${e.message}\n${commandUsage(e.command)}\nTry '${more}'.`);
    } else {
      console.error(`hpc-submit: ${e.message}`);
    }
    process.exit(2);
  }
);
