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
    """Samples every watched job each `interval` seconds until stopped."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
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
        try:
            root = psutil.Process(pid)
            root.cpu_percent(None)  # the first reading is a baseline; prime it so short jobs get a real one
        except psutil.Error:
            return
        with self._lock:
            self._jobs[job_id] = (root, Usage(), {pid: root})

    def forget(self, job_id: int) -> dict[str, float | int | None]:
        """Stop watching a job; returns its summary (empty when it ended before the first sample)."""
        with self._lock:
            entry = self._jobs.pop(job_id, None)
        return entry[1].summary() if entry else {}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                entries = list(self._jobs.values())
            for root, usage, known in entries:
                _sample(root, usage, known)


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
