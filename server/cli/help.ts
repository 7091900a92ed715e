/** The usage line and the help of hpc-submit and of each command. */
import { UsageError } from './argv';
import { COMMANDS, type Command, commandNamed, type Options, TOP_LEVEL } from './options';

const STARTS_COMPANION =
  'Talks to the companion, started in the background when none answers: --root-dir, ' +
  '--profiles and --executor are its settings then.';

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
export function wrap(text: string, width: number): string[] {
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
export function columns(rows: [string, string][]): string {
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

export function commandUsage(name: string | undefined): string {
  if (!name) {
    return USAGE;
  }
  const command = commandNamed(name);
  const args = command ? COMMANDS[command].args.map(a => ` ${a}`).join('') : '';
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

export function helpFor(name: string | undefined): string {
  if (name === undefined) {
    return generalHelp();
  }
  const named = commandNamed(name);
  if (named === undefined) {
    throw new UsageError(`unknown command ${name}`);
  }
  const command: Command = COMMANDS[named];
  const summary = command.summary[0].toUpperCase() + command.summary.slice(1) + '.';
  return [
    commandUsage(name),
    '',
    ...wrap(command.companion ? `${summary} ${STARTS_COMPANION}` : summary, LINE_WIDTH),
    '',
    'options:',
    columns(optionRows(command.options))
  ].join('\n');
}
