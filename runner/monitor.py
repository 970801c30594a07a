"""Resource sampling: CPU and memory of each job's whole process tree, in one background thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psutil


@dataclass
class Usage:
    """Peak and average of one job's samples."""

    samples: int = 0
    peak_memory_bytes: int = 0
    total_memory_bytes: int = 0
    peak_cpu_percent: float = 0.0
    total_cpu_percent: float = 0.0

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


class ResourceMonitor:
    """Samples every watched job each `interval` seconds until stopped.

    Watching costs the runner nothing on its hot path: the sampling thread opens a
    job's process at its next tick (which also primes the CPU reading) and samples it
    from the tick after, so a job that ends within one interval has no figures.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._new: dict[int, int] = {}  # job id -> pid, not opened yet
        self._opening: set[int] = set()  # being opened by the sampling thread now
        self._jobs: dict[int, tuple[psutil.Process, Usage, dict[int, psutil.Process]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="torc-resource-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def watch(self, job_id: int, pid: int) -> None:
        with self._lock:
            self._new[job_id] = pid

    def forget(self, job_id: int) -> dict[str, float | int | None]:
        """Stop watching a job; returns its summary (empty when it ended before the first sample)."""
        with self._lock:
            self._new.pop(job_id, None)
            self._opening.discard(job_id)
            entry = self._jobs.pop(job_id, None)
        return entry[1].summary() if entry else {}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                entries = list(self._jobs.values())
                new, self._new = self._new, {}
                self._opening = set(new)
            for root, usage, known in entries:
                _sample(root, usage, known)
            opened = {job_id: _open(pid) for job_id, pid in new.items()}
            with self._lock:
                for job_id, root in opened.items():
                    # A job forgotten while it was being opened is not watched.
                    if root is not None and job_id in self._opening:
                        self._jobs[job_id] = (root, Usage(), {root.pid: root})
                self._opening = set()


def _open(pid: int) -> psutil.Process | None:
    """The job's root process, its CPU reading primed (the first reading is only a baseline)."""
    try:
        root = psutil.Process(pid)
        root.cpu_percent(None)
        return root
    except psutil.Error:
        return None


def _sample(root: psutil.Process, usage: Usage, known: dict[int, psutil.Process]) -> None:
    """Add one sample of the tree under `root`; `known` keeps Process objects so CPU % has a baseline."""
    try:
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return
    memory, cpu = 0, 0.0
    for proc in tree:
        proc = known.setdefault(proc.pid, proc)
        try:
            with proc.oneshot():
                memory += proc.memory_info().rss
                cpu += proc.cpu_percent(None)
        except psutil.Error:
            continue
    usage.add(memory, cpu)
