/**
 * The command line, parsed and checked against the option tables before
 * anything starts: pure, it only returns an Invocation or throws UsageError.
 */
import { parseArgs } from 'node:util';
import { type PairOption, type PairSpelling, takePairOptions } from './parameterArgs';
import {
  COMMANDS,
  type Command,
  type CommandName,
  commandNamed,
  type Option,
  type Options,
  TOP_LEVEL
} from './options';

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A command line that makes no sense: said with the usage line, exit status 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string
  ) {
    super(message);
  }
}

export interface Invocation {
  command: CommandName | 'version';
  args: string[];
  values: Values;
  /** The two-value options, in order. */
  pairs: PairOption[];
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
function commandOf(argv: string[]): CommandName | undefined {
  const [first] = parseArgs({
    args: argv,
    options: ALL_OPTIONS,
    strict: false,
    allowPositionals: true
  }).positionals;
  return commandNamed(first);
}

/** parseArgs' sentences, shorter and in this CLI's words. */
function parseErrorMessage({ code, message }: Error & { code?: string }): string {
  const option = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${option}`;
  }
  if (/argument is ambiguous/.test(message)) {
    return `${option} needs a value; one that begins with a dash is written ${option}=VALUE`;
  }
  if (/argument missing/.test(message)) {
    return `${option} needs a value`;
  }
  if (/does not take an argument/.test(message)) {
    return `${option} takes no value`;
  }
  return message.split('\n')[0];
}

/** The invocation, checked against its command's table; throws UsageError. */
export function parseCommandLine(argv: string[]): Invocation {
  const { rest, found: pairs } = takePairs(argv);
  const { values, positionals, tokens } = tokenize(rest);
  const [word, ...args] = positionals;
  if (word === undefined) {
    if (!values.help) {
      refuseOptionsOutside(tokens, pairs, TOP_LEVEL);
    }
    const only = values.version && !values.help ? 'version' : 'help';
    return { command: only, args: [], values, pairs };
  }
  const command = commandNamed(word);
  if (command === undefined) {
    throw new UsageError(`unknown command ${word}`);
  }
  const spec: Command = COMMANDS[command];
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

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable option's values, in order. */
export function strings(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

/** A number option, checked: NaN never reaches a timer or a listen(). */
export function numberOption(
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
