"""How much claimed work a runner keeps waiting locally, from the pace its jobs finish at."""

from __future__ import annotations

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
