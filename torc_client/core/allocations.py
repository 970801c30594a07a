"""A Slurm allocation's status as Torc records it (a scheduled compute node), in one place."""

from __future__ import annotations

from enum import StrEnum


class AllocationStatus(StrEnum):
    #: Submitted, waiting in Slurm's queue.
    PENDING = "pending"
    #: Started: a runner in it registered.
    ACTIVE = "active"
    #: Over: its runners exited, Slurm ended it, or it was cancelled.
    COMPLETE = "complete"


#: Allocations that may still run jobs.
LIVE = frozenset({AllocationStatus.PENDING, AllocationStatus.ACTIVE})
