/**
 * A job's end in words: the exception that ended a run outside any cell, out
 * of memory where slurmstepd says so, and the validator's answer at submission.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failureReason, lastExceptionLine } from '../../server/jobs/endReasons';
import { readJobStatus } from '../../server/jobs/jobStatus';
import { verdictOfLine } from '../../server/jobs/validationWorkers';

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

describe('failureReason', () => {
  it('replaces a bare exit code with the exception that ended the run', () => {
    expect(failureReason('nbconvert exited with code 1', VALIDATION_LOG)).toBe(
      "NotebookValidationError: 'name' is a required property"
    );
    expect(failureReason('nbconvert exited with code 1', 'no traceback\n')).toBeUndefined();
  });

  it("keeps the job's own reason: a failing cell says more than the log", () => {
    expect(
      failureReason('cell 2 of 3 raised ZeroDivisionError: division by zero', VALIDATION_LOG)
    ).toBeUndefined();
  });

  it('says out of memory where slurmstepd does, and only then', () => {
    const died = 'the kernel died during cell 2 of 3 on n1';
    expect(failureReason(died, `${DEAD_KERNEL_LOG}${OOM_LINE}`)).toBe(
      `out of memory: the run used more than the memory it asked for (${died})`
    );
    expect(failureReason('nbconvert exited with code 1', `${DEAD_KERNEL_LOG}${OOM_LINE}`)).toBe(
      'out of memory: the run used more than the memory it asked for (DeadKernelError: Kernel died)'
    );
    expect(failureReason(died, DEAD_KERNEL_LOG)).toBeUndefined();
  });
});

test("readJobStatus completes a failed job's reason from its log", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reasons-'));
  const ended = { phase: 'ended', host: 'vm', gpus: [], startedAt: 't0', endedAt: 't1' };
  const failed = {
    ...ended,
    exitCode: 1,
    outcome: 'failed',
    reason: 'nbconvert exited with code 1'
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
