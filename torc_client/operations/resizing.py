"""Right-sizing a workflow's requirement groups from what their jobs used (`torc workflows correct-resources`).

Each group's request becomes its jobs' largest measured peak plus headroom (`torc_client.analysis.diagnosis`:
CPUs x 1.1, memory x 1.2 rounded up, runtime x 1.2 in whole minutes), for the next run. Only
attempts that completed count: a job killed for lack of memory or time never showed what it
needed, so its group keeps its request for that resource and the change list says to use
`torc recover` for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from torc_client import contract as c
from torc_client.analysis import diagnosis
from torc_client.analysis.diagnosis import JobUsage
from torc_client.client import Client
from torc_client.core.units import (
    format_duration,
    format_memory,
    parse_duration,
    parse_memory,
)


@dataclass(frozen=True)
class Correction:
    """One requirement group's change: field -> (now, proposed), from the peaks of `sampled` completed jobs."""

    requirements: c.ResourceRequirements
    changes: dict[str, tuple[Any, Any]]
    sampled: int
    #: Jobs of the group whose latest attempt did not complete (their needs are unknown).
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.requirements.id, "name": self.requirements.name, "sampled_jobs": self.sampled,
                "failed_jobs": self.failed,
                "changes": {key: {"now": now, "proposed": new} for key, (now, new) in self.changes.items()}}  # fmt: skip


def corrections(usages: Iterable[JobUsage], requirements: Mapping[int, c.ResourceRequirements]) -> list[Correction]:
    """The changes that right-size each group from its completed jobs' peaks (pure); unchanged groups are left out."""
    usages = list(usages)
    completed = [u for u in usages if u.failure is None]
    failed: dict[int | None, int] = {}
    for usage in usages:
        if usage.failure is not None:
            failed[usage.requirements_id] = failed.get(usage.requirements_id, 0) + 1
    out = []
    for sizing in diagnosis.group_usage(completed):
        rr = requirements.get(sizing.requirements_id or -1)
        if rr is None or not sizing.sampled:
            continue
        proposed = {
            "num_cpus": sizing.suggested_cpus,
            "memory": None if sizing.suggested_memory_bytes is None else format_memory(sizing.suggested_memory_bytes),
            "runtime": (None if sizing.suggested_runtime_seconds is None
                        else format_duration(sizing.suggested_runtime_seconds)),
        }  # fmt: skip
        changes = {key: (getattr(rr, key), new) for key, new in proposed.items()
                   if new is not None and _differs(key, getattr(rr, key), new)}  # fmt: skip
        if changes:
            out.append(Correction(rr, changes, sizing.sampled, failed.get(rr.id, 0)))
    return out


def _differs(key: str, now: Any, new: Any) -> bool:
    """Whether a proposed value changes the request (`1g` and `1024m` are the same memory)."""
    parse = {"memory": parse_memory, "runtime": parse_duration}.get(key)
    if parse is None:
        return now != new
    try:
        return parse(now) != parse(new)
    except ValueError:
        return True


def measure(client: Client, workflow_id: int) -> list[Correction]:
    """Read a workflow's jobs, latest attempts and requirements, and propose corrections."""
    requirements = {rr.id: rr for rr in client.list_resource_requirements(workflow_id)}
    usages = diagnosis.job_usage(client.list_jobs(workflow_id), client.list_results(workflow_id), requirements)
    return corrections(usages, requirements)


def apply(client: Client, found: Iterable[Correction]) -> list[c.ResourceRequirements]:
    """Write the proposed values; returns the updated groups."""
    return [client.update_resource_requirements(fix.requirements.id,
                                                **{key: new for key, (_, new) in fix.changes.items()})
            for fix in found]  # fmt: skip
