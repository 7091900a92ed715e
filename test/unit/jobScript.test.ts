import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  globEscape,
  nbconvertOutputBase,
  outputNameFor,
  renderJobScript,
  runtimeFile,
  type JobScriptInput
} from '../../server/runtime/jobScript';
import { RUN_FACTS_FILE, runFactsJson } from '../../server/runtime/runFacts';
import { shellQuote } from '../../server/runtime/shellQuote';

const AWKWARD_DIR = '/data/it\'s a "dir" $(touch x) `id` ünï 数据';

function input(over: Partial<JobScriptInput> = {}): JobScriptInput {
  return {
    jobId: 'job-1',
    jobDir: '/state/jobs/job-1',
    notebookPath: `${AWKWARD_DIR}/my nb [1].ipynb`,
    outputDir: `${AWKWARD_DIR}/executed`,
    outputName: 'my nb [1]_executed.ipynb',
    cwd: AWKWARD_DIR,
    launcher: ['pixi', 'run', '-e', 'gpu'],
    python: 'python',
    kernel: 'convcnp-gpu',
    requireGpu: true,
    nbconvertConfigPath: '/opt/hpc submit/nbconvert_config.py',
    ...over
  };
}

test('outputNameFor appends _executed before the extension', () => {
  expect(outputNameFor('a b.ipynb')).toBe('a b_executed.ipynb');
  expect(outputNameFor('dir/x.IPYNB')).toBe('x_executed.ipynb');
  expect(outputNameFor('experiment4_nzra_target.ipynb')).toBe(
    'experiment4_nzra_target_executed.ipynb'
  );
  expect(outputNameFor('noext')).toBe('noext_executed.ipynb');
});

test('nbconvertOutputBase survives str.format and expanduser', () => {
  expect(nbconvertOutputBase('a{b}_executed.ipynb')).toBe('./a{{b}}_executed.ipynb');
  expect(nbconvertOutputBase('{notebook_name}}_executed.ipynb')).toBe(
    './{{notebook_name}}}}_executed.ipynb'
  );
  expect(nbconvertOutputBase('~root_executed.ipynb')).toBe('./~root_executed.ipynb');
  expect(nbconvertOutputBase('-x_executed.ipynb')).toBe('./-x_executed.ipynb');
});

test('globEscape makes nbconvert glob patterns match one exact file', () => {
  // What Python's glob.escape answers for the same paths.
  expect(globEscape('/a/run[1]*?.ipynb')).toBe('/a/run[[]1][*][?].ipynb');
  expect(globEscape('/a/plain.ipynb')).toBe('/a/plain.ipynb');
  expect(globEscape('/d[1]/[ab].ipynb')).toBe('/d[[]1]/[[]ab].ipynb');
  expect(globEscape('a*.ipynb')).toBe('a[*].ipynb');
  expect(globEscape('a?.ipynb')).toBe('a[?].ipynb');
  expect(globEscape('[]a] [!] **.ipynb')).toBe('[[]]a] [[]!] [*][*].ipynb');
});

test('the script is valid bash and starts with the shebang', () => {
  const script = renderJobScript(input());
  expect(script.startsWith('#!/bin/bash\n')).toBeTruthy();
  expect(script).toMatch(/^set -u$/m);
  execFileSync('bash', ['-n'], { input: script });
});

test('every value reaches bash exactly as given', () => {
  const i = input();
  const script = renderJobScript(i);
  // Evaluate only the assignments (the head of the script) and print the variables back.
  const head = script.slice(0, script.indexOf('\nexport HPC_SUBMIT_JOB_ID'));
  const out = execFileSync(
    'bash',
    [
      '-c',
      `${head}\nprintf '%s\\0' "$JOB_ID" "$JOB_DIR" "$NOTEBOOK" "$OUTPUT_DIR" "$OUTPUT_NAME" "$WORK_DIR" "$KERNEL" "$NBCONVERT_CONFIG" "$REQUIRE_GPU" "\${LAUNCH[@]}"`
    ],
    { encoding: 'utf8' }
  );
  expect(out.split('\0').slice(0, -1)).toStrictEqual([
    i.jobId,
    i.jobDir,
    i.notebookPath,
    i.outputDir,
    i.outputName,
    i.cwd,
    i.kernel,
    i.nbconvertConfigPath,
    '1',
    'pixi',
    'run',
    '-e',
    'gpu',
    'python'
  ]);
});

test('the nbconvert command a researcher types by hand is there, with --config and the kernel', () => {
  const script = renderJobScript(input({ requireGpu: false }));
  expect(script).toMatch(/-m nbconvert --to notebook --execute \\\n/);
  expect(script).toMatch(/"--output=\$OUTPUT_BASE" "--output-dir=\$OUTPUT_DIR"/);
  expect(script).toMatch(
    /--ExecutePreprocessor\.timeout=-1 "--ExecutePreprocessor\.kernel_name=\$KERNEL"/
  );
  expect(script).toMatch(/"--config=\$NBCONVERT_CONFIG" -- "\$NOTEBOOK_ARG" < \/dev\/null &$/m);
  expect(script).toMatch(/^REQUIRE_GPU=0$/m);
  expect(script).toMatch(/trap 'on_signal USR1' USR1/);
  expect(script).toMatch(/trap 'on_signal TERM' TERM/);
});

/** The arguments the job script gives nbconvert, caught by a stand-in python. */
function nbconvertArgv(notebookName: string): { argv: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'argv-'));
  try {
    const python = join(dir, 'python');
    writeFileSync(python, `#!/bin/bash\nprintf '%s\\0' "$@" > ${shellQuote(join(dir, 'argv'))}\n`);
    chmodSync(python, 0o755);
    const script = renderJobScript(
      input({
        jobDir: dir,
        notebookPath: join(dir, notebookName),
        outputDir: join(dir, 'executed'),
        outputName: outputNameFor(notebookName),
        cwd: dir,
        launcher: [],
        python,
        requireGpu: false
      })
    );
    execFileSync('bash', ['-c', script], { stdio: 'ignore', env: { PATH: process.env.PATH } });
    const argv = readFileSync(join(dir, 'argv'), 'utf8').split('\0').slice(0, -1);
    return { argv, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test.each([
  '-x.ipynb',
  '--help.ipynb',
  '--to=html.ipynb',
  '-',
  'back\\slash.ipynb',
  '{a} ~b.ipynb'
])("no value of nbconvert's command can be read as an option: %s", name => {
  const { argv, dir } = nbconvertArgv(name);
  const doubledBraces = outputNameFor(name).replace(/[{}]/g, c => c + c);
  expect(argv).toStrictEqual([
    '-m',
    'nbconvert',
    '--to',
    'notebook',
    '--execute',
    `--output=./${doubledBraces}`,
    `--output-dir=${dir}/executed`,
    '--ExecutePreprocessor.timeout=-1',
    '--ExecutePreprocessor.kernel_name=convcnp-gpu',
    '--config=/opt/hpc submit/nbconvert_config.py',
    '--',
    globEscape(join(dir, name))
  ]);
});

test('an empty launcher runs the python alone', () => {
  const script = renderJobScript(input({ launcher: [], python: '/venv/bin/python' }));
  expect(script).toMatch(/^LAUNCH=\(\/venv\/bin\/python\)$/m);
});

test('a NUL byte in any value is refused', () => {
  expect(() => renderJobScript(input({ notebookPath: '/a\0b.ipynb' }))).toThrow(/NUL/);
});

test('runtimeFile finds the nbconvert config and the profiles schema of the source tree', () => {
  const config = runtimeFile('nbconvert_config.py');
  expect(existsSync(config)).toBeTruthy();
  expect(readFileSync(config, 'utf8')).toMatch(/HpcSubmitExecutePreprocessor/);
});

test("the job's start reaches nbconvert, for the run record's startedAt", () => {
  const dir = mkdtempSync(join(tmpdir(), 'started-'));
  try {
    const python = join(dir, 'python');
    const seen = join(dir, 'started');
    writeFileSync(
      python,
      `#!/bin/bash\nprintf '%s' "$HPC_SUBMIT_STARTED_AT" > ${shellQuote(seen)}\n`
    );
    chmodSync(python, 0o755);
    const script = renderJobScript(
      input({
        jobDir: dir,
        cwd: dir,
        outputDir: join(dir, 'executed'),
        launcher: [],
        python,
        requireGpu: false
      })
    );
    execFileSync('bash', ['-c', script], { stdio: 'ignore', env: { PATH: process.env.PATH } });
    const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
    expect(readFileSync(seen, 'utf8')).toBe(status.startedAt);
    expect(status.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run.json carries the facts as data, whatever they hold', () => {
  const facts = {
    jobId: 'job-1',
    executor: 'slurm' as const,
    profile: 'gpu "a100"',
    resources: { partition: 'gpu', gpus: 2, time: '04:00:00' },
    launcher: ['pixi', 'run', '-e', "$(touch x) 'q'"],
    notebookPath: `${AWKWARD_DIR}/nb\n.ipynb`
  };
  expect(JSON.parse(runFactsJson(facts))).toStrictEqual(facts);
  expect(RUN_FACTS_FILE).toBe('run.json');
});
