"""Resource sampling: CPU and memory of each job's whole process tree, in one background thread.

Every job is measured however short it is: the sampling thread takes a first sample as
soon as a job is watched (memory; CPU needs a second reading), then one every interval,
and when the job ends `figures()` folds in what the kernel kept of it (its largest
resident set and CPU time from `wait4`, and its cgroup's peak where it had one). With
`granularity: time_series` the samples themselves are kept (`runner.series`).

A job watched with a memory limit is killed when a sample exceeds it (`runner.memory`).
"""

from __future__ import annotations

import resource
import threading
import time
from dataclasses import dataclass, field

import psutil

from runner.memory import kill_tree
from runner.series import Series

#: Jobs that start within this many seconds of each other get their first samples in one pass of the sampling
#: thread (a job that ends sooner is measured by the kernel's figures alone): a runner of many short jobs wakes it
#: at most this often.
START_BATCH_SECONDS = 0.05


@dataclass
class Usage:
    """Peak and average of one job's samples, and its time series when one is kept."""

    samples: int = 0
    peak_memory_bytes: int = 0
    total_memory_bytes: int = 0
    cpu_samples: int = 0
    peak_cpu_percent: float = 0.0
    total_cpu_percent: float = 0.0
    #: The sample over the job's memory limit, when the monitor killed the job for it (`runner.memory`).
    over_limit_bytes: int | None = None
    series: Series | None = None

    def add(self, memory: int, cpu: float | None, at: float = 0.0, processes: int = 1) -> None:
        """One sample `at` seconds into the job; `cpu` is None for the first (CPU needs two readings)."""
        self.samples += 1
        self.peak_memory_bytes = max(self.peak_memory_bytes, memory)
        self.total_memory_bytes += memory
        if cpu is not None:
            self.cpu_samples += 1
            self.peak_cpu_percent = max(self.peak_cpu_percent, cpu)
            self.total_cpu_percent += cpu
        if self.series is not None:
            self.series.add(at, cpu or 0.0, memory, processes)

    def summary(self) -> dict[str, float | int | None]:
        """The sampled figures alone (empty when there was no sample)."""
        if not self.samples:
            return {}
        avg_cpu = self.total_cpu_percent / self.cpu_samples if self.cpu_samples else 0.0
        return {"peak_memory_bytes": self.peak_memory_bytes,
                "avg_memory_bytes": self.total_memory_bytes // self.samples,
                "peak_cpu_percent": round(self.peak_cpu_percent, 1), "avg_cpu_percent": round(avg_cpu, 1)}  # fmt: skip


#: Jobs shorter than this are too short for their CPU time over their wall time to say how many cores they used.
SHORT_SECONDS = 0.1


def figures(usage: Usage, elapsed: float, rusage: resource.struct_rusage | None,
            peak_bytes: int | None = None, inherited_bytes: int = 0) -> dict[str, float | int | None]:  # fmt: skip
    """A finished job's peak and average memory and CPU: its samples with what the kernel kept of it.

    `rusage` (the job's own processes, from `wait4`) gives its largest resident set and its CPU
    time over `elapsed` seconds, exact however short the job; `peak_bytes` is its cgroup's peak.
    The kernel counts in that largest resident set the runner's own pages, which a job's process
    holds from its fork until it runs its command: a figure no larger than `inherited_bytes`
    (the runner's own peak) says nothing of the job and is left out.
    """
    out = usage.summary()
    peaks = [usage.peak_memory_bytes if usage.samples else 0, peak_bytes or 0]
    avg_cpu = None
    if rusage is not None:
        if rusage.ru_maxrss * 1024 > inherited_bytes:  # KiB on Linux
            peaks.append(rusage.ru_maxrss * 1024)
        cpu_seconds = rusage.ru_utime + rusage.ru_stime
        # The clock starts once the job's process exists, its CPU time a little before (bash starting): for a job of a
        # few milliseconds that alone would read as several cores. Below `SHORT_SECONDS` it counts as one core at most.
        window = max(elapsed, cpu_seconds) if elapsed < SHORT_SECONDS else elapsed
        if window > 0:
            avg_cpu = round(100.0 * cpu_seconds / window, 1)
    peak = max(peaks)
    if not peak and not out and avg_cpu is None:
        return {}
    if peak:
        out["peak_memory_bytes"] = peak
        out.setdefault("avg_memory_bytes", peak)
        out["avg_memory_bytes"] = min(out["avg_memory_bytes"], peak)
    if avg_cpu is not None:
        out["avg_cpu_percent"] = avg_cpu
    out["peak_cpu_percent"] = max(out.get("peak_cpu_percent") or 0.0, out.get("avg_cpu_percent") or 0.0)
    out.setdefault("avg_cpu_percent", 0.0)
    return out


@dataclass
class _Watched:
    """A job being sampled: its root process, its figures, and the Process objects of its tree."""

    root: psutil.Process
    launched: float
    memory_limit: int | None
    usage: Usage
    known: dict[int, psutil.Process] = field(default_factory=dict)


class ResourceMonitor:
    """Samples every watched job each `interval` seconds until stopped; keeps time series when `series_interval`.

    Watching costs the runner's loop nothing: the sampling thread is woken, and within
    `START_BATCH_SECONDS` opens the new jobs' processes and takes their first samples, while
    the loop goes on.
    """

    def __init__(self, interval: float, series_interval: float | None = None) -> None:
        self.interval = interval
        self.series_interval = series_interval
        self._new: dict[int, tuple[int, float, int | None]] = {}  # job id -> (pid, launched, limit), not opened yet
        self._opening: set[int] = set()  # being opened by the sampling thread now
        self._jobs: dict[int, _Watched] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="torc-resource-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def watch(self, job_id: int, pid: int, memory_limit: int | None = None) -> None:
        """Sample the job whose root process is `pid`; kill its tree if it uses more than `memory_limit` bytes."""
        with self._lock:
            self._new[job_id] = (pid, time.monotonic(), memory_limit)
        self._wake.set()

    def forget(self, job_id: int) -> Usage:
        """Stop watching a job; returns its figures (no samples when it ended before the first)."""
        with self._lock:
            self._new.pop(job_id, None)
            self._opening.discard(job_id)
            entry = self._jobs.pop(job_id, None)
        return entry.usage if entry else self._usage()

    def _usage(self) -> Usage:
        return Usage(series=Series(self.series_interval) if self.series_interval else None)

    def _loop(self) -> None:
        next_tick = time.monotonic() + self.interval
        while not self._stop.is_set():
            if self._wake.wait(max(0.0, next_tick - time.monotonic())):
                self._stop.wait(START_BATCH_SECONDS)  # let the jobs starting about now join this pass
            self._wake.clear()
            if self._stop.is_set():
                return
            self._open_new()
            now = time.monotonic()
            if now >= next_tick:
                next_tick = max(next_tick + self.interval, now)
                with self._lock:
                    entries = list(self._jobs.values())
                for entry in entries:
                    _check(entry, now)

    def _open_new(self) -> None:
        with self._lock:
            new, self._new = self._new, {}
            self._opening = set(new)
        opened = {}
        for job_id, (pid, launched, limit) in new.items():
            root = _open(pid)
            if root is not None:
                entry = _Watched(root, launched, limit, self._usage(), known={root.pid: root})
                _check(entry, time.monotonic(), first=True)
                opened[job_id] = entry
        with self._lock:
            for job_id, entry in opened.items():
                if job_id in self._opening:  # a job forgotten while it was being opened is not watched
                    self._jobs[job_id] = entry
            self._opening = set()


def _check(entry: _Watched, now: float, first: bool = False) -> None:
    """Sample one job; kill it if the sample exceeds its memory limit (a killed job is not sampled again)."""
    if entry.usage.over_limit_bytes is not None:
        return
    used = _sample(entry, now - entry.launched, first)
    if entry.memory_limit is not None and used is not None and used > entry.memory_limit:
        entry.usage.over_limit_bytes = used  # before the kill: the runner reaps the job only after it
        kill_tree(entry.root)


def _open(pid: int) -> psutil.Process | None:
    """The job's root process, its CPU reading primed (the first reading is only a baseline)."""
    try:
        root = psutil.Process(pid)
        root.cpu_percent(None)
        return root
    except psutil.Error:
        return None


def _sample(entry: _Watched, at: float, first: bool) -> int | None:
    """Add one sample of the job's tree and return its memory; None when the root is gone. The Process objects
    are kept in `entry.known`, so that CPU % has a baseline (there is none at the first sample).

    The first sample, taken as the job starts, reads the root process alone: finding a process's
    children reads every process of the machine, too costly to do for each job as it starts.
    """
    try:
        tree = [entry.root] if first else [entry.root, *entry.root.children(recursive=True)]
    except psutil.Error:
        return None
    used, cpu, count = 0, 0.0, 0
    for proc in tree:
        proc = entry.known.setdefault(proc.pid, proc)
        try:
            with proc.oneshot():
                used += proc.memory_info().rss
                cpu += proc.cpu_percent(None)
                count += 1
        except psutil.Error:
            continue
    if not count:
        return None
    entry.usage.add(used, None if first else cpu, at, count)
    return used
