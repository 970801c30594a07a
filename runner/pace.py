"""How much claimed work a runner keeps waiting locally, from the pace its jobs finish at."""

from __future__ import annotations

from torc_client.resources import Capacity
from torc_client.settings import DEFAULT_BACKLOG_SECONDS, MAX_BACKLOG_JOBS


class Pace:
    """How many claimed jobs to keep waiting: enough for `seconds` of work at the recent job length.

    By Little's law the slots get through `slots x seconds / job length` jobs in that
    time; jobs that run for a minute leave no backlog at all, so a runner of long
    jobs never hoards work that another runner could start.
    """

    def __init__(self, seconds: float = DEFAULT_BACKLOG_SECONDS) -> None:
        self.seconds = seconds
        self.mean_seconds: float | None = None
        self.peak_running = 0

    def running(self, count: int) -> None:
        self.peak_running = max(self.peak_running, count)

    def finished(self, seconds: float) -> None:
        seconds = max(seconds, 1e-4)
        self.mean_seconds = seconds if self.mean_seconds is None else 0.8 * self.mean_seconds + 0.2 * seconds

    def target(self, slots: int) -> int:
        if self.mean_seconds is None:
            return 0
        return min(MAX_BACKLOG_JOBS, round(slots * self.seconds / self.mean_seconds))


def wanted(pace: Pace, max_parallel_jobs: int | None, running: int, backlog: int, free: Capacity) -> tuple[int, int]:
    """How many jobs a runner claims: (fitting its free resources now, extra for its backlog)."""
    # The backlog was just launched from: whatever is left in it does not fit the free resources.
    if max_parallel_jobs:
        now = max(max_parallel_jobs - running, 0)
    elif free.cpus <= 0 or free.memory_bytes <= 0:
        now = 0
    else:
        now = free.cpus
    slots = max_parallel_jobs or max(running, pace.peak_running, 1)
    target = pace.target(slots)
    short = target - backlog
    later = short if short > target // 2 else 0
    if now and backlog and max_parallel_jobs is None:
        later = 0
    return now, later
