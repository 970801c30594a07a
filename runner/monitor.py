"""Resource sampling: CPU and memory of each job's whole process tree, in one background thread.

A job watched with a memory limit is killed when a sample exceeds it (`runner.memory`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil

from runner.memory import kill_tree


@dataclass
class Usage:
    """Peak and average of one job's samples."""

    samples: int = 0
    peak_memory_bytes: int = 0
    total_memory_bytes: int = 0
    peak_cpu_percent: float = 0.0
    total_cpu_percent: float = 0.0
    #: The sample over the job's memory limit, when the monitor killed the job for it (`runner.memory`).
    over_limit_bytes: int | None = None

    def add(self, memory: int, cpu: float) -> None:
        self.samples += 1
        self.peak_memory_bytes = max(self.peak_memory_bytes, memory)
        self.total_memory_bytes += memory
        self.peak_cpu_percent = max(self.peak_cpu_percent, cpu)
        self.total_cpu_percent += cpu

    def summary(self) -> dict[str, float | int | None]:
        if not self.samples:
            return {}
        return {"peak_memory_bytes": self.peak_memory_bytes,
                "avg_memory_bytes": self.total_memory_bytes // self.samples,
                "peak_cpu_percent": round(self.peak_cpu_percent, 1),
                "avg_cpu_percent": round(self.total_cpu_percent / self.samples, 1)}  # fmt: skip


@dataclass
class _Watched:
    """A job being sampled: its root process, its figures, and the Process objects of its tree."""

    root: psutil.Process
    memory_limit: int | None
    usage: Usage = field(default_factory=Usage)
    known: dict[int, psutil.Process] = field(default_factory=dict)


class ResourceMonitor:
    """Samples every watched job each `interval` seconds until stopped.

    Watching costs the runner nothing on its hot path: the sampling thread opens a
    job's process at its next tick (which also primes the CPU reading) and samples it
    from the tick after, so a job that ends within one interval has no figures.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._new: dict[int, tuple[int, int | None]] = {}  # job id -> (pid, memory limit), not opened yet
        self._opening: set[int] = set()  # being opened by the sampling thread now
        self._jobs: dict[int, _Watched] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="torc-resource-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def watch(self, job_id: int, pid: int, memory_limit: int | None = None) -> None:
        """Sample the job whose root process is `pid`; kill its tree if it uses more than `memory_limit` bytes."""
        with self._lock:
            self._new[job_id] = (pid, memory_limit)

    def forget(self, job_id: int) -> Usage:
        """Stop watching a job; returns its figures (no samples when it ended before the first)."""
        with self._lock:
            self._new.pop(job_id, None)
            self._opening.discard(job_id)
            entry = self._jobs.pop(job_id, None)
        return entry.usage if entry else Usage()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                entries = list(self._jobs.values())
                new, self._new = self._new, {}
                self._opening = set(new)
            for entry in entries:
                _check(entry)
            opened = {job_id: (_open(pid), limit) for job_id, (pid, limit) in new.items()}
            with self._lock:
                for job_id, (root, limit) in opened.items():
                    # A job forgotten while it was being opened is not watched.
                    if root is not None and job_id in self._opening:
                        self._jobs[job_id] = _Watched(root, limit, known={root.pid: root})
                self._opening = set()


def _check(entry: _Watched) -> None:
    """Sample one job; kill it if the sample exceeds its memory limit (a killed job is not sampled again)."""
    if entry.usage.over_limit_bytes is not None:
        return
    used = _sample(entry.root, entry.usage, entry.known)
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


def _sample(root: psutil.Process, usage: Usage, known: dict[int, psutil.Process]) -> int | None:
    """Add one sample of the tree under `root` and return its memory; `known` keeps Process objects so CPU % has a
    baseline. None when the root is gone."""
    try:
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    used, cpu = 0, 0.0
    for proc in tree:
        proc = known.setdefault(proc.pid, proc)
        try:
            with proc.oneshot():
                used += proc.memory_info().rss
                cpu += proc.cpu_percent(None)
        except psutil.Error:
            continue
    usage.add(used, cpu)
    return used
