/**
 * What a user types for a parameter, read as the JSON value the companion
 * injects: JSON (`0.01`, `"nzra"`, `[1, 2]`), Python's literals as they sit in
 * a parameters cell (`'nzra'`, `True`, `None`, `(1, 2)`), or a bare word,
 * taken as a string. A sweep's values: a JSON list or comma-separated
 * values. Pure.
 */
import type { ParameterValue } from '../contract/wire';

/** A value read from text, or why it could not be, in words. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const HOW_TO_WRITE = 'write a number, true or false, null, "text" in quotes, or a list like [1, 2]';

/** Text without quotes, brackets, commas or colons reads as the string it is. */
const BARE_WORD = /^[^"'[\]{}(),:]+$/;

/** The names a literal may hold: Python's and JSON's. */
const LITERAL_NAMES = new Map([
  ['True', 'true'],
  ['False', 'false'],
  ['None', 'null'],
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null']
]);

/** One value: `0.01`, `"nzra"`, `'nzra'`, `nzra`, `[1, 2]`, `{"a": 1}`, `True`. */
export function parseValue(text: string): Parsed<ParameterValue> {
  const trimmed = text.trim();
  if (!trimmed) {
    return { ok: false, error: `no value: ${HOW_TO_WRITE}` };
  }
  const json = pythonToJson(trimmed);
  if (json !== undefined) {
    try {
      return { ok: true, value: JSON.parse(json) as ParameterValue };
    } catch {
      // Not a literal; it may still be a bare word.
    }
  }
  if (BARE_WORD.test(trimmed)) {
    return { ok: true, value: trimmed };
  }
  return { ok: false, error: `${trimmed} is not a value: ${HOW_TO_WRITE}` };
}

/** The values of a sweep: `[1, 2, 3]` or `1, 2, 3` (`[1, 2], [3, 4]`: two lists). */
export function parseSweepValues(text: string): Parsed<ParameterValue[]> {
  const trimmed = text.trim();
  if (!trimmed) {
    return { ok: false, error: 'list the values to run with, e.g. 1, 2, 3' };
  }
  const whole = trimmed.startsWith('[') ? parseValue(trimmed) : undefined;
  if (whole?.ok && Array.isArray(whole.value)) {
    return whole.value.length > 0
      ? { ok: true, value: whole.value }
      : { ok: false, error: 'the list of values is empty' };
  }
  const values: ParameterValue[] = [];
  for (const item of splitTopLevel(trimmed)) {
    if (!item.trim()) {
      return { ok: false, error: 'an empty value between commas' };
    }
    const parsed = parseValue(item);
    if (!parsed.ok) {
      return parsed;
    }
    values.push(parsed.value);
  }
  return { ok: true, value: values };
}

/** The text that reads back as `value`: a bare word where it would, else JSON. */
export function formatValue(value: ParameterValue): string {
  if (typeof value === 'string') {
    const back = parseValue(value);
    if (back.ok && back.value === value) {
      return value;
    }
  }
  return JSON.stringify(value);
}

/** The text that reads back as these sweep values: `1, 2, 3`, else a JSON list. */
export function formatSweepValues(values: ParameterValue[]): string {
  const listed = values.map(formatValue).join(', ');
  const back = parseSweepValues(listed);
  return back.ok && JSON.stringify(back.value) === JSON.stringify(values)
    ? listed
    : JSON.stringify(values);
}

/** Splits at the commas outside quotes and brackets. */
function splitTopLevel(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') {
        i++;
      } else if (c === quote) {
        quote = null;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if ('[{('.includes(c)) {
      depth++;
    } else if (']})'.includes(c)) {
      depth--;
    } else if (c === ',' && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items;
}

/**
 * Python's literal syntax rewritten as JSON: quoted strings of either kind,
 * True/False/None, tuples as lists, trailing commas dropped, numbers like
 * `.5` or `1_000`. Undefined where a name other than those three appears.
 */
function pythonToJson(text: string): string | undefined {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = closingQuote(text, i);
      if (end < 0) {
        return undefined;
      }
      out += JSON.stringify(unescape(text.slice(i + 1, end)));
      i = end + 1;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))?.[0];
    if (name) {
      const literal = LITERAL_NAMES.get(name);
      if (literal === undefined) {
        return undefined;
      }
      out += literal;
      i += name.length;
      continue;
    }
    const number = /^[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?/.exec(text.slice(i))?.[0];
    if (number) {
      const value = Number(number.replace(/_/g, ''));
      if (!Number.isFinite(value)) {
        return undefined;
      }
      out += String(value);
      i += number.length;
      continue;
    }
    if (c === ']' || c === '}' || c === ')') {
      out = out.replace(/,\s*$/, '');
    }
    out += c === '(' ? '[' : c === ')' ? ']' : c;
    i++;
  }
  return out;
}

function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
    } else if (text[i] === text[open]) {
      return i;
    }
  }
  return -1;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r' };

/** A quoted string's content with its backslash escapes resolved (\n, \u00e9, \', …). */
function unescape(content: string): string {
  return content.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) =>
    e.length === 5 ? String.fromCharCode(parseInt(e.slice(1), 16)) : (ESCAPES[e] ?? e)
  );
}
