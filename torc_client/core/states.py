"""Job states and the transitions allowed between them: the one owner of job status.

The names and codes are NREL Torc's. Nothing outside this module decides whether a
status change is allowed; the API's storage layer asks `sources_for(target)` to build
the guard of every conditional update, so a transition that this table does not
allow can never be written.
"""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    UNINITIALIZED = "uninitialized"
    BLOCKED = "blocked"
    READY = "ready"
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    DISABLED = "disabled"
    PENDING_FAILED = "pending_failed"

    def __str__(self) -> str:
        return self.value


S = JobStatus

ALL: tuple[str, ...] = tuple(s.value for s in JobStatus)
CODES: dict[str, int] = {s.value: i for i, s in enumerate(JobStatus)}

#: A job in one of these has finished for this run (Torc's `is_complete`).
COMPLETE = frozenset({S.COMPLETED, S.FAILED, S.CANCELED, S.TERMINATED})
#: The workflow is complete when every job is in one of these.
DONE = COMPLETE | {S.DISABLED}
#: Upstream outcomes that count as a failure for `cancel_on_blocking_job_failure`.
#: Canceled counts too, so a cancellation cascades down the whole chain.
UPSTREAM_FAILURES = frozenset({S.FAILED, S.CANCELED, S.TERMINATED, S.PENDING_FAILED})
#: Claimed by a runner: the job belongs to that runner's lease.
LEASED = frozenset({S.PENDING, S.RUNNING})
#: What a runner may report when a job ends.
REPORTABLE = frozenset({S.COMPLETED, S.FAILED, S.TERMINATED})

#: target status -> the statuses a job may move to it from.
_SOURCES: dict[JobStatus, frozenset[JobStatus]] = {
    S.UNINITIALIZED: frozenset(JobStatus) - {S.UNINITIALIZED},
    S.BLOCKED: frozenset({S.UNINITIALIZED}),
    S.READY: frozenset({S.UNINITIALIZED, S.BLOCKED, S.PENDING, S.RUNNING, S.FAILED, S.TERMINATED}),
    S.PENDING: frozenset({S.READY}),
    S.RUNNING: frozenset({S.PENDING}),
    # From pending too: a job that starts and ends between two runner reports is reported once.
    S.COMPLETED: frozenset({S.RUNNING, S.PENDING}),
    S.FAILED: frozenset({S.RUNNING, S.PENDING}),
    S.TERMINATED: frozenset({S.RUNNING, S.PENDING}),
    S.CANCELED: frozenset({S.UNINITIALIZED, S.BLOCKED, S.READY, S.PENDING}),
    S.DISABLED: frozenset({S.UNINITIALIZED, S.BLOCKED, S.READY}),
    S.PENDING_FAILED: frozenset({S.RUNNING}),
}


def lifecycle_order(status: str) -> int:
    """A sort key that puts statuses in the order of the job life cycle (unknown ones last)."""
    return CODES.get(status, len(ALL))


def parse(value: str) -> JobStatus:
    """The status named `value`; raises ValueError listing the valid names."""
    try:
        return JobStatus(value)
    except ValueError:
        raise ValueError(f"unknown job status {value!r}; valid: {', '.join(ALL)}") from None


def sources_for(target: str | JobStatus) -> list[str]:
    """The statuses from which a job may move to `target` (the guard of its update)."""
    return sorted(s.value for s in _SOURCES[JobStatus(target)])


def can_move(from_: str | JobStatus, to: str | JobStatus) -> bool:
    """Whether a job may go from `from_` to `to`."""
    return JobStatus(from_) in _SOURCES[JobStatus(to)]


def is_complete(status: str | JobStatus) -> bool:
    return JobStatus(status) in COMPLETE


def is_done(status: str | JobStatus) -> bool:
    return JobStatus(status) in DONE


def workflow_complete(counts: dict[str, int]) -> bool:
    """Whether job counts by status describe a finished workflow (zero jobs counts as finished)."""
    return all(n == 0 for status, n in counts.items() if JobStatus(status) not in DONE)
