/**
 * The parameters of `hpc-submit run`, with papermill's own meaning, so that
 * a line that works with papermill works here: `-p NAME VALUE` reads VALUE as
 * papermill's `_resolve_type` does (True, False, None, a Python int, a Python
 * float, else the text as is: "[1, 2]" stays a string), `-y YAML` as its
 * NoDatesSafeLoader (PyYAML: YAML 1.1, dates left as text), and every `-y`
 * comes before every `-p` whatever their order. `--sweep NAME VALUES` takes a
 * YAML list, read like `-y`. Pure: no I/O.
 *
 * The values travel as JSON: what JSON cannot carry (infinity, NaN, a whole
 * number beyond 2^53) is refused rather than changed.
 */
import { FAILSAFE_SCHEMA, Type, load, types } from 'js-yaml';
import type { ParameterValue, Parameters, SubmitRequest } from '../../contract/wire';

/** A two-value option (`-p NAME VALUE`), taken out of the line before parseArgs reads it. */
export interface PairOption {
  /** As written: `-p`, `--parameters`, `--sweep`. */
  flag: string;
  /** Its name in the command table. */
  option: string;
  name: string;
  value: string;
}

export interface PairSpelling {
  option: string;
  /** Its values in the help ("NAME VALUE"), for the error when they are missing. */
  value: string;
}

/**
 * Takes the two-value options out of argv, since parseArgs takes one value
 * per option. The value of an option in `takesValue` is passed over (in
 * `--profile -p`, -p is a profile's name), and nothing after `--` is taken.
 */
export function takePairOptions(
  argv: string[],
  pairs: Record<string, PairSpelling>,
  takesValue: ReadonlySet<string>
): { rest: string[]; found: PairOption[] } {
  const rest: string[] = [];
  const found: PairOption[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    // Own spellings only: "toString" is an argument, not Object's method.
    const pair = Object.prototype.hasOwnProperty.call(pairs, token) ? pairs[token] : undefined;
    if (pair) {
      if (i + 2 >= argv.length) {
        throw new Error(`${token} needs ${pair.value}`);
      }
      found.push({ flag: token, option: pair.option, name: argv[i + 1], value: argv[i + 2] });
      i += 2;
      continue;
    }
    rest.push(token);
    if (takesValue.has(token) && i + 1 < argv.length) {
      rest.push(argv[++i]);
    }
  }
  return { rest, found };
}

// What int() and float() strip: ASCII's six spaces and Unicode's (not quite JavaScript's trim()).
const PYTHON_SPACE =
  '[\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PYTHON_TRIM = new RegExp(`^${PYTHON_SPACE}+|${PYTHON_SPACE}+$`, 'g');
const DECIMAL_DIGIT = /\p{Nd}/u;
const PYTHON_INT = /^[+-]?\d+(?:_\d+)*$/;
const PYTHON_FLOAT =
  /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const PYTHON_NOT_FINITE = /^[+-]?(?:inf|infinity|nan)$/i;

/** A decimal digit of any script as int() reads it: Unicode puts each script's 0..9 in a row. */
function asciiDigit(digit: string): string {
  const code = digit.codePointAt(0) as number;
  let zero = code;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(zero - 1))) {
    zero--;
  }
  return String((code - zero) % 10);
}

/** The text as Python's int() and float() read it: any script's digits, spaces around dropped. */
function pythonNumberText(value: string): string {
  return value.replace(/\p{Nd}/gu, asciiDigit).replace(PYTHON_TRIM, '');
}

function sendable(n: number, text: string, where: string, integer: boolean): number {
  if (integer && !Number.isSafeInteger(n)) {
    throw new Error(
      `${where}: ${text} is a whole number beyond 2^53, which cannot be sent exactly`
    );
  }
  if (!Number.isFinite(n)) {
    throw new Error(`${where}: ${text} reads as infinity or NaN, which JSON cannot carry`);
  }
  // Python has no integer -0.
  return integer ? n || 0 : n;
}

/** papermill's `_resolve_type`: how `-p NAME VALUE` reads VALUE. */
function resolveType(value: string, where: string): ParameterValue {
  if (value === 'True' || value === 'False') {
    return value === 'True';
  }
  if (value === 'None') {
    return null;
  }
  const text = pythonNumberText(value);
  if (PYTHON_INT.test(text)) {
    return sendable(Number(text.replace(/_/g, '')), value, where, true);
  }
  if (PYTHON_FLOAT.test(text) || PYTHON_NOT_FINITE.test(text)) {
    const n = PYTHON_NOT_FINITE.test(text) ? NaN : Number(text.replace(/_/g, ''));
    return sendable(n, value, where, false);
  }
  return value;
}

// PyYAML's implicit resolvers (yaml/resolver.py) with SafeConstructor's readings.
const YAML_BOOL =
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const YAML_FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const YAML_INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const YAML_NULL = /^(?:~|null|Null|NULL|)$/;

/** Sign and digits, underscores dropped, as SafeConstructor splits them. */
function signed(data: string): [number, string] {
  const text = data.replace(/_/g, '');
  return /^[+-]/.test(text) ? [text[0] === '-' ? -1 : 1, text.slice(1)] : [1, text];
}

/** Base 60, "1:30" = 90, added up from the last part as PyYAML does. */
function sexagesimal(text: string): number {
  let value = 0;
  let base = 1;
  for (const part of text.split(':').reverse()) {
    value += Number(part) * base;
    base *= 60;
  }
  return value;
}

function yamlInt(data: string): number {
  const [sign, text] = signed(data);
  let n: number;
  if (text === '0') {
    n = 0;
  } else if (text.startsWith('0b') || text.startsWith('0x')) {
    n = parseInt(text.slice(2), text[1] === 'b' ? 2 : 16);
  } else if (text[0] === '0') {
    n = parseInt(text, 8);
  } else {
    n = text.includes(':') ? sexagesimal(text) : Number(text);
  }
  if (Number.isNaN(n)) {
    throw new Error(`YAML: ${data} is not a whole number`);
  }
  return sendable(sign * n, data, 'YAML', true);
}

function yamlFloat(data: string): number {
  const [sign, text] = signed(data.toLowerCase());
  const n = text === '.inf' ? Infinity : text.includes(':') ? sexagesimal(text) : Number(text);
  return sendable(sign * n, data, 'YAML', false);
}

const scalar = (tag: string, pattern: RegExp, construct: (data: string) => ParameterValue): Type =>
  new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: data => pattern.test(data),
    construct
  });

const NO_DATES_SAFE_SCHEMA = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar('null', YAML_NULL, () => null),
    scalar('bool', YAML_BOOL, data => ['yes', 'true', 'on'].includes(data.toLowerCase())),
    scalar('int', YAML_INT, yamlInt),
    scalar('float', YAML_FLOAT, yamlFloat),
    types.merge
  ]
});

/** YAML as papermill's NoDatesSafeLoader reads it; a repeated key keeps its last value, as in PyYAML. */
export function loadYaml(text: string, where: string): ParameterValue | undefined {
  try {
    return load(text, { schema: NO_DATES_SAFE_SCHEMA, json: true }) as ParameterValue | undefined;
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0].replace(/^YAML: /, '');
    throw new Error(`${where}: ${reason}`);
  }
}

const isMapping = (v: unknown): v is Parameters =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Python's falsy values: `yaml.load(...) or {}` turns them into no parameters. */
function isFalsy(v: ParameterValue | undefined): boolean {
  if (Array.isArray(v)) {
    return v.length === 0;
  }
  return isMapping(v) ? Object.keys(v).length === 0 : !v;
}

/** One `-y`: a mapping of parameters (nothing for an empty or false document, as papermill). */
function yamlParameters(text: string): Parameters {
  const where = `-y ${JSON.stringify(text)}`;
  const value = loadYaml(text, where);
  if (isFalsy(value)) {
    return {};
  }
  if (!isMapping(value)) {
    throw new Error(
      `${where}: not a mapping of names to values, as 'lr: 0.1' or '{lr: 0.1, epochs: 3}'`
    );
  }
  // js-yaml turns every key into a string, PyYAML does not: such a key would be True or None.
  const notName = Object.keys(value).find(k => YAML_BOOL.test(k) || YAML_NULL.test(k));
  if (notName !== undefined) {
    throw new Error(
      `${where}: ${notName} reads as true, false or null in YAML 1.1, not as a name; give it with -p`
    );
  }
  return value;
}

/** One `--sweep NAME VALUES`: a non-empty YAML list. */
function sweepValues(pair: PairOption): ParameterValue[] {
  const where = `${pair.flag} ${pair.name}`;
  const value = loadYaml(pair.value, where);
  if (!Array.isArray(value)) {
    throw new Error(`${where}: the values must be a list, as '[0.1, 0.01]', not ${pair.value}`);
  }
  if (value.length === 0) {
    throw new Error(`${where}: the list of values is empty`);
  }
  return value;
}

const PYTHON_NAME = /^[\p{XID_Start}_]\p{XID_Continue}*$/u;

function checkName(name: string, where: string): void {
  if (!PYTHON_NAME.test(name)) {
    throw new Error(`${where}: ${JSON.stringify(name)} is not a Python variable name`);
  }
}

export interface ParameterOptions {
  /** Every `-y`, in order. */
  yaml: string[];
  /** Every `-p` and `--sweep`, in order. */
  pairs: PairOption[];
  zip: boolean;
  maxParallel?: number;
  allowUnknown: boolean;
}

export type ParameterFields = Pick<
  SubmitRequest,
  'parameters' | 'sweep' | 'allowUnknownParameters'
>;

/** The submission's parameters and sweep, as papermill would read the same options. */
export function parameterFields(o: ParameterOptions): ParameterFields {
  const parameters: Parameters = Object.assign({}, ...o.yaml.map(yamlParameters));
  for (const p of o.pairs.filter(p => p.option === 'parameters')) {
    parameters[p.name] = resolveType(p.value, `${p.flag} ${p.name}`);
  }
  for (const name of Object.keys(parameters)) {
    checkName(name, 'parameter');
  }
  const swept = sweptParameters(
    o.pairs.filter(p => p.option === 'sweep'),
    parameters
  );
  if (!swept && (o.zip || o.maxParallel !== undefined)) {
    throw new Error(`${o.zip ? '--zip' : '--max-parallel'} needs --sweep`);
  }
  if (swept && o.zip) {
    checkZipLengths(swept);
  }
  return {
    ...(Object.keys(parameters).length ? { parameters } : {}),
    ...(swept
      ? {
          sweep: {
            parameters: swept,
            mode: o.zip ? 'zip' : 'product',
            ...(o.maxParallel === undefined ? {} : { maxParallel: o.maxParallel })
          }
        }
      : {}),
    ...(o.allowUnknown ? { allowUnknownParameters: true } : {})
  };
}

function sweptParameters(
  pairs: PairOption[],
  fixed: Parameters
): Record<string, ParameterValue[]> | undefined {
  if (pairs.length === 0) {
    return undefined;
  }
  const swept: Record<string, ParameterValue[]> = {};
  for (const pair of pairs) {
    checkName(pair.name, pair.flag);
    if (pair.name in swept) {
      throw new Error(`${pair.flag} ${pair.name} is given twice`);
    }
    if (pair.name in fixed) {
      throw new Error(`${pair.name} is both fixed (-p or -y) and swept (${pair.flag})`);
    }
    swept[pair.name] = sweepValues(pair);
  }
  return swept;
}

function checkZipLengths(swept: Record<string, ParameterValue[]>): void {
  const lengths = Object.entries(swept).map(([name, values]) => `${name} has ${values.length}`);
  if (new Set(Object.values(swept).map(v => v.length)).size > 1) {
    throw new Error(`--zip needs lists of one length: ${lengths.join(', ')}`);
  }
}
