"""How much claimed work a runner keeps waiting locally, and when it may talk to the server next.

The server paces its runners: every claim answer says how long to wait before the next
request (`ClaimResponse.next_exchange_seconds`, short when the server is idle, longer
under load). A runner obeys it, and keeps enough claimed jobs waiting to cover that
wait, so its slots do not idle while it holds back.
"""

from __future__ import annotations

from torc_client.core.resources import Capacity
from torc_client.core.settings import DEFAULT_BACKLOG_SECONDS, MAX_BACKLOG_JOBS

#: How many paces a paced runner's backlog covers: the jitter (x1.25) times how much the server lets a pace grow
#: within one pace (x1.5, `api.pacing.GROWTH`). More would hoard: a big fleet's claims, and its transactions, grow
#: with it (`python -m bench --only fleet`: with 2.5, 1,000 runners on two API processes fell from 173 to 50 jobs/s).
PACE_COVER = 1.875


class Pace:
    """How many claimed jobs to keep waiting: enough for `seconds` of work at the recent job length.

    By Little's law the slots get through `slots x seconds / job length` jobs in that
    time; jobs that run for a minute leave no backlog at all, so a runner of long
    jobs never hoards work that another runner could start. While the server asks the
    runner to wait `come_back` seconds between requests, the backlog also covers that wait.
    """

    def __init__(self, seconds: float = DEFAULT_BACKLOG_SECONDS) -> None:
        self.seconds = seconds
        self.mean_seconds: float | None = None
        self.peak_running = 0
        #: How long the server takes to answer (recent exchanges): the backlog covers that too, under pacing.
        self.exchange_seconds = 0.0

    def running(self, count: int) -> None:
        self.peak_running = max(self.peak_running, count)

    def finished(self, seconds: float) -> None:
        seconds = max(seconds, 1e-4)
        self.mean_seconds = seconds if self.mean_seconds is None else 0.8 * self.mean_seconds + 0.2 * seconds

    def exchanged(self, seconds: float) -> None:
        self.exchange_seconds = seconds if not self.exchange_seconds else 0.7 * self.exchange_seconds + 0.3 * seconds

    def target(self, slots: int, come_back: float | None = None) -> int:
        if self.mean_seconds is None:
            return 0
        # Paced, the next jobs come a pace and an exchange from now; the next pace may be longer, by the jitter (up to a
        # quarter) and by what the server lets it grow within one pace (`api.pacing.GROWTH`).
        cover = self.seconds + (PACE_COVER * come_back + self.exchange_seconds if come_back else 0.0)
        return min(MAX_BACKLOG_JOBS, round(slots * cover / self.mean_seconds))


def wanted(pace: Pace, max_parallel_jobs: int | None, running: int, backlog: int, free: Capacity,
           come_back: float | None = None) -> tuple[int, int]:  # fmt: skip
    """How many jobs a runner claims: (fitting its free resources now, extra for its backlog)."""
    # The backlog was just launched from: whatever is left in it does not fit the free resources.
    if max_parallel_jobs:
        now = max(max_parallel_jobs - running, 0)
    elif free.cpus <= 0 or free.memory_bytes <= 0:
        now = 0
    else:
        now = free.cpus
    slots = max_parallel_jobs or max(running, pace.peak_running, 1)
    target = pace.target(slots, come_back)
    short = target - backlog
    # Unpaced, a backlog is topped up once it is half gone (fewer, larger requests); paced, at every request.
    later = short if short > (0 if come_back else target // 2) else 0
    if now and backlog and max_parallel_jobs is None and not come_back:
        later = 0
    return now, later


def exchange_due(last_answer: float, come_back: float | None, now: float) -> bool:
    """Whether the server's pacing lets the runner send its next request now (its last answer came at
    `last_answer` and asked it to wait `come_back` seconds; None: no pacing)."""
    return come_back is None or now >= last_answer + come_back


def heartbeat_seconds(base: float, come_back: float | None) -> float:
    """Longest silence before the runner checks in with nothing to say: its own interval, or the server's pace if
    longer (the server keeps the pace well inside the lease)."""
    return max(base, come_back or 0.0)
