import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../../server/runtime/shellQuote';

const AWKWARD = [
  '',
  'plain',
  'with space',
  "it's",
  "''",
  '"double"',
  'a\\b\\',
  '$HOME',
  '${HOME}',
  '$(echo injected)',
  '`echo injected`',
  'line1\nline2\n',
  'tab\there',
  'naïve ünïcödé 数据 ✓',
  '*',
  '~',
  '~/x',
  '-n',
  '--help',
  '-x.ipynb',
  '--to=html.ipynb',
  'back\\slash.ipynb',
  '!',
  '; rm -rf /',
  '|&<>()[]{}#',
  'a=b',
  '%j %u'
];

function bashEcho(word: string): string {
  // The quoted word is parsed by a real bash; printf prints it back byte for byte.
  return execFileSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' });
}

test('every awkward value survives a round trip through bash', () => {
  for (const value of AWKWARD) {
    expect(bashEcho(shellQuote(value))).toBe(value);
  }
});

test('command substitution inside a value never runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shq-'));
  try {
    const marker = join(dir, 'pwned');
    for (const value of [`$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`]) {
      expect(bashEcho(shellQuote(value))).toBe(value);
    }
    expect(existsSync(marker)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plain words stay readable, the rest is single-quoted', () => {
  expect(shellQuote('/home/u/nb.ipynb')).toBe('/home/u/nb.ipynb');
  expect(shellQuote('a b')).toBe("'a b'");
  expect(shellQuote("it's")).toBe("'it'\\''s'");
  expect(shellQuote('')).toBe("''");
});

test('a NUL byte is refused', () => {
  expect(() => shellQuote('a\0b')).toThrow(/NUL/);
});
