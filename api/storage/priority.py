"""Job priority (Torc #206): jobs with a higher `priority` are queued, and so claimed, before others.

The ready queue is first in, first out per resource requirement (see `queue`), so priority orders
the jobs that are queued together: a run's initial ready jobs, the dependents one completion
releases, the jobs a rerun makes ready. A job made ready later queues behind those already
waiting. Only jobs with a non-zero priority store one (default 0), so a million plain jobs cost
nothing more; equal priorities keep their order (the job order of the spec).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FIELD = "priority"


def of(docs: Iterable[dict[str, Any]]) -> dict[int, int]:
    """job id -> priority, for the documents that have a non-zero one."""
    return {d["_id"]: d[FIELD] for d in docs if d.get(FIELD)}


def ordered(ids: Sequence[int], priorities: Mapping[int, int]) -> list[int]:
    """`ids`, highest priority first; equal priorities keep their order."""
    if not priorities or not any(j in priorities for j in ids):
        return list(ids)
    return sorted(ids, key=lambda j: -priorities.get(j, 0))


def ordered_queues(by_rr: Mapping[int, Sequence[int]], priorities: Mapping[int, int]) -> dict[int, list[int]]:
    """Each resource requirement's ready ids in priority order (what `queue.enqueue` takes)."""
    return {rr: ordered(ids, priorities) for rr, ids in by_rr.items()}
