import { test } from 'node:test';
import assert from 'node:assert/strict';
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
    assert.equal(bashEcho(shellQuote(value)), value, `value ${JSON.stringify(value)}`);
  }
});

test('command substitution inside a value never runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shq-'));
  try {
    const marker = join(dir, 'pwned');
    for (const value of [`$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`]) {
      assert.equal(bashEcho(shellQuote(value)), value);
    }
    assert.equal(existsSync(marker), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plain words stay readable, the rest is single-quoted', () => {
  assert.equal(shellQuote('/home/u/nb.ipynb'), '/home/u/nb.ipynb');
  assert.equal(shellQuote('a b'), "'a b'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote(''), "''");
});

test('a NUL byte is refused', () => {
  assert.throws(() => shellQuote('a\0b'), /NUL/);
});
