# nbconvert configuration for notebooks run by jupyterlab-hpc-submit.
#
# The job script passes it with `--config <this file>`. It swaps nbconvert's
# ExecutePreprocessor for a subclass that
#   - reports progress: $HPC_SUBMIT_JOB_DIR/progress.json {"cell": k, "total": N}
#     (code cells), rewritten atomically after each cell;
#   - keeps the work done when a run stops early: on a failing cell, a dead
#     kernel, or SIGTERM/SIGUSR1 (cancel, time limit) it writes the notebook as
#     executed so far, traceback included, to $HPC_SUBMIT_OUTPUT and re-raises,
#     so nbconvert still exits non-zero. Plain nbconvert writes nothing on
#     error (nbconvert issue 626).
#   - leaves a one-line reason in $HPC_SUBMIT_JOB_DIR/reason.txt for the job
#     script's end record.
# Only the standard library and nbconvert's own dependencies are used: the
# job's environment has nothing of ours installed.
#
# Being a subclass, it still takes every ExecutePreprocessor option given on
# the command line (timeout, kernel_name, enabled via --execute).

import json
import os
import signal
import socket
import tempfile

import nbformat
from nbconvert.exporters.exporter import Exporter
from nbconvert.preprocessors import ExecutePreprocessor


def _atomic_write_text(path, text):
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class JobStopped(Exception):
    """Raised from a signal handler to end the run after the partial notebook is saved."""


class HpcSubmitExecutePreprocessor(ExecutePreprocessor):
    def preprocess(self, nb, resources=None, km=None):
        self._hpc_job_dir = os.environ.get("HPC_SUBMIT_JOB_DIR") or None
        self._hpc_output = os.environ.get("HPC_SUBMIT_OUTPUT") or None
        self._hpc_total = sum(1 for c in nb.cells if c.get("cell_type") == "code")
        self._hpc_done = 0
        self._hpc_current = None
        self._hpc_stopping = False
        self._hpc_saved = False
        self._hpc_nb = nb
        self._hpc_write_progress()
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGUSR1):
            try:
                previous[sig] = signal.signal(sig, self._hpc_on_signal)
            except (ValueError, OSError):
                pass  # not the main thread: signals then stay with nbconvert's defaults
        try:
            return super().preprocess(nb, resources, km)
        except JobStopped:
            raise
        except BaseException as error:
            self._hpc_write_reason(self._hpc_describe(error))
            if not _is_missing_kernel(error):
                self._hpc_save_partial()
            raise
        finally:
            for sig, handler in previous.items():
                try:
                    signal.signal(sig, handler)
                except (ValueError, OSError, TypeError):
                    pass

    def preprocess_cell(self, cell, resources, index):
        self._hpc_current = index
        result = super().preprocess_cell(cell, resources, index)
        if cell.get("cell_type") == "code":
            self._hpc_done += 1
            self._hpc_write_progress()
        self._hpc_current = None
        return result

    # --- reporting -----------------------------------------------------------

    def _hpc_write_progress(self):
        if not self._hpc_job_dir:
            return
        data = {"cell": self._hpc_done, "total": self._hpc_total}
        try:
            _atomic_write_text(
                os.path.join(self._hpc_job_dir, "progress.json"), json.dumps(data) + "\n"
            )
        except OSError as error:
            self.log.warning("hpc-submit: cannot write progress: %s", error)

    def _hpc_write_reason(self, reason):
        if not self._hpc_job_dir:
            return
        try:
            _atomic_write_text(
                os.path.join(self._hpc_job_dir, "reason.txt"), " ".join(reason.split())[:500] + "\n"
            )
        except OSError as error:
            self.log.warning("hpc-submit: cannot write the failure reason: %s", error)

    def _hpc_describe(self, error):
        host = socket.gethostname()
        if _is_missing_kernel(error):
            name = getattr(error, "name", None) or self.kernel_name
            return f"kernel '{name}' is not installed in the job's environment on {host}"
        where = ""
        if self._hpc_total:
            where = f"cell {min(self._hpc_done + 1, self._hpc_total)} of {self._hpc_total}"
        ename = getattr(error, "ename", None)
        if ename:
            evalue = getattr(error, "evalue", "") or ""
            return f"{where} raised {ename}: {evalue}".strip()
        kind = type(error).__name__
        if kind == "DeadKernelError":
            return f"the kernel died during {where or 'the run'} on {host} (out of memory?)"
        if kind == "CellTimeoutError":
            return f"{where} exceeded the cell time limit".strip()
        message = str(error).strip().splitlines()
        return f"{where + ': ' if where else ''}{kind}: {message[0] if message else ''}".strip()

    def _hpc_save_partial(self):
        if self._hpc_saved or not self._hpc_output:
            return
        self._hpc_saved = True
        try:
            directory = os.path.dirname(self._hpc_output)
            if directory:
                os.makedirs(directory, exist_ok=True)
            _atomic_write_text(self._hpc_output, nbformat.writes(self._hpc_nb))
            self.log.info("hpc-submit: saved the notebook executed so far to %s", self._hpc_output)
        except Exception as error:  # the original failure matters more than this one
            self.log.error("hpc-submit: cannot save the partial notebook: %s", error)

    # --- signals ---------------------------------------------------------------

    def _hpc_on_signal(self, signum, frame):
        if self._hpc_stopping:
            return
        self._hpc_stopping = True
        if signum == signal.SIGUSR1:
            reason = "time limit reached"
        else:
            reason = f"stopped by signal {signal.Signals(signum).name}"
        index = self._hpc_current
        if index is not None and 0 <= index < len(self._hpc_nb.cells):
            cell = self._hpc_nb.cells[index]
            if cell.get("cell_type") == "code":
                cell.setdefault("outputs", []).append(
                    nbformat.v4.new_output(
                        "error",
                        ename="JobStopped",
                        evalue=reason,
                        traceback=[f"hpc-submit: execution stopped in this cell: {reason}"],
                    )
                )
        self._hpc_write_reason(reason)
        self._hpc_save_partial()
        raise JobStopped(reason)


def _is_missing_kernel(error):
    return type(error).__name__ == "NoSuchKernel"


def _with_our_executor(preprocessors):
    out = []
    for p in preprocessors:
        name = p if isinstance(p, str) else getattr(p, "__name__", "")
        if name.rsplit(".", 1)[-1] == "ExecutePreprocessor":
            out.append(HpcSubmitExecutePreprocessor)
        else:
            out.append(p)
    if HpcSubmitExecutePreprocessor not in out:
        out.append(HpcSubmitExecutePreprocessor)
    return out


c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
c.NotebookExporter.default_preprocessors = _with_our_executor(
    Exporter.class_traits()["default_preprocessors"].default()
)
