"""The benchmark harness: figures (median, min, max of repeats), timers, RSS/CPU sampling, cleanup.

Every process a benchmark starts is registered here and stopped when the run ends,
also on Ctrl-C and SIGTERM (`cleanup()` runs from `bench.__main__`'s `finally`).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

#: Processes started by the benchmarks that are still alive (stopped by `cleanup`).
_CHILDREN: list[subprocess.Popen] = []


# --- figures -------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured quantity: every repeat's sample, summarised by median, min and max."""

    key: str
    title: str
    unit: str
    samples: list[float]
    higher_is_better: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(median=self.median, min=min(self.samples), max=max(self.samples), n=len(self.samples))
        return d


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    data = sorted(values)
    if not data:
        raise ValueError("no values")
    pos = (len(data) - 1) * q / 100.0
    lo, hi = int(pos), min(int(pos) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def repeat(n: int, label: str, one: Callable[[int], Any], log: Callable[[str], None]) -> list[Any]:
    """Run `one(i)` n times and return the results, logging each repeat's duration."""
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        out.append(one(i))
        log(f"  {label}: repeat {i + 1}/{n} done in {time.perf_counter() - t0:.1f} s")
    return out


# --- processes -----------------------------------------------------------------------


def spawn(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """Start a process the harness will stop at the end (in its own session: Ctrl-C goes to us only)."""
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    _CHILDREN.append(proc)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Stop one process started by `spawn` (its whole process group), politely, then by force."""
    if proc.poll() is None:
        _signal_group(proc, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    _signal_group(proc, signal.SIGKILL)  # leftovers in its group (job processes of a killed runner)
    if proc in _CHILDREN:
        _CHILDREN.remove(proc)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # spawned with start_new_session: its pgid is its pid
    except (ProcessLookupError, PermissionError):
        pass


def cleanup() -> None:
    for proc in list(_CHILDREN):
        stop(proc, timeout=5.0)


# --- resource sampling ---------------------------------------------------------------


class Sampler:
    """Samples the RSS of named process trees in a thread; keeps each tree's peak.

    `watch(name, pid)` may be called while sampling (a runner started later).
    Also reads the CPU seconds each tree used between `start()` and `stop()`.
    """

    def __init__(self, interval: float = 0.05, include_children: dict[str, bool] | None = None) -> None:
        self.interval = interval
        self.include_children = include_children or {}
        self.procs: dict[str, psutil.Process] = {}
        self.peak: dict[str, int] = {}
        self.cpu0: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int) -> None:
        try:
            proc = psutil.Process(pid)
            self.procs[name] = proc
            self.cpu0[name] = _cpu_seconds(proc, False)
        except psutil.Error:
            pass

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> Sampler:
        self._sample()
        for name, proc in self.procs.items():
            try:
                self.cpu[name] = _cpu_seconds(proc, False) - self.cpu0.get(name, 0.0)
            except psutil.Error:
                pass
        self._stop.set()
        self._thread.join(5)
        return self

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        for name, proc in list(self.procs.items()):
            rss = _tree_rss(proc, self.include_children.get(name, True))
            if rss:
                self.peak[name] = max(self.peak.get(name, 0), rss)


def _tree_rss(proc: psutil.Process, children: bool) -> int:
    total = 0
    try:
        total += proc.memory_info().rss
        if children:
            for child in proc.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
    except psutil.Error:
        pass
    return total


def _cpu_seconds(proc: psutil.Process, children: bool) -> float:
    t = proc.cpu_times()
    return t.user + t.system + ((t.children_user + t.children_system) if children else 0.0)


def cpu_of(pid: int, with_reaped_children: bool = False) -> float:
    """CPU seconds used by a live process so far (optionally plus its reaped children: a runner's jobs)."""
    try:
        return _cpu_seconds(psutil.Process(pid), with_reaped_children)
    except psutil.Error:
        return 0.0


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
