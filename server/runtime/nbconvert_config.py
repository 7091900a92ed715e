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
#   - records the values the run reports (results.json, and the run record):
#     display outputs of scrapbook's mimetype (what scrapbook.glue writes,
#     read here without scrapbook), and the variables the notebook names in
#     metadata.hpc_submit.record, asked of the kernel after the last cell (or
#     the failing one) through the protocol's user_expressions: no cell, no
#     output, no execution count. Limits and types in docs/API.md.
#   - keeps the executed notebook this run is about to replace: every run of a
#     notebook writes the same output file, so before the first cell the one
#     there is copied into the job directory of the run that wrote it (named by
#     its run record), as executed.ipynb, where Compare and Run details find it.
#   - fills a pipeline step's parameters that take a value an earlier step
#     recorded ({{ prep.values.loss }}): known only once that step ended, they
#     are read here from its results.json, as $HPC_SUBMIT_JOB_DIR/
#     late-parameters.json names them (server/pipelines/lateParameters.ts),
#     and assigned at the end of papermill's injected-parameters cell.
#   - says what produced the output: metadata.kernelspec becomes the kernel the
#     notebook ran with (opening the output then offers that kernel, not the
#     source's), and metadata.hpc_submit.run records the job (RunRecord in
#     runFacts.ts): the companion's facts from $HPC_SUBMIT_JOB_DIR/run.json,
#     then node, GPUs, times, outcome, Python, git commit and an environment
#     fingerprint from here. The outcome is the one the job script records.
# Only the standard library and nbconvert's own dependencies are used: the
# job's environment has nothing of ours installed.
#
# Being a subclass, it still takes every ExecutePreprocessor option given on
# the command line (timeout, kernel_name, enabled via --execute).

import ast
import calendar
import csv
import hashlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from importlib import metadata as importlib_metadata

import nbformat
from nbconvert.exporters.exporter import Exporter
from nbconvert.preprocessors import ExecutePreprocessor

# Written by the companion into the job directory (RUN_FACTS_FILE in runFacts.ts).
RUN_FACTS_FILE = "run.json"
# The same format as the job script's `date -u +%Y-%m-%dT%H:%M:%SZ`.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)
# What scrapbook.glue(name, value) displays: {"name", "data", "encoder", "version"},
# under a mimetype per encoder; "json" and "text" (its default for a string)
# hold JSON. The others (pandas' "arrow", "display") are noted, not recorded.
SCRAP_PREFIX = "application/scrapbook.scrap."
SCRAP_JSON_ENCODERS = ("json", "text")
# Read by the companion at the run's end (RESULTS_FILE in server/jobs/results.ts).
RESULTS_FILE = "results.json"
MAX_RESULT_NAME = 200
MAX_RESULT_BYTES = 10_000
MAX_RESULTS = 100
# The copy of an executed notebook kept for the run that wrote it (KEPT_NOTEBOOK_FILE
# in server/jobs/runDetails.ts); one larger than this is not copied.
KEPT_NOTEBOOK_FILE = "executed.ipynb"
MAX_KEPT_BYTES = 50 * 1024 * 1024
# A job id (JOB_ID in server/jobs/store.ts): the record names a folder, so nothing else is trusted.
JOB_ID = re.compile(r"\d{8}-\d{6}-[a-z0-9]{6}(-(0|[1-9]\d{0,5}))?")


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


# Written by the companion for a pipeline step (LATE_PARAMETERS_FILE in lateParameters.ts).
LATE_PARAMETERS_FILE = "late-parameters.json"
LATE_TEMPLATE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# A sweep's summary.csv is written by the companion as its tasks end.
SUMMARY_WAIT_SECONDS = 120
FINAL_STATES = ("completed", "failed", "cancelled", "timeout")
LATE_REFERENCE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]{0,63})\.values\.([^\s.]{1,200})$")


class LateParameterError(Exception):
    """A value an earlier step was to record is not there: the run ends before its first cell."""


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
        self._hpc_kernelspec = None
        self._hpc_results = {}
        self._hpc_notes = []
        self._hpc_named = _names_to_record(nb, self._hpc_notes)
        self._hpc_asked = False
        self._hpc_last_code = max(
            (i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"), default=-1
        )
        self._hpc_keep_replaced_output()
        self._hpc_run = self._hpc_begin_record(resources)
        self._hpc_write_progress()
        previous = {}
        for sig in STOP_SIGNALS:
            try:
                previous[sig] = signal.signal(sig, self._hpc_on_signal)
            except (ValueError, OSError):
                pass  # not the main thread: signals then stay with nbconvert's defaults
        try:
            self._hpc_fill_late_parameters(nb)
            result = super().preprocess(nb, resources, km)
            self._hpc_end_record("completed")
            return result
        except JobStopped:
            raise
        except BaseException as error:
            reason = self._hpc_write_reason(self._hpc_describe(error))
            if not _is_missing_kernel(error):
                self._hpc_end_record("failed", reason)
                self._hpc_save_partial()
            raise
        finally:
            for sig, handler in previous.items():
                try:
                    signal.signal(sig, handler)
                except (ValueError, OSError, TypeError):
                    pass

    def start_new_kernel(self, **kwargs):
        super().start_new_kernel(**kwargs)
        try:
            spec = self.km.kernel_spec
            self._hpc_kernelspec = {
                "name": self.kernel_name,
                "display_name": spec.display_name,
                "language": spec.language,
            }
        except Exception as error:  # the record must never cost the run
            self.log.warning("hpc-submit: cannot read the kernel's spec: %s", error)

    def preprocess_cell(self, cell, resources, index):
        self._hpc_current = index
        try:
            result = super().preprocess_cell(cell, resources, index)
        except Exception as error:
            self._hpc_collect_scraps(cell)
            if type(error).__name__ == "CellExecutionError":
                self._hpc_ask_named()  # the kernel is alive: it knows what the run had
            raise
        self._hpc_collect_scraps(cell)
        if cell.get("cell_type") == "code":
            self._hpc_done += 1
            self._hpc_write_progress()
        if index == self._hpc_last_code:
            self._hpc_ask_named()
        self._hpc_current = None
        return result

    # --- a pipeline step's late parameters ------------------------------------

    def _hpc_fill_late_parameters(self, nb):
        if not self._hpc_job_dir:
            return
        try:
            with open(os.path.join(self._hpc_job_dir, LATE_PARAMETERS_FILE), encoding="utf-8") as f:
                late = json.load(f)
        except FileNotFoundError:
            return
        recorded = {}
        for step, path in (late.get("sources") or {}).items():
            try:
                with open(path, encoding="utf-8") as f:
                    recorded[step] = (json.load(f) or {}).get("values") or {}
            except (OSError, ValueError):
                recorded[step] = {}

        def value_of(match):
            m = LATE_REFERENCE.match(match.group(1))
            if not m:
                return None, False  # {{ x.output }} was filled at submission
            step, name = m.group(1), m.group(2)
            if name not in recorded.get(step, {}):
                raise LateParameterError(f"{step} recorded no value {name!r}, which this step takes")
            return recorded[step][name], True

        def fill(value):
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if not isinstance(value, str):
                return value
            whole = LATE_TEMPLATE.fullmatch(value)
            if whole:
                found, ok = value_of(whole)
                return found if ok else value

            def text(match):
                found, ok = value_of(match)
                if not ok:
                    return match.group(0)
                return found if isinstance(found, str) else json.dumps(found)

            return LATE_TEMPLATE.sub(text, value)

        for summary in late.get("summaries") or []:
            self._hpc_await_summary(summary.get("path"), summary.get("rows"))
        lines = [f"{name} = {_python_literal(fill(value))}" for name, value in
                 (late.get("parameters") or {}).items()]
        if not lines:
            return
        cell = next((c for c in nb.cells if "injected-parameters" in
                     (c.get("metadata", {}).get("tags") or [])), None)
        if cell is None:
            raise LateParameterError("the values from the earlier steps have no injected cell to go in")
        cell.source = cell.source.rstrip("\n") + "\n# From the earlier steps' recorded values:\n" + "\n".join(lines) + "\n"
        self.log.info("hpc-submit: %s", "; ".join(lines))

    def _hpc_await_summary(self, path, rows, wait_seconds=SUMMARY_WAIT_SECONDS):
        deadline = time.monotonic() + wait_seconds
        while True:
            states = []
            try:
                with open(path, newline="", encoding="utf-8") as f:
                    states = [row.get("state") for row in csv.DictReader(f)]
            except OSError:
                pass
            if len(states) >= rows and all(s in FINAL_STATES for s in states):
                return
            if time.monotonic() >= deadline:
                self.log.warning(
                    "hpc-submit: %s does not yet show every task's end after %s s; the run goes on "
                    "with it as it is (is the companion running?)", path, wait_seconds)
                return
            time.sleep(1)

    # --- recorded values -----------------------------------------------------

    def _hpc_keep(self, name, value):
        if not isinstance(name, str) or not name or len(name) > MAX_RESULT_NAME:
            self._hpc_notes.append(f"a value named {str(name)[:40]!r} was not recorded: "
                                   f"a name is 1 to {MAX_RESULT_NAME} characters")
            return
        if name not in self._hpc_results and len(self._hpc_results) >= MAX_RESULTS:
            self._hpc_notes.append(f"{name}: not recorded, a run records {MAX_RESULTS} values at most")
            return
        try:
            safe = _json_safe(value)
        except (TypeError, ValueError, RecursionError):
            self._hpc_notes.append(f"{name}: not recorded, its value is not JSON")
            return
        size = len(json.dumps(safe, ensure_ascii=False).encode("utf-8"))
        if size > MAX_RESULT_BYTES:
            self._hpc_notes.append(
                f"{name}: not recorded, its value is {size:,} bytes "
                f"(a recorded value holds {MAX_RESULT_BYTES:,} at most: save big data to a file)"
            )
            return
        self._hpc_results[name] = safe

    def _hpc_collect_scraps(self, cell):
        for output in cell.get("outputs") or []:
            for mimetype, scrap in (output.get("data") or {}).items():
                if not mimetype.startswith(SCRAP_PREFIX) or not mimetype.endswith("+json"):
                    continue
                encoder = mimetype[len(SCRAP_PREFIX) : -len("+json")]
                if isinstance(scrap, str):
                    try:
                        scrap = json.loads(scrap)
                    except ValueError:
                        scrap = None
                if not isinstance(scrap, dict) or "name" not in scrap:
                    continue
                if encoder in SCRAP_JSON_ENCODERS:
                    self._hpc_keep(scrap.get("name"), scrap.get("data"))
                else:
                    self._hpc_notes.append(
                        f"{str(scrap.get('name'))[:40]}: not recorded, scrapbook's {encoder} "
                        "encoder is not JSON (glue it with encoder='json')"
                    )

    def _hpc_ask_named(self):
        if self._hpc_asked or not self._hpc_named:
            return
        self._hpc_asked = True
        language = (self._hpc_nb.metadata.get("language_info") or {}).get("name")
        if language != "python":
            self._hpc_notes.append(
                f"variables are recorded from Python kernels only (this one runs {language})"
            )
            return
        # json.dumps in the kernel: the value comes back as JSON text, whatever
        # its type; numpy and torch scalars and small arrays through tolist().
        expressions = {
            name: f"__import__('json').dumps({name}, default=lambda o: o.tolist())"
            for name in self._hpc_named
        }
        try:
            msg_id = self.kc.execute(
                "", silent=True, store_history=False, user_expressions=expressions
            )
            reply = self.wait_for_reply(msg_id)
            answers = (reply or {}).get("content", {}).get("user_expressions") or {}
        except Exception as error:  # the values must never cost the run
            self._hpc_notes.append(f"the kernel was not asked for the variables: {error}")
            return
        for name in self._hpc_named:
            answer = answers.get(name) or {}
            if answer.get("status") != "ok":
                why = answer.get("ename") or "no answer"
                if why == "NameError":
                    self._hpc_notes.append(f"{name}: not recorded, the run never defined it")
                else:
                    self._hpc_notes.append(f"{name}: not recorded, its value is not JSON ({why})")
                continue
            try:
                text = ast.literal_eval((answer.get("data") or {}).get("text/plain", ""))
                self._hpc_keep(name, json.loads(text))
            except (ValueError, SyntaxError, TypeError):
                self._hpc_notes.append(f"{name}: not recorded, its value is not JSON")

    def _hpc_write_results(self):
        if not self._hpc_job_dir or not (self._hpc_results or self._hpc_notes):
            return
        data = {"values": self._hpc_results, "notes": self._hpc_notes}
        try:
            _atomic_write_text(
                os.path.join(self._hpc_job_dir, RESULTS_FILE),
                json.dumps(data, ensure_ascii=False) + "\n",
            )
        except OSError as error:
            self.log.warning("hpc-submit: cannot write the recorded values: %s", error)

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
        """Answers the reason as written, the one the job script then records."""
        reason = " ".join(reason.split())[:500]
        if not self._hpc_job_dir:
            return reason
        try:
            _atomic_write_text(os.path.join(self._hpc_job_dir, "reason.txt"), reason + "\n")
        except OSError as error:
            self.log.warning("hpc-submit: cannot write the failure reason: %s", error)
        return reason

    def _hpc_keep_replaced_output(self):
        """A copy of the output about to be overwritten, in the job directory of the run that wrote it."""
        output, job_dir = self._hpc_output, self._hpc_job_dir
        if not output or not job_dir:
            return
        try:
            size = os.stat(output).st_size
        except OSError:
            return  # no earlier output: nothing to keep
        try:
            if size > MAX_KEPT_BYTES:
                self.log.info("hpc-submit: %s is %d bytes: no copy kept for Compare", output, size)
                return
            with open(output, encoding="utf-8") as f:
                run = ((json.load(f).get("metadata") or {}).get("hpc_submit") or {}).get("run") or {}
            owner = run.get("jobId") if isinstance(run, dict) else None
            if not isinstance(owner, str) or not JOB_ID.fullmatch(owner):
                return  # not written by a run of ours (or its record was edited away)
            owner_dir = os.path.join(os.path.dirname(os.path.abspath(job_dir)), owner)
            kept = os.path.join(owner_dir, KEPT_NOTEBOOK_FILE)
            if owner == os.path.basename(os.path.abspath(job_dir)) or not os.path.isdir(owner_dir):
                return  # this run's own, or a run that was forgotten
            if os.path.exists(kept):
                return
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=owner_dir)
            os.close(fd)
            try:
                shutil.copyfile(output, tmp)
                os.replace(tmp, kept)
            except BaseException:
                os.unlink(tmp)
                raise
        except Exception as error:  # keeping the old copy must never cost the run
            self.log.warning("hpc-submit: cannot keep the earlier executed notebook: %s", error)

    def _hpc_begin_record(self, resources):
        """What is known before the first cell runs (the work tree before any output is written)."""
        try:
            facts = _run_facts(self._hpc_job_dir)
            notebook = facts.get("notebookPath")
            directory = (
                os.path.dirname(notebook)
                if isinstance(notebook, str) and notebook
                else ((resources or {}).get("metadata") or {}).get("path") or os.getcwd()
            )
            launcher = facts.get("launcher") if isinstance(facts.get("launcher"), list) else []
            record = {
                "jobId": facts.get("jobId") or os.environ.get("HPC_SUBMIT_JOB_ID"),
                "schedulerId": _scheduler_id(facts),
                "executor": facts.get("executor"),
                "profile": facts.get("profile"),
                "resources": facts.get("resources"),
                "node": os.environ.get("SLURMD_NODENAME") or socket.gethostname(),
                "gpus": _visible_gpus(),
                "startedAt": os.environ.get("HPC_SUBMIT_STARTED_AT") or _now(),
                "kernel": self.kernel_name,
                "launcher": facts.get("launcher"),
                "pythonVersion": platform.python_version(),
                "git": _git_state(directory, notebook),
                "environment": _environment_fingerprint(launcher, directory),
            }
            return {k: v for k, v in record.items() if v is not None}
        except Exception as error:  # the record must never cost the run
            self.log.warning("hpc-submit: cannot gather the run record: %s", error)
            return None

    def _hpc_end_record(self, state, reason=None):
        """Stamps the notebook with its kernel and the run record, just before it is written."""
        self._hpc_write_results()
        if self._hpc_run is None:
            return
        try:
            nb = self._hpc_nb
            if self._hpc_kernelspec:
                nb.metadata["kernelspec"] = dict(self._hpc_kernelspec)
            ended = _now()
            run = dict(self._hpc_run, endedAt=ended, state=state)
            duration = _seconds_between(run["startedAt"], ended)
            if duration is not None:
                run["durationSeconds"] = duration
            if reason:
                run["reason"] = reason
            if self._hpc_results:
                run["results"] = dict(self._hpc_results)
            hpc_submit = nb.metadata.get("hpc_submit")
            if not isinstance(hpc_submit, dict):
                hpc_submit = {}
            nb.metadata["hpc_submit"] = dict(hpc_submit, run=run)
        except Exception as error:
            self.log.warning("hpc-submit: cannot write the run record: %s", error)

    def _hpc_describe(self, error):
        host = socket.gethostname()
        if isinstance(error, LateParameterError):
            return str(error)
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
            return f"the kernel died during {where or 'the run'} on {host}"
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
        # The job script's own words and outcome for the same signal.
        if signum == signal.SIGUSR1:
            reason, state = "time limit reached", "timeout"
        else:
            reason, state = f"stopped by signal {signal.Signals(signum).name[3:]}", "terminated"
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
        self._hpc_end_record(state, reason)
        self._hpc_save_partial()
        raise JobStopped(reason)


def _python_literal(value):
    """A JSON value as Python source: repr of its Python form, as papermill's translator writes it."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def _is_missing_kernel(error):
    return type(error).__name__ == "NoSuchKernel"


def _names_to_record(nb, notes):
    """metadata.hpc_submit.record: a list of variable names, or one string "loss, acc"."""
    wanted = (nb.metadata.get("hpc_submit") or {}).get("record") or []
    if isinstance(wanted, str):
        wanted = wanted.split(",")
    names = []
    for name in wanted if isinstance(wanted, list) else []:
        name = name.strip() if isinstance(name, str) else ""
        if name.isidentifier() and name not in names:
            names.append(name)
        elif name:
            notes.append(f"{name[:40]!r} is not a variable name: not recorded")
    return names


def _json_safe(value, depth=0):
    """The value as strict JSON: NaN and the infinities as the strings JavaScript prints."""
    if depth > 20:
        raise ValueError("nested too deep")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    raise TypeError(type(value).__name__)


# --- the run record's facts -----------------------------------------------------


def _now():
    return time.strftime(TIME_FORMAT, time.gmtime())


def _seconds_between(start, end):
    try:
        seconds = calendar.timegm(time.strptime(end, TIME_FORMAT)) - calendar.timegm(
            time.strptime(start, TIME_FORMAT)
        )
    except (TypeError, ValueError):
        return None
    return max(0, seconds)


def _run_facts(job_dir):
    if not job_dir:
        return {}
    try:
        with open(os.path.join(job_dir, RUN_FACTS_FILE), encoding="utf-8") as f:
            facts = json.load(f)
    except (OSError, ValueError):
        return {}
    return facts if isinstance(facts, dict) else {}


def _scheduler_id(facts):
    if facts.get("executor") == "local":
        return facts.get("jobId")  # the local executor names a run by the job id
    array_id = os.environ.get("SLURM_ARRAY_JOB_ID")
    task_id = os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_id and task_id:
        # A sweep's task: SLURM_JOB_ID is its own number, the job's record says ARRAY_TASK.
        return f"{array_id}_{task_id}"
    return os.environ.get("SLURM_JOB_ID")


_SMI_GPU = re.compile(r"^GPU (\d+): (.*?) \(UUID: ([^)]+)\)\s*$")


def _visible_gpus():
    """The driver's names for the GPUs granted (CUDA_VISIBLE_DEVICES), else all it lists."""
    granted = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [d.strip() for d in (granted or "").split(",") if d.strip() and d.strip() != "NoDevFiles"]
    listed = _nvidia_smi_gpus()
    if granted is None:
        return listed
    chosen = [g for g in listed if str(g["index"]) in ids or g["uuid"] in ids]
    return chosen or [{"index": int(d)} if d.isdigit() else {"uuid": d} for d in ids]


def _nvidia_smi_gpus():
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "-L"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.splitlines():
        match = _SMI_GPU.match(line)
        if match:
            gpus.append({"index": int(match[1]), "name": match[2], "uuid": match[3]})
    return gpus


def _git(directory, *args):
    done = subprocess.run(
        ["git", "-C", directory, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout if done.returncode == 0 else None


def _git_state(directory, notebook):
    """
    The commit, and whether the run differs from it: a tracked file changed, or
    the notebook itself is not committed. Other untracked files (outputs, data)
    do not count.
    """
    if not shutil.which("git"):
        return None
    try:
        commit = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD")
        changed = _git(directory, "status", "--porcelain", "--untracked-files=no")
        if not commit or changed is None:
            return None
        if not changed.strip() and isinstance(notebook, str) and notebook:
            changed = _git(directory, "status", "--porcelain", "--", notebook) or ""
        return {"commit": commit.strip(), "dirty": bool(changed.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def _environment_fingerprint(launcher, directory):
    """pixi.lock where pixi enters the environment, else the installed packages."""
    if launcher and isinstance(launcher[0], str) and os.path.basename(launcher[0]) == "pixi":
        lock = _find_upward(directory, "pixi.lock")
        if lock:
            with open(lock, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            return {"source": "pixi.lock", "path": lock, "sha256": digest}
    return {"source": "packages", "sha256": _packages_sha256()}


def _find_upward(directory, name):
    here = os.path.abspath(directory)
    while True:
        candidate = os.path.join(here, name)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _packages_sha256():
    """sha256 of the sorted "name==version" lines of this environment, joined by newlines."""
    lines = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib_metadata.distributions())
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


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
