/**
 * The notebook validation workers with the test environment's real Python
 * and nbformat: one process answers every notebook of a directory, a second
 * directory gets its own, and a worker that cannot run, idles out or is
 * evicted leaves the next check answered all the same.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Profile } from '../../contract/wire';
import { validationCommand } from '../../server/jobs/notebookValidation';
import {
  type Verdict,
  ValidationWorkers,
  type WorkerPoolOptions
} from '../../server/jobs/validationWorkers';
import { until } from '../fixtures/companion';
import { PYTHON, notebookJson } from '../fixtures/jobRuntime';

type Check = (python: string, cwd: string, path: string) => Promise<Verdict>;

/** The check the companion runs, through a pool of the test's own, stopped afterwards. */
async function withPool(
  opts: Partial<WorkerPoolOptions>,
  use: (check: Check, pool: ValidationWorkers) => Promise<void>
): Promise<void> {
  const pool = new ValidationWorkers({ timeoutMs: 15_000, idleMs: 60_000, max: 4, ...opts });
  try {
    await use(
      (python, cwd, path) => pool.check(validationCommand(profile(python)), cwd, process.env, path),
      pool
    );
  } finally {
    pool.stopAll();
  }
}

let dir: string;
const profile = (python: string): Profile => ({
  id: 'cpu',
  label: 'CPU',
  launcher: [],
  python,
  kernel: 'python3',
  resources: {}
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hpc-validation-'));
  for (const sub of ['a', 'b']) {
    mkdirSync(join(dir, sub));
    for (let i = 0; i < 5; i++) {
      writeFileSync(join(dir, sub, `ok${i}.ipynb`), notebookJson([`print(${i})`]));
    }
  }
  const noName = JSON.parse(notebookJson(['1']));
  delete noName.metadata.kernelspec.name;
  writeFileSync(join(dir, 'a', 'noname.ipynb'), JSON.stringify(noName));
  writeFileSync(join(dir, 'a', 'notjson.ipynb'), '{ not json');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('one process answers every notebook of a directory, in order; another directory has its own', () =>
  withPool({}, async (check, pool) => {
    const a = join(dir, 'a');
    // An exception (not JSON) in the middle: the answers after it still come, in order.
    const verdicts = await Promise.all([
      ...[0, 1].map(i => check(PYTHON, a, join(a, `ok${i}.ipynb`))),
      check(PYTHON, a, join(a, 'notjson.ipynb')),
      check(PYTHON, a, join(a, 'noname.ipynb')),
      ...[2, 3, 4].map(i => check(PYTHON, a, join(a, `ok${i}.ipynb`)))
    ]);
    assert.match((verdicts[2] as { unanswered: string }).unanswered, /^NotJSONError: /);
    assert.deepEqual(verdicts[3], {
      valid: false,
      message: "'name' is a required property",
      where: 'metadata.kernelspec'
    });
    assert.deepEqual(
      [...verdicts.slice(0, 2), ...verdicts.slice(4)],
      Array(5).fill({ valid: true })
    );
    assert.equal(pool.started, 1);
    assert.deepEqual(await check(PYTHON, join(dir, 'b'), join(dir, 'b', 'ok0.ipynb')), {
      valid: true
    });
    assert.equal(pool.started, 2);
    assert.equal(pool.size, 2);
  }));

test('an environment without nbformat answers with its last words, and one that cannot start says why', () =>
  withPool({}, async (check, pool) => {
    const bare = join(dir, 'bare');
    execFileSync(PYTHON, ['-m', 'venv', '--without-pip', bare]);
    const a = join(dir, 'a');
    assert.deepEqual(await check(join(bare, 'bin', 'python'), a, join(a, 'ok0.ipynb')), {
      unanswered: "ModuleNotFoundError: No module named 'nbformat'"
    });
    const missing = await check(join(dir, 'no-such-python'), a, join(a, 'ok0.ipynb'));
    assert.match((missing as { unanswered: string }).unanswered, /ENOENT/);
    // Neither stays: the next check starts afresh.
    assert.equal(pool.size, 0);
  }));

test('a worker idle or evicted is replaced at the next check', () =>
  withPool({ idleMs: 300, max: 1 }, async (check, pool) => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    assert.deepEqual(await check(PYTHON, a, join(a, 'ok0.ipynb')), { valid: true });
    // Idle past idleMs: it exits by itself.
    await until('the idle worker to exit', () => pool.size === 0, 10_000);
    assert.deepEqual(await check(PYTHON, a, join(a, 'ok1.ipynb')), { valid: true });
    // Full (max 1): another directory's worker takes its place.
    assert.deepEqual(await check(PYTHON, b, join(b, 'ok1.ipynb')), { valid: true });
    assert.equal(pool.size, 1);
    assert.equal(pool.started, 3);
  }));

test('a worker that does not answer in time is stopped, and the check says so', () =>
  withPool({ timeoutMs: 1000 }, async (_check, pool) => {
    const a = join(dir, 'a');
    // A Python that reads its question and never answers: a hung environment.
    const hung = [PYTHON, '-c', 'import sys, time; sys.stdin.readline(); time.sleep(60)'];
    assert.deepEqual(await pool.check(hung, a, process.env, join(a, 'ok0.ipynb')), {
      unanswered: 'no answer within 1 s'
    });
    assert.equal(pool.size, 0);
  }));
