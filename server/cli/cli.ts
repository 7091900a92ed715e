/**
 * hpc-submit: the companion (serve) and its command line for terminal and
 * VS Code users on the login node. Arguments are checked in full before
 * anything starts: help, a typo or a missing argument never leaves a
 * companion behind.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Job, JobList } from '../../contract/wire';
import { isFinal } from '../../contract/rules';
import { type Client, connect, realPath } from './client';
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
  help: string;
}
type Options = Record<string, Option>;
type Values = Record<string, string | boolean | undefined>;

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

const COMMANDS: Record<string, Command> = {
  run: {
    args: ['NOTEBOOK'],
    summary: "submit a notebook; prints the job's id and state",
    options: {
      profile: { type: 'string', value: 'ID', help: 'resource profile (default: gpu)' },
      wait: {
        type: 'boolean',
        help: 'wait until the job ends; exit status 0 only when it completed'
      },
      ...STATE,
      ...HELP
    },
    check: notebookUnderGivenRoot,
    withCompanion: runNotebook
  },
  list: {
    args: [],
    summary: 'list the jobs, newest first',
    options: { ...STATE, ...HELP },
    withCompanion: async client => {
      const { jobs } = await client.json<JobList>('GET', '/api/jobs');
      console.log(jobs.length ? jobs.map(describeJob).join('\n') : 'no jobs');
      return 0;
    }
  },
  status: {
    args: ['ID'],
    summary: 'show one job in full, as JSON',
    options: { ...STATE, ...HELP },
    withCompanion: async (client, inv) => {
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
    summary: 'cancel a queued or running job',
    options: { ...STATE, ...HELP },
    withCompanion: async (client, inv) => {
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

function tokenize(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: ALL_OPTIONS,
      strict: true,
      allowPositionals: true,
      tokens: true
    });
  } catch (e) {
    const message = parseErrorMessage(e as Error & { code?: string });
    const command = commandOf(argv);
    throw new UsageError(command ? `${command}: ${message}` : message, command);
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
  const { values, positionals, tokens } = tokenize(argv);
  const [command, ...args] = positionals;
  if (command === undefined) {
    if (!values.help) {
      refuseOptionsOutside(tokens, TOP_LEVEL);
    }
    return { command: values.version && !values.help ? 'version' : 'help', args: [], values };
  }
  const spec = COMMANDS[command];
  if (!spec) {
    throw new UsageError(`unknown command ${command}`);
  }
  if (values.help) {
    return { command: 'help', args: command === 'help' ? args : [command], values };
  }
  refuseOptionsOutside(tokens, spec.options, command);
  const required = spec.args.filter(a => !a.startsWith('['));
  if (args.length < required.length) {
    throw new UsageError(`${command}: missing ${required.slice(args.length).join(' ')}`, command);
  }
  if (args.length > spec.args.length) {
    const extra = args.slice(spec.args.length).join(' ');
    throw new UsageError(`${command}: unexpected argument ${extra}`, command);
  }
  return { command, args, values };
}

function refuseOptionsOutside(
  tokens: ReturnType<typeof tokenize>['tokens'],
  allowed: Options,
  command?: string
): void {
  for (const t of tokens) {
    if (t.kind === 'option' && !(t.name in allowed)) {
      const what = `unknown option ${t.rawName}`;
      throw new UsageError(command ? `${command}: ${what}` : what, command);
    }
  }
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A number option, checked: NaN never reaches a timer or a listen(). */
function numberOption(
  values: Values,
  name: string,
  check: { min: number; max?: number; integer?: boolean }
): number | undefined {
  const text = str(values, name);
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
    throw new UsageError(`--${name} must be ${kind} ${range}, not ${text}`, 'serve');
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
  const port = numberOption(v, 'port', { min: 0, max: 65535, integer: true });
  const poll = numberOption(v, 'poll-interval', { min: 0.1 });
  const maxConcurrent = numberOption(v, 'max-concurrent', { min: 1, integer: true });
  const idleMinutes = numberOption(v, 'idle-exit', { min: 0 });
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
  console.log(`hpc-submit listening on ${companion.url}`);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return -1; // keep running
}

/**
 * One line per job. A run submitted from another root shows its absolute
 * path; `from HOST` names the host whose companion submitted it.
 */
function describeJob(job: Job): string {
  const progress = job.progress ? ` cell ${job.progress.cell}/${job.progress.total}` : '';
  const from = job.host ? ` from ${job.host}` : '';
  const where = job.node ? ` on ${job.node}` : '';
  return `${job.id}  ${job.state.padEnd(9)} ${job.profile.padEnd(6)} ${job.notebook}${from}${where}${progress}${job.reason ? `  (${job.reason})` : ''}`;
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

async function runNotebook(client: Client, inv: Invocation): Promise<number> {
  const given = inv.args[0];
  // connect picked (or started) a companion whose root holds the notebook.
  const notebook = underRoot(realPath(client.info.rootDir), notebookFile(given));
  if (notebook === null) {
    throw new Error(`${given} is outside the companion's root ${client.info.rootDir}`);
  }
  const job = await client.json<Job>('POST', '/api/jobs', {
    notebook,
    profile: str(inv.values, 'profile') ?? 'gpu'
  });
  console.log(describeJob(job));
  return inv.values.wait ? waitFor(client, job.id) : 0;
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
