"""What a face shows: immutable snapshots of a workflow, built by `fetch`, drawn by each face's views.

Nothing here does I/O. `RunClock` is a fold over the workflow's event log: it learns when
the current run started and ended from events alone, so the elapsed time is right even
when the run is driven from a terminal rather than from the notebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from torc_client import contract as c
from torc_client.core import states
from torc_client.watching.paging import JobQuery

#: Workflow events whose `data.status` marks the start of a run.
RUN_OPENED = frozenset({"initialized", "reinitialized"})
#: Workflow events whose `data.status` marks the end of a run.
RUN_CLOSED = frozenset({"complete", "canceled"})


@dataclass(frozen=True)
class RunClock:
    """When the current run opened, when its first job started and when it ended (server milliseconds)."""

    run_id: int = 0
    opened_ms: int | None = None
    first_start_ms: int | None = None
    ended_ms: int | None = None
    last_event_id: int = 0

    def advance(self, events: Iterable[c.Event]) -> RunClock:
        """The clock after `events` (oldest first)."""
        clock = self
        for event in events:
            clock = clock._apply(event)
        return clock

    def _apply(self, event: c.Event) -> RunClock:
        status = event.data.get("status")
        moved = replace(self, last_event_id=max(self.last_event_id, event.id))
        if event.category == "workflow" and status in RUN_OPENED:
            run_id = int(event.data.get("run_id", self.run_id + 1))
            return RunClock(run_id=run_id, opened_ms=event.timestamp, last_event_id=moved.last_event_id)
        if event.category == "workflow" and status in RUN_CLOSED and moved.ended_ms is None:
            return replace(moved, ended_ms=event.timestamp)
        if event.category == "job" and status == "running" and moved.first_start_ms is None:
            return replace(moved, first_start_ms=event.timestamp)
        return moved

    def elapsed_seconds(self, now_ms: int) -> float | None:
        """Seconds from the run's first job start (else its opening) to its end, or to `now_ms` while it runs."""
        start = self.first_start_ms if self.first_start_ms is not None else self.opened_ms
        if start is None:
            return None
        end = self.ended_ms if self.ended_ms is not None else now_ms
        return max(0.0, (end - start) / 1000.0)


@dataclass(frozen=True)
class Overview:
    """The workflow as a whole: its status, its clock and the local runner, if the dashboard started one."""

    workflow_id: int
    name: str
    status: c.WorkflowStatus
    clock: RunClock = field(default_factory=RunClock)
    runner: str | None = None

    @property
    def done(self) -> int:
        """Jobs that need nothing more in this run (completed, failed, canceled, terminated, disabled)."""
        return sum(n for status, n in self.status.job_counts.items() if status in states.DONE)

    @property
    def state(self) -> str:
        """One word for where the workflow stands."""
        s = self.status
        if s.is_canceled:
            return "canceled"
        if not s.is_initialized:
            return "not initialized"
        if s.is_complete:
            return "complete"
        active = s.job_counts.get("running", 0) + s.job_counts.get("pending", 0)
        return "running" if active else "waiting for a runner"


@dataclass(frozen=True)
class JobPage:
    """One page of the job table: the query, its rows and how many jobs match (None: unknown)."""

    query: JobQuery
    rows: tuple[c.Job, ...]
    total: int | None
    requirement_names: Mapping[int, str]


@dataclass(frozen=True)
class LogTail:
    """The end of one job attempt's stdout or stderr file."""

    path: str
    text: str = ""
    exists: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class JobDetail:
    """One job with its requirements, the results of every attempt and the tails of its latest logs."""

    job: c.Job
    requirements: c.ResourceRequirements | None
    results: tuple[c.Result, ...]
    stdout: LogTail | None = None
    stderr: LogTail | None = None
