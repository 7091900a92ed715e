"""The job's own use of the hardware, sampled beside the notebook.

Started in the background by job.sh (after the GPU guard) as

    python3 sampler.py JOB_SCRIPT_PID USAGE_JSONL

and, every HPC_SUBMIT_SAMPLE_SECONDS (default 10, at least 1), appends one
JSON line (a UsagePoint of contract/wire.ts) to USAGE_JSONL:

    {"t": "2025-01-01T12:00:10.003Z", "cpuPercent": 97.5, "rssBytes": 812345344,
     "gpus": [{"index": 0, "util": 41, "memUsedMiB": 2048, "memTotalMiB": 81920}]}

- cpuPercent: CPU time (utime + stime of /proc/<pid>/stat) of every process in
  the job script's tree since the previous sample, percent of one core.
- rssBytes: the sum of the resident memory of that tree.
- gpus: the granted GPUs (CUDA_VISIBLE_DEVICES; every GPU when it is unset
  outside Slurm, none when it is unset in a Slurm job),
  from one long-running `nvidia-smi ... -lms` rather than one nvidia-smi per
  sample: starting nvidia-smi costs tens of milliseconds of CPU, a loop
  iteration next to nothing.

The sampler itself, and whatever it starts, is left out of the tree. It stops
on SIGTERM (job.sh's exit path) and by itself once the job script is gone.
Standard library only, Python 3.6 and later: it runs with the node's python3,
whatever the notebook's environment is.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

DEFAULT_SECONDS = 10.0
LEAST_SECONDS = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
GPU_QUERY = "index,utilization.gpu,memory.used,memory.total"


def interval_from(value):
    """HPC_SUBMIT_SAMPLE_SECONDS as seconds; a bad value is said in the job's log."""
    if value is None or value.strip() == "":
        return DEFAULT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds >= LEAST_SECONDS or seconds == float("inf"):
        warn(
            "HPC_SUBMIT_SAMPLE_SECONDS=%r is not a number of seconds >= %g; sampling every %g s"
            % (value, LEAST_SECONDS, DEFAULT_SECONDS)
        )
        return DEFAULT_SECONDS
    return seconds


def warn(message):
    sys.stderr.write("hpc-submit sampler: %s\n" % message)
    sys.stderr.flush()


def read_stat(pid):
    """(state, ppid, cpu ticks, start time, rss bytes) of a process, or None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = data[data.rindex(b")") + 2 :].split()
    # fields[i] is field i + 3 of proc(5): state, ppid, ..., utime 14, stime 15, starttime 22, rss 24.
    return (
        fields[0],
        int(fields[1]),
        int(fields[11]) + int(fields[12]),
        int(fields[19]),
        int(fields[21]) * PAGE_BYTES,
    )


def children_files_work():
    """Whether the kernel lists children (/proc/<pid>/task/<tid>/children, CONFIG_PROC_CHILDREN)."""
    return os.path.exists("/proc/self/task/%d/children" % os.getpid())


def children_of(pid):
    """The children of every thread of pid: a child's parent is the thread that started it."""
    kids = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid), "rb") as f:
                kids.extend(int(k) for k in f.read().split())
        except OSError:
            pass
    return kids


def children_by_scan():
    """pid -> children, from every process's ppid: for kernels without the children files."""
    tree = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = read_stat(int(name))
            if stat:
                tree.setdefault(stat[1], []).append(int(name))
    return tree


class Tree:
    """The job script's process tree, less the sampler's own branch."""

    def __init__(self, root):
        self.root = root
        self.excluded = own_branch(root)
        self.use_children_files = children_files_work()

    def processes(self):
        """{pid: (cpu ticks, start time, rss bytes)} of every live process of the tree."""
        scan = None if self.use_children_files else children_by_scan()
        seen = {}
        todo = [self.root]
        while todo:
            pid = todo.pop()
            if pid in seen or pid == self.excluded:
                continue
            stat = read_stat(pid)
            if stat is None:
                continue
            seen[pid] = stat[2:]
            todo.extend(children_of(pid) if scan is None else scan.get(pid, []))
        return seen


def own_branch(root):
    """The root's child that the sampler descends from (itself, or a launcher above it)."""
    pid = os.getpid()
    while pid > 1:
        stat = read_stat(pid)
        if stat is None:
            break
        if stat[1] == root:
            return pid
        pid = stat[1]
    return os.getpid()


class CpuMeter:
    """CPU of the tree between two samples, percent of one core."""

    def __init__(self, processes):
        self.last = processes
        self.at = time.monotonic()

    def percent(self, processes):
        now = time.monotonic()
        ticks = 0
        for pid, (cpu, started, _) in processes.items():
            before = self.last.get(pid)
            # Same pid and start time: the same process. Otherwise it began since the last sample.
            ticks += cpu - before[0] if before and before[1] == started else cpu
        elapsed = now - self.at
        self.last, self.at = processes, now
        if elapsed <= 0:
            return 0.0
        return round(100.0 * ticks / CLOCK_TICKS / elapsed, 1)


def granted_gpus(env):
    """The indices the job may use: None for all of them, an empty set for none."""
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        # Slurm sets it for every job granted GPUs: a Slurm job without it has none,
        # though nvidia-smi on a shared GPU node lists the node's GPUs.
        return set() if env.get("SLURM_JOB_ID") else None
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    if not entries or visible == "NoDevFiles":
        return set()
    if all(e.isdigit() for e in entries):
        return {int(e) for e in entries}
    # UUIDs or MIG names: where the scheduler confines devices, nvidia-smi sees only those.
    return None


def parse_gpu_line(line):
    """One line of the nvidia-smi query, or None for a header, "[N/A]" or a torn line."""
    parts = [p.strip() for p in line.split(",")]
    if len(parts) != 4:
        return None
    try:
        index, util, used, total = (int(float(p)) for p in parts)
    except ValueError:
        return None
    return {"index": index, "util": util, "memUsedMiB": used, "memTotalMiB": total}


class GpuWatch:
    """One `nvidia-smi --query-gpu ... -lms` for the job's life; its newest line per GPU."""

    def __init__(self, interval, granted):
        self.granted = granted
        self.stale_after = 3 * interval + 5
        self.latest = {}
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            [
                "nvidia-smi",
                "--query-gpu=" + GPU_QUERY,
                "--format=csv,noheader,nounits",
                "-lms",
                str(int(interval * 1000)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
        )
        reader = threading.Thread(target=self.read_lines, daemon=True)
        reader.start()

    def read_lines(self):
        for line in self.proc.stdout:
            gpu = parse_gpu_line(line)
            if gpu and (self.granted is None or gpu["index"] in self.granted):
                with self.lock:
                    self.latest[gpu["index"]] = (time.monotonic(), gpu)

    def gpus(self):
        """The GPUs' newest figures; those nvidia-smi stopped reporting are left out."""
        now = time.monotonic()
        with self.lock:
            fresh = [g for at, g in self.latest.values() if now - at <= self.stale_after]
        return sorted(fresh, key=lambda g: g["index"])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()


def start_gpu_watch(interval, env):
    granted = granted_gpus(env)
    if granted == set() or shutil.which("nvidia-smi") is None:
        return None
    try:
        return GpuWatch(interval, granted)
    except OSError as e:
        warn("cannot run nvidia-smi: %s" % e)
        return None


def utc_now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def alive(pid, started):
    """The job script is still there: same pid, same start time, not a zombie."""
    stat = read_stat(pid)
    return stat is not None and stat[3] == started and stat[0] != b"Z"


def stop(signum, frame):
    raise SystemExit(0)


def main(argv):
    if len(argv) != 3 or not argv[1].isdigit():
        warn("usage: sampler.py JOB_SCRIPT_PID USAGE_JSONL")
        return 2
    root, out = int(argv[1]), argv[2]
    first = read_stat(root)
    if first is None:
        return 0
    signal.signal(signal.SIGTERM, stop)
    # Slurm may signal every process of the job; only job.sh decides when the sampler ends.
    for name in ("SIGUSR1", "SIGUSR2", "SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    interval = interval_from(os.environ.get("HPC_SUBMIT_SAMPLE_SECONDS"))
    tree = Tree(root)
    cpu = CpuMeter(tree.processes())
    watch = start_gpu_watch(interval, os.environ)
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        while True:
            time.sleep(interval)
            if not alive(root, first[3]):
                return 0
            processes = tree.processes()
            point = {
                "t": utc_now(),
                "cpuPercent": cpu.percent(processes),
                "rssBytes": sum(p[2] for p in processes.values()),
            }
            if watch:
                point["gpus"] = watch.gpus()
            # One write per line: an append of a few hundred bytes lands whole.
            os.write(fd, (json.dumps(point, separators=(",", ":")) + "\n").encode())
    finally:
        if watch:
            watch.stop()
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
