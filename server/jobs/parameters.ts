/**
 * Runs with parameters, papermill's way: the notebook's cell tagged
 * `parameters` holds the defaults, and each run gets a copy with an
 * `injected-parameters` cell after it. Papermill itself reads the cell and
 * writes the injected one (server/runtime/parameterize.py, one Python process
 * per call); this file holds the rules of a request and of a sweep's tasks.
 */
import type {
  NotebookParameter,
  ParameterValue,
  Parameters,
  SubmitRequest,
  SweepRequest
} from '../../contract/wire';
import { invalid } from './refusal';
import { runCommand } from '../runCommand';
import { runtimeFile } from '../runtime/jobScript';

/** What papermill reads of a notebook's cell tagged `parameters`. */
export interface InspectedParameters {
  hasParametersCell: boolean;
  parameters: NotebookParameter[];
}

/** One injected copy to write: its values and where. */
export interface ParameterRun {
  parameters: Parameters;
  path: string;
}

export type ParameterRequest = Pick<
  SubmitRequest,
  'parameters' | 'sweep' | 'allowUnknownParameters'
>;

const MAX_DEPTH = 32;
const MAX_STRING = 100_000;
const INSPECT_TIMEOUT_MS = 30_000;
// A thousand copies take a few seconds; a slow disk gets ample room.
const INJECT_TIMEOUT_MS = 120_000;

/** The Python that runs papermill: the Jupyter server's own, as the proxy sets it. */
export function papermillPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.HPC_SUBMIT_PYTHON || 'python3';
}

/** The names and defaults of the notebook's cell tagged `parameters`. */
export async function inspectParameters(
  python: string,
  notebookPath: string
): Promise<InspectedParameters> {
  const answer = await callParameterize(
    python,
    'inspect',
    { notebook: notebookPath },
    INSPECT_TIMEOUT_MS
  );
  return {
    hasParametersCell: answer.hasParametersCell === true,
    parameters: Array.isArray(answer.parameters) ? (answer.parameters as NotebookParameter[]) : []
  };
}

/** Writes one injected copy of the notebook per run (mode 0600), all in one Python process. */
export async function writeParameterizedNotebooks(
  python: string,
  notebookPath: string,
  runs: ParameterRun[],
  language?: string
): Promise<void> {
  const answer = await callParameterize(
    python,
    'inject',
    { notebook: notebookPath, language, runs },
    INJECT_TIMEOUT_MS
  );
  if (answer.written !== runs.length) {
    throw new Error(
      `papermill wrote ${String(answer.written)} of ${runs.length} parameterized notebooks`
    );
  }
}

/**
 * One parameterize.py call: the request as JSON on stdin, its answer as JSON
 * on stdout. An answer `{error, input}` is the request's fault (a 400) when
 * `input` is true, the environment's otherwise.
 */
async function callParameterize(
  python: string,
  command: 'inspect' | 'inject',
  request: object,
  timeout: number
): Promise<Record<string, unknown>> {
  const words = (said: string): Error =>
    new Error(`papermill (${python}) failed to ${command}: ${said.slice(0, 300)}`);
  const result = await runCommand([python, runtimeFile('parameterize.py'), command], {
    env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
    timeoutMs: timeout,
    input: JSON.stringify(request)
  }).catch((e: unknown) => {
    throw words((e as Error).message);
  });
  const answer = lastJsonLine(result.stdout);
  if (answer && typeof answer.error === 'string') {
    throw answer.input === true ? invalid(answer.error) : new Error(answer.error);
  }
  if (result.code !== 0 || !answer) {
    // Its own last words; else its exit code; else (exit 0, nothing on stdout) that it gave no answer.
    const said = result.stderr.trim().split('\n').pop();
    throw words(said || (result.code !== 0 ? `exit ${result.code}` : 'no answer'));
  }
  return answer;
}

function lastJsonLine(stdout: string): Record<string, unknown> | null {
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed: unknown = JSON.parse(last);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Throws a 400 that says what is wrong with a request's parameters and
 * sweep, against what the notebook's cell tagged `parameters` defines.
 */
export function checkParameters(
  request: ParameterRequest,
  known: InspectedParameters,
  opts: { maxTasks: number }
): void {
  const fixed = checkFixed(request.parameters);
  const swept = request.sweep === undefined ? {} : checkSweep(request.sweep);
  const names = [...Object.keys(fixed), ...Object.keys(swept)];
  for (const name of names) {
    checkName(name, known);
  }
  if (!request.allowUnknownParameters) {
    checkKnown(names, known);
  }
  const both = Object.keys(swept).filter(name => name in fixed);
  if (both.length > 0) {
    throw invalid(
      `${quoteList(both)} ${both.length === 1 ? 'is' : 'are'} both fixed and swept; give each parameter either one value or a list to sweep`
    );
  }
  if (request.sweep !== undefined) {
    const count = taskCount(request.sweep);
    if (count > opts.maxTasks) {
      throw invalid(
        `the sweep has ${count.toLocaleString('en-US')} tasks; at most ${opts.maxTasks.toLocaleString('en-US')} are allowed`
      );
    }
  }
}

function checkFixed(parameters: unknown): Parameters {
  if (parameters === undefined) {
    return {};
  }
  if (!isPlainObject(parameters)) {
    throw invalid('"parameters" must be an object of parameter name to value');
  }
  for (const [name, value] of Object.entries(parameters)) {
    checkValue(value, `parameter ${JSON.stringify(name)}`);
  }
  return parameters as Parameters;
}

function checkSweep(sweep: unknown): Record<string, ParameterValue[]> {
  if (!isPlainObject(sweep) || !isPlainObject(sweep.parameters)) {
    throw invalid('"sweep.parameters" must be an object of parameter name to a list of values');
  }
  const lists = sweep.parameters as Record<string, unknown>;
  if (Object.keys(lists).length === 0) {
    throw invalid('a sweep needs at least one parameter with a list of values');
  }
  for (const [name, values] of Object.entries(lists)) {
    if (!Array.isArray(values) || values.length === 0) {
      throw invalid(
        `the sweep's values of ${JSON.stringify(name)} must be a non-empty list, as [1, 2, 3]`
      );
    }
    values.forEach((value: unknown, i) =>
      checkValue(value, `value ${i + 1} of swept ${JSON.stringify(name)}`)
    );
  }
  const { mode, maxParallel } = sweep;
  if (mode !== undefined && mode !== 'product' && mode !== 'zip') {
    throw invalid(`the sweep's mode must be "product" or "zip", not ${JSON.stringify(mode)}`);
  }
  if (maxParallel !== undefined && !(Number.isInteger(maxParallel) && Number(maxParallel) >= 1)) {
    throw invalid(
      `the sweep's maxParallel must be a positive whole number, not ${JSON.stringify(maxParallel)}`
    );
  }
  if (mode === 'zip') {
    checkZipLengths(lists as Record<string, ParameterValue[]>);
  }
  return lists as Record<string, ParameterValue[]>;
}

function checkZipLengths(lists: Record<string, ParameterValue[]>): void {
  const lengths = Object.entries(lists).map(([name, values]) => `${name}: ${values.length}`);
  if (new Set(Object.values(lists).map(values => values.length)).size > 1) {
    throw invalid(
      `a zip sweep takes the i-th value of each list, so all lists must have one length (${lengths.join(', ')})`
    );
  }
}

/**
 * The injected cell assigns `name = value`: a name is code, so it must be a
 * plain identifier (a name the notebook itself defines is one already).
 */
function checkName(name: string, known: InspectedParameters): void {
  const defined = known.parameters.some(p => p.name === name);
  if (!defined && (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || PYTHON_KEYWORDS.has(name))) {
    throw invalid(
      `${JSON.stringify(name)} is not a valid parameter name: use letters, digits and _, not starting with a digit`
    );
  }
}

function checkKnown(names: string[], known: InspectedParameters): void {
  if (names.length === 0) {
    return;
  }
  if (!known.hasParametersCell) {
    throw invalid(
      'the notebook has no cell tagged "parameters", so its values cannot be set: ' +
        'in JupyterLab, select the cell that assigns the defaults, open the property ' +
        'inspector (the gear icon in the right sidebar) and add the tag "parameters"'
    );
  }
  const knownNames = known.parameters.map(p => p.name);
  const unknown = names.filter(name => !knownNames.includes(name));
  if (unknown.length > 0) {
    const defined = knownNames.length > 0 ? quoteList(knownNames) : 'none';
    throw invalid(
      `the notebook's "parameters" cell does not define ${quoteList(unknown)}; it defines: ${defined}`
    );
  }
}

function checkValue(value: unknown, what: string, depth = 0): void {
  if (depth > MAX_DEPTH) {
    throw invalid(`${what} is nested deeper than ${MAX_DEPTH} levels`);
  }
  if (typeof value === 'string') {
    checkString(value, what);
  } else if (Array.isArray(value)) {
    value.forEach(item => checkValue(item, what, depth + 1));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      checkString(key, `a key in ${what}`);
      checkValue(item, what, depth + 1);
    }
  } else if (typeof value === 'number' ? !Number.isFinite(value) : !isJsonScalar(value)) {
    throw invalid(`${what} is not a JSON value`);
  }
}

function checkString(text: string, what: string): void {
  if (text.length > MAX_STRING) {
    throw invalid(
      `${what} is a text of ${text.length} characters; at most ${MAX_STRING} are allowed`
    );
  }
  // A lone surrogate cannot be written to the notebook's UTF-8.
  if (/\p{Surrogate}/u.test(text)) {
    throw invalid(`${what} is not valid Unicode text (it holds a lone surrogate)`);
  }
}

const isJsonScalar = (value: unknown): boolean =>
  value === null || typeof value === 'boolean' || typeof value === 'number';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const quoteList = (names: string[]): string => names.map(n => JSON.stringify(n)).join(', ');

/** How many tasks a (checked) sweep makes. */
export function taskCount(sweep: SweepRequest): number {
  const lengths = Object.values(sweep.parameters).map(values => values.length);
  return sweep.mode === 'zip' ? lengths[0] : lengths.reduce((count, n) => count * n, 1);
}

/**
 * Pure: each task's values. Product: the first swept name varies slowest
 * (as nested loops in the order given); zip: the i-th value of each list.
 * Fixed values go into every task; without a sweep, one task.
 */
export function expandTasks(
  parameters: Parameters | undefined,
  sweep: SweepRequest | undefined
): Parameters[] {
  const fixed = parameters ?? {};
  const entries = Object.entries(sweep?.parameters ?? {});
  if (entries.length === 0) {
    return [{ ...fixed }];
  }
  if (sweep?.mode === 'zip') {
    return entries[0][1].map((_, i) => ({
      ...fixed,
      ...Object.fromEntries(entries.map(([name, values]) => [name, values[i]]))
    }));
  }
  let tasks: Parameters[] = [{ ...fixed }];
  for (const [name, values] of entries) {
    tasks = tasks.flatMap(task => values.map(value => ({ ...task, [name]: value })));
  }
  return tasks;
}

const MAX_NAME_BYTES = 200;
const MAX_VALUE_CHARS = 40;
const SUFFIX = '.ipynb';

/**
 * Pure: a task's output file name, readable and safe on any filesystem:
 * `007_seed=3_lr=0.01.ipynb`, only the swept values (the stem when there are
 * none). The zero-padded index first makes it unique, sorts it in task
 * order, and keeps it from starting with '-' or '.'.
 */
export function taskOutputName(
  stem: string,
  index: number,
  taskParameters: Parameters,
  sweptNames: string[],
  width: number
): string {
  const parts = sweptNames.map(
    name =>
      `${safeText(name)}=${safeText(valueText(taskParameters[name])).slice(0, MAX_VALUE_CHARS)}`
  );
  const words = parts.length > 0 ? parts : [safeText(stem)];
  const base = [String(index).padStart(width, '0'), ...words].join('_');
  return base.slice(0, MAX_NAME_BYTES - SUFFIX.length) + SUFFIX;
}

/** Strings as they are, any other value as its JSON text. */
const valueText = (value: ParameterValue | undefined): string =>
  typeof value === 'string' ? value : JSON.stringify(value ?? null);

const safeText = (text: string): string => text.replace(/[^A-Za-z0-9._=+-]/g, '_');

/** Python's reserved words: none may be assigned in the injected cell. */
const PYTHON_KEYWORDS = new Set([
  'False',
  'None',
  'True',
  'and',
  'as',
  'assert',
  'async',
  'await',
  'break',
  'class',
  'continue',
  'def',
  'del',
  'elif',
  'else',
  'except',
  'finally',
  'for',
  'from',
  'global',
  'if',
  'import',
  'in',
  'is',
  'lambda',
  'nonlocal',
  'not',
  'or',
  'pass',
  'raise',
  'return',
  'try',
  'while',
  'with',
  'yield'
]);
