/**
 * A job's end in words: the exception that ended a run outside any cell, out
 * of memory where slurmstepd says so, and the validator's answer at submission.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JOB_END_CAUSES,
  endSentence,
  failureReason,
  lastExceptionLine
} from '../../server/jobs/endReasons';
import { readJobStatus } from '../../server/jobs/jobStatus';
import { verdictOfLine } from '../../server/jobs/validationWorkers';
import { runtimeFile } from '../../server/runtime/jobScript';

/** nbconvert's output for a notebook whose kernelspec has no name, shortened. */
const VALIDATION_LOG = `[NbConvertApp] Converting notebook noname.ipynb to notebook
[NbConvertApp] ERROR | Notebook JSON is invalid: 'name' is a required property

Failed validating 'required' in notebook['properties']['metadata']['properties']['kernelspec']:
[NbConvertApp] ERROR | Notebook is invalid after preprocessor <nbconvert.preprocessors.tagremove.TagRemovePreprocessor object at 0x7fc770f8c590>
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/venv/lib/python3.11/site-packages/nbconvert/exporters/exporter.py", line 201, in from_filename
    return self.from_file(f, resources=resources, **kw)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/nbformat/validator.py", line 486, in _validate
    raise error
nbformat.validator.NotebookValidationError: 'name' is a required property

Failed validating 'required' in notebook['properties']['metadata']['properties']['kernelspec']:

On instance['metadata']['kernelspec']:
{'display_name': 'Python 3', 'language': 'python'}
hpc-submit: job ended on vm: failed (nbconvert exited with code 1), exit code 1
`;

const DEAD_KERNEL_LOG = `[NbConvertApp] ERROR | Kernel died while waiting for execute reply.
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/nbclient/client.py", line 1009, in _async_poll_kernel_alive
    raise DeadKernelError("Kernel died")
nbclient.exceptions.DeadKernelError: Kernel died
`;

const OOM_LINE =
  'slurmstepd: error: Detected 1 oom_kill event in StepId=7.batch. Some of the step tasks have been OOM Killed.\n';

describe('lastExceptionLine', () => {
  it("answers the exception that ended a traceback, without its module's name", () => {
    expect(lastExceptionLine(VALIDATION_LOG)).toBe(
      "NotebookValidationError: 'name' is a required property"
    );
  });

  it('answers the last of several exceptions', () => {
    const chained = `Traceback (most recent call last):
  File "a.py", line 1, in <module>
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "a.py", line 3, in <module>
ModuleNotFoundError: No module named 'nbconvert'
some later chatter
`;
    expect(lastExceptionLine(`${DEAD_KERNEL_LOG}${chained}`)).toBe(
      "ModuleNotFoundError: No module named 'nbconvert'"
    );
    expect(
      lastExceptionLine('Traceback (most recent call last):\n  File "x"\nKeyboardInterrupt\n')
    ).toBe('KeyboardInterrupt');
  });

  it("answers Python's one-line report of a module it cannot run", () => {
    expect(lastExceptionLine('/opt/env/bin/python: No module named nbconvert\n')).toBe(
      '/opt/env/bin/python: No module named nbconvert'
    );
  });

  it('answers undefined for a log without an exception, or with only an oom line', () => {
    expect(lastExceptionLine('')).toBeUndefined();
    expect(
      lastExceptionLine('[NbConvertApp] Converting notebook a.ipynb\nValueError in prose\n')
    ).toBeUndefined();
    expect(lastExceptionLine(OOM_LINE)).toBeUndefined();
    expect(lastExceptionLine(`${DEAD_KERNEL_LOG}${OOM_LINE}`)).toBe('DeadKernelError: Kernel died');
  });
});

/** job.sh's end when nbconvert failed outside any cell: only its exit code is known. */
const UNEXPLAINED = { reason: 'nbconvert exited with code 1', cause: 'nbconvert-exit' };

describe('failureReason', () => {
  it('replaces a bare exit code with the exception that ended the run', () => {
    expect(failureReason(UNEXPLAINED, VALIDATION_LOG)).toBe(
      "NotebookValidationError: 'name' is a required property"
    );
    expect(failureReason(UNEXPLAINED, 'no traceback\n')).toBeUndefined();
  });

  it("keeps the job's own reason: a failing cell says more than the log", () => {
    expect(
      failureReason(
        { reason: 'cell 2 of 3 raised ZeroDivisionError: division by zero' },
        VALIDATION_LOG
      )
    ).toBeUndefined();
  });

  it('says out of memory where slurmstepd does, and only then', () => {
    const died = 'the kernel died during cell 2 of 3 on n1';
    expect(
      failureReason({ reason: died, cause: 'notebook-failed' }, `${DEAD_KERNEL_LOG}${OOM_LINE}`)
    ).toBe(`out of memory: the run used more than the memory it asked for (${died})`);
    expect(failureReason(UNEXPLAINED, `${DEAD_KERNEL_LOG}${OOM_LINE}`)).toBe(
      'out of memory: the run used more than the memory it asked for (DeadKernelError: Kernel died)'
    );
    expect(
      failureReason({ reason: died, cause: 'notebook-failed' }, DEAD_KERNEL_LOG)
    ).toBeUndefined();
  });
});

test("readJobStatus completes a failed job's reason from its log", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reasons-'));
  const ended = { phase: 'ended', host: 'vm', gpus: [], startedAt: 't0', endedAt: 't1' };
  const failed = {
    ...ended,
    exitCode: 1,
    outcome: 'failed',
    cause: 'nbconvert-exit'
  };
  try {
    writeFileSync(join(dir, 'status.json'), JSON.stringify(failed));
    expect(await readJobStatus(dir)).toMatchObject({ reason: 'nbconvert exited with code 1' });
    writeFileSync(join(dir, 'log.txt'), VALIDATION_LOG);
    expect(await readJobStatus(dir)).toMatchObject({
      outcome: 'failed',
      reason: "NotebookValidationError: 'name' is a required property"
    });
    const completed = { ...ended, exitCode: 0, outcome: 'completed' };
    writeFileSync(join(dir, 'status.json'), JSON.stringify(completed));
    expect(await readJobStatus(dir)).not.toHaveProperty('reason');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("verdictOfLine (the validation worker's answer)", () => {
  it('reads a JSON answer line and passes over anything else', () => {
    expect(verdictOfLine('{"valid": true}')).toEqual({ valid: true });
    expect(
      verdictOfLine(
        '{"valid": false, "message": "\'name\' is a required property", "where": "metadata.kernelspec"}'
      )
    ).toEqual({
      valid: false,
      message: "'name' is a required property",
      where: 'metadata.kernelspec'
    });
    expect(
      verdictOfLine('{"unanswered": "NotJSONError: Notebook does not appear to be JSON"}')
    ).toEqual({
      unanswered: 'NotJSONError: Notebook does not appear to be JSON'
    });
    expect(verdictOfLine('pixi: activating')).toBeNull();
    expect(verdictOfLine('{"valid": false}')).toBeNull();
    expect(verdictOfLine('[]')).toBeNull();
  });
});

describe("job.sh's end causes", () => {
  it('every cause job.sh reports is one the companion says in words, and no other', () => {
    const body = readFileSync(runtimeFile('job.sh'), 'utf8');
    // finish OUTCOME EXIT_CODE CAUSE [SUBJECT]
    const written = [...body.matchAll(/\bfinish \S+ \S+ ([a-z-]+)/g)].map(m => m[1]);
    expect(new Set(written)).toEqual(new Set(JOB_END_CAUSES));
  });

  it('says each cause with the facts it names', () => {
    const end = { host: 'node7', exitCode: 127 };
    expect(endSentence({ ...end, cause: 'gpu-missing' })).toBe('no GPU visible on node7');
    expect(endSentence({ ...end, cause: 'workdir-unreachable', subject: '/d x' })).toBe(
      "cannot enter the notebook's directory /d x on node7"
    );
    expect(endSentence({ ...end, cause: 'launcher-unrunnable', subject: 'pixi' })).toBe(
      'cannot run pixi on node7 (exit code 127): is the environment installed there?'
    );
    expect(endSentence({ ...end, cause: 'signal-before-start', signal: 'INT' })).toBe(
      'stopped by signal INT before the notebook started'
    );
    expect(endSentence({ ...end, cause: 'notebook-failed', detail: 'cell 1 of 2 raised X' })).toBe(
      'cell 1 of 2 raised X'
    );
    expect(endSentence({ ...end, cause: 'time-limit' })).toBe('time limit reached');
    // A cause from a newer job.sh than this companion: said as it is, never lost.
    expect(endSentence({ ...end, cause: 'disk-full' })).toBe('disk-full');
  });
});
