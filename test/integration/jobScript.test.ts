/**
 * The job script, run by a real bash, executing real notebooks with the real
 * nbconvert + ipykernel of the test environment (HPC_SUBMIT_TEST_PYTHON).
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputNameFor, renderJobScript, runtimeFile } from '../../server/runtime/jobScript';
import { readJobStatus, readProgress, type JobStatusEnded } from '../../server/jobs/jobStatus';
import {
  PYTHON,
  TEST_KERNEL,
  installTestKernel,
  jobEnv,
  mkdirp,
  outputsText,
  writeNotebook,
  type ParsedNotebook
} from '../fixtures/jobRuntime';
import { testUnless } from '../fixtures/skip';

let root: string;
let kernel: { prefix: string; jupyterPath: string };

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hpc-jobscript-'));
  kernel = installTestKernel();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(kernel.prefix, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  jobDir: string;
  output: string;
  log: string;
  ms: number;
}

let counter = 0;

async function runJob(
  notebookPath: string,
  opts: {
    requireGpu?: boolean;
    env?: NodeJS.ProcessEnv;
    signal?: { name: NodeJS.Signals; afterCell: number };
  } = {}
): Promise<Run> {
  const jobDir = mkdirp(join(root, 'jobs', `job-${++counter}`));
  const nbDir = notebookPath.slice(0, notebookPath.lastIndexOf('/'));
  const outputName = outputNameFor(notebookPath);
  const script = renderJobScript({
    jobId: `job-${counter}`,
    jobDir,
    notebookPath,
    outputDir: join(nbDir, 'executed'),
    outputName,
    cwd: nbDir,
    launcher: [],
    python: PYTHON,
    kernel: TEST_KERNEL,
    requireGpu: opts.requireGpu ?? false,
    nbconvertConfigPath: runtimeFile('nbconvert_config.py')
  });
  const scriptPath = join(jobDir, 'job.sh');
  writeFileSync(scriptPath, script);
  const started = Date.now();
  const child = spawn('bash', [scriptPath], {
    cwd: nbDir,
    env: opts.env ?? jobEnv(kernel.jupyterPath),
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let log = '';
  child.stdout.on('data', d => (log += d));
  child.stderr.on('data', d => (log += d));
  let poll: NodeJS.Timeout | undefined;
  if (opts.signal) {
    const { name, afterCell } = opts.signal;
    poll = setInterval(async () => {
      const p = await readProgress(jobDir);
      if (p && p.cell >= afterCell) {
        clearInterval(poll);
        child.kill(name);
      }
    }, 100);
  }
  const code = await new Promise<number | null>(resolve => child.on('close', c => resolve(c)));
  if (poll) {
    clearInterval(poll);
  }
  return {
    code,
    jobDir,
    output: join(nbDir, 'executed', outputName),
    log,
    ms: Date.now() - started
  };
}

async function endOf(jobDir: string): Promise<JobStatusEnded> {
  const status = await readJobStatus(jobDir);
  assert.ok(status, 'status.json exists');
  assert.equal(status.phase, 'ended', 'status.json records the end');
  return status as JobStatusEnded;
}

function readNb(path: string): ParsedNotebook {
  return JSON.parse(readFileSync(path, 'utf8')) as ParsedNotebook;
}

test('a notebook runs to completion; output beside it, source untouched, progress k of N', async () => {
  const dir = mkdirp(join(root, 'ok'));
  writeFileSync(join(dir, 'data.txt'), 'hello from a relative path\n');
  const source = writeNotebook(join(dir, 'analysis.ipynb'), [
    "print(open('data.txt').read().strip())",
    'x = 6 * 7',
    'print(x)'
  ]);
  const run = await runJob(join(dir, 'analysis.ipynb'));
  assert.equal(run.code, 0, run.log);
  assert.equal(run.output, join(dir, 'executed', 'analysis_executed.ipynb'));
  assert.ok(existsSync(run.output), 'the executed notebook exists');
  const text = outputsText(readNb(run.output));
  assert.match(text, /hello from a relative path/);
  assert.match(text, /42/);
  assert.equal(
    readFileSync(join(dir, 'analysis.ipynb'), 'utf8'),
    source,
    'the source notebook is unchanged'
  );
  assert.deepEqual(await readProgress(run.jobDir), { cell: 3, total: 3 });
  const end = await endOf(run.jobDir);
  assert.equal(end.outcome, 'completed');
  assert.equal(end.exitCode, 0);
  assert.equal(end.host, hostname());
  assert.ok(Date.parse(end.startedAt) <= Date.parse(end.endedAt));
  assert.match(run.log, /hpc-submit: job job-\d+ started on/);
});

test('a failing cell leaves the notebook executed up to it, with the traceback', async () => {
  const dir = mkdirp(join(root, 'fail'));
  writeNotebook(join(dir, 'broken.ipynb'), [
    "print('before the error')",
    '1 / 0',
    "print('never printed')"
  ]);
  const run = await runJob(join(dir, 'broken.ipynb'));
  assert.notEqual(run.code, 0);
  assert.ok(existsSync(run.output), 'the partial notebook exists despite the error');
  const nb = readNb(run.output);
  const text = outputsText(nb);
  assert.match(text, /before the error/);
  assert.match(text, /ZeroDivisionError/);
  assert.doesNotMatch(text, /never printed/);
  const end = await endOf(run.jobDir);
  assert.equal(end.outcome, 'failed');
  assert.notEqual(end.exitCode, 0);
  assert.match(end.reason ?? '', /cell 2 of 3 raised ZeroDivisionError: division by zero/);
  assert.deepEqual(await readProgress(run.jobDir), { cell: 1, total: 3 });
});

/** Why the "no GPU" case cannot be made here (a real GPU is visible), or null. */
function realGpu(): string | null {
  try {
    const gpus = execFileSync('nvidia-smi', ['-L'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore']
    });
    return /^GPU /m.test(gpus)
      ? 'this machine has a real GPU: the "no GPU" case cannot happen here'
      : null;
  } catch {
    return null;
  }
}

testUnless(realGpu())(
  'requireGpu where no GPU is visible fails fast without running nbconvert',
  async () => {
    const dir = mkdirp(join(root, 'nogpu'));
    writeNotebook(join(dir, 'gpu.ipynb'), ["print('ran')"]);
    const env = jobEnv(kernel.jupyterPath);
    delete env.CUDA_VISIBLE_DEVICES;
    const run = await runJob(join(dir, 'gpu.ipynb'), { requireGpu: true, env });
    assert.notEqual(run.code, 0);
    assert.ok(run.ms < 5000, `failed fast (${run.ms} ms)`);
    assert.equal(existsSync(run.output), false, 'nbconvert did not run');
    const end = await endOf(run.jobDir);
    assert.equal(end.outcome, 'failed');
    assert.equal(end.reason, `no GPU visible on ${hostname()}`);
    assert.deepEqual(end.gpus, []);
    assert.match(run.log, /no GPU visible on/);
  }
);

test('requireGpu passes the guard with a visible GPU (CUDA_VISIBLE_DEVICES test double) and with nvidia-smi (a fake one)', async () => {
  const dir = mkdirp(join(root, 'gpu'));
  writeNotebook(join(dir, 'gpu.ipynb'), [
    "import os; print('CVD', os.environ.get('CUDA_VISIBLE_DEVICES'))"
  ]);
  const viaCvd = await runJob(join(dir, 'gpu.ipynb'), {
    requireGpu: true,
    env: jobEnv(kernel.jupyterPath, { CUDA_VISIBLE_DEVICES: '0,1' })
  });
  assert.equal(viaCvd.code, 0, viaCvd.log);
  const end = await endOf(viaCvd.jobDir);
  assert.equal(end.outcome, 'completed');
  assert.deepEqual(end.gpus, ['0', '1']);
  assert.match(outputsText(readNb(viaCvd.output)), /CVD 0,1/);

  // Without CUDA_VISIBLE_DEVICES the guard asks the driver: a fake nvidia-smi is
  // the test double for one.
  const fakeBin = mkdirp(join(root, 'fake-bin'));
  writeFileSync(
    join(fakeBin, 'nvidia-smi'),
    '#!/bin/sh\necho "GPU 0: Fake GPU (UUID: GPU-test-double)"\n'
  );
  chmodSync(join(fakeBin, 'nvidia-smi'), 0o755);
  const env = jobEnv(kernel.jupyterPath, { PATH: `${fakeBin}:${process.env.PATH}` });
  delete env.CUDA_VISIBLE_DEVICES;
  const viaSmi = await runJob(join(dir, 'gpu.ipynb'), { requireGpu: true, env });
  assert.equal(viaSmi.code, 0, viaSmi.log);
  const end2 = await endOf(viaSmi.jobDir);
  assert.deepEqual(end2.gpus, ['GPU 0: Fake GPU (UUID: GPU-test-double)']);
});

test('awkward names: spaces, quotes, $(), backticks, brackets and non-ASCII letters', async () => {
  // Were a name ever evaluated, PWNED would appear in the job's working directory.
  const dir = mkdirp(join(root, 'it\'s a "dir" $(touch PWNED) `touch PWNED` ünï 数据'));
  const name = "my nb 'q' $(touch PWNED) [1] ñ.ipynb";
  writeFileSync(join(dir, 'données.txt'), 'relative ünïcode ok\n');
  writeNotebook(join(dir, name), ["print(open('données.txt', encoding='utf-8').read().strip())"]);
  const run = await runJob(join(dir, name));
  assert.equal(run.code, 0, run.log);
  assert.equal(run.output, join(dir, 'executed', "my nb 'q' $(touch PWNED) [1] ñ_executed.ipynb"));
  assert.ok(existsSync(run.output), 'the executed notebook has the awkward name');
  assert.match(outputsText(readNb(run.output)), /relative ünïcode ok/);
  for (const where of [dir, root, process.cwd()]) {
    assert.equal(
      existsSync(join(where, 'PWNED')),
      false,
      `nothing in a name was executed (${where})`
    );
  }
  assert.equal((await endOf(run.jobDir)).outcome, 'completed');
});

test.each([
  ['-x.ipynb', '-x_executed.ipynb'],
  ['--help.ipynb', '--help_executed.ipynb'],
  ['--to=html.ipynb', '--to=html_executed.ipynb'],
  ['back\\slash.ipynb', 'back\\slash_executed.ipynb'],
  ['~root {notebook_name} {0}.ipynb', '~root {notebook_name} {0}_executed.ipynb']
])('a name nbconvert could misread runs to completion: %s', async (name, executed) => {
  // Names that look like options, a backslash, and what str.format and expanduser would change.
  const dir = mkdirp(join(root, '--dashes {0} back\\slash'));
  const marker = `ran ${Buffer.from(name).toString('hex')}`;
  writeNotebook(join(dir, name), [`print('${marker}')`]);
  const run = await runJob(join(dir, name));
  assert.equal(run.code, 0, run.log);
  assert.equal(run.output, join(dir, 'executed', executed));
  assert.ok(existsSync(run.output), 'the executed notebook is at the expected path');
  assert.ok(outputsText(readNb(run.output)).includes(marker), 'this very notebook was run');
  assert.equal((await endOf(run.jobDir)).outcome, 'completed');
});

test.each(['[ab].ipynb', 'a*.ipynb', 'a?.ipynb', '[]a].ipynb'])(
  'a name with glob characters runs only itself, among notebooks it would match as a pattern: %s',
  async name => {
    // The directory's name is a pattern too, one that does not match itself.
    const dir = mkdirp(join(root, 'glob [xy] *?', Buffer.from(name).toString('hex')));
    for (const notebook of [name, 'a.ipynb', 'b.ipynb', 'ab.ipynb']) {
      writeNotebook(join(dir, notebook), [`print('ran ${notebook}')`]);
    }
    const run = await runJob(join(dir, name));
    assert.equal(run.code, 0, run.log);
    // Spread: node's array is of another realm than the test's, which strict equality tells apart.
    assert.deepEqual([...readdirSync(join(dir, 'executed'))], [outputNameFor(name)]);
    assert.ok(
      outputsText(readNb(run.output)).includes(JSON.stringify(`ran ${name}\n`)),
      'the output is this very notebook run'
    );
    assert.equal((await endOf(run.jobDir)).outcome, 'completed');
  }
);

test('the time-limit signal (USR1) ends as timeout and keeps the partial notebook', async () => {
  const dir = mkdirp(join(root, 'slow'));
  writeNotebook(join(dir, 'slow.ipynb'), [
    "print('first cell done', flush=True)",
    "import time\nprint('sleeping', flush=True)\ntime.sleep(120)",
    "print('never')"
  ]);
  const run = await runJob(join(dir, 'slow.ipynb'), { signal: { name: 'SIGUSR1', afterCell: 1 } });
  assert.notEqual(run.code, 0);
  assert.ok(run.ms < 60_000, 'stopped long before the sleep ended');
  const end = await endOf(run.jobDir);
  assert.equal(end.outcome, 'timeout');
  assert.equal(end.reason, 'time limit reached');
  assert.ok(existsSync(run.output), 'the partial notebook exists');
  const text = outputsText(readNb(run.output));
  assert.match(text, /first cell done/);
  assert.match(text, /time limit reached/);
  assert.doesNotMatch(text, /never/);
});

test('a TERM (a cancel) is recorded as terminated with its signal', async () => {
  const dir = mkdirp(join(root, 'term'));
  writeNotebook(join(dir, 'slow.ipynb'), [
    "print('one', flush=True)",
    'import time; time.sleep(120)'
  ]);
  const run = await runJob(join(dir, 'slow.ipynb'), { signal: { name: 'SIGTERM', afterCell: 1 } });
  assert.notEqual(run.code, 0);
  const end = await endOf(run.jobDir);
  assert.equal(end.outcome, 'terminated');
  assert.equal(end.signal, 'TERM');
  assert.ok(existsSync(run.output), 'the partial notebook exists');
  assert.match(outputsText(readNb(run.output)), /one/);
});
