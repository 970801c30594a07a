"""`torc slurm generate`: Slurm schedulers and stage-aware actions for a spec that has none (pure).

For each resource requirement, the partition of the HPC profile that fits its jobs
(CPUs, memory and GPUs per node, and a walltime of `WALLTIME_FACTOR` x the runtime) with
the shortest walltime limit is chosen; each allocation asks for a whole node of it. Jobs
are staged by dependency depth: the jobs with no upstream job get `on_workflow_start`
actions, the jobs of each later depth an `on_jobs_ready` action that fires when they are
all ready. Each stage gets as many allocations (one node each) as its jobs need to run
in one walltime: `ceil(jobs / (jobs per node x runs per walltime))`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from torc_client.core.errors import SpecError
from torc_client.core.triggers import Trigger
from torc_client.core.units import format_walltime
from torc_client.hpc.profiles import Partition, Profile
from torc_client.spec import PlanResources, WorkflowPlan

WALLTIME_FACTOR = 1.5
MIN_WALLTIME_SECONDS = 60
MB = 1_000_000


def generate(doc: dict[str, Any], plan: WorkflowPlan, profile: Profile, account: str) -> dict[str, Any]:
    """`doc` with `slurm_schedulers` and `actions` that run its jobs on `profile`'s partitions."""
    if doc.get("slurm_schedulers") or any(a.get("action_type") == "schedule_nodes" for a in doc.get("actions", [])):
        raise SpecError("slurm_schedulers", "the spec already has Slurm schedulers or schedule_nodes actions; "
                                            "`slurm generate` writes them: remove them first")  # fmt: skip
    depth = _depths(plan.graph())
    used = {job.resource_requirements for job in plan.jobs}
    schedulers, actions = [], []
    for rr in plan.resource_requirements:
        if rr.name not in used:
            continue
        partition = choose_partition(rr, profile)
        walltime = _walltime(rr, partition)
        per_node = jobs_per_node(rr, partition)
        runs = max(1, int(walltime // max(rr.runtime_s, 1)))
        name = f"{rr.name}_{partition.name}"
        schedulers.append({"name": name, "account": account, "partition": partition.name, "nodes": rr.num_nodes,
                           "walltime": format_walltime(walltime), "mem": f"{partition.memory_mb}M",
                           "extra": f"--cpus-per-task={partition.cpus_per_node}"})  # fmt: skip
        by_depth: dict[int, list[str]] = {}
        for job in plan.jobs:
            if job.resource_requirements == rr.name:
                by_depth.setdefault(depth[job.name], []).append(job.name)
        for level, names in sorted(by_depth.items()):
            action: dict[str, Any] = {"trigger_type": Trigger.ON_WORKFLOW_START if level == 0 else Trigger.ON_JOBS_READY,
                                      "action_type": "schedule_nodes", "scheduler": name, "scheduler_type": "slurm",
                                      "num_allocations": math.ceil(len(names) / (per_node * runs))}  # fmt: skip
            if level:
                action["jobs"] = names
            actions.append(action)
    return {**doc, "slurm_schedulers": schedulers, "actions": list(doc.get("actions", [])) + actions}


def choose_partition(rr: PlanResources, profile: Profile) -> Partition:
    """The partition with the shortest walltime limit that fits a job of `rr` (never one needing explicit request)."""
    wanted = max(rr.runtime_s * WALLTIME_FACTOR, MIN_WALLTIME_SECONDS)
    fits = [p for p in profile.partitions if not p.requires_explicit_request and _fits(rr, p)
            and p.max_walltime_secs >= rr.runtime_s]  # fmt: skip
    if not fits:
        raise SpecError(f"resource_requirements.{rr.name}", f"no partition of HPC profile {profile.name} fits "
                        f"{rr.num_cpus} CPUs, {rr.memory}, {rr.num_gpus} GPUs for {rr.runtime}; partitions: "
                        + ", ".join(f"{p.name} ({p.cpus_per_node} CPUs, {p.memory_mb} MB, {p.gpus_per_node} GPUs, "
                                    f"{format_walltime(p.max_walltime_secs)})" for p in profile.partitions))
    return min(fits, key=lambda p: (p.max_walltime_secs < wanted, p.max_walltime_secs, p.gpus_per_node,
                                    p.memory_mb, p.cpus_per_node))  # fmt: skip


def jobs_per_node(rr: PlanResources, partition: Partition) -> int:
    limits = [partition.cpus_per_node // max(rr.num_cpus, 1), partition.memory_mb * MB // max(rr.memory_bytes, 1)]
    if rr.num_gpus:
        limits.append(partition.gpus_per_node // rr.num_gpus)
    return max(1, min(limits))


def _fits(rr: PlanResources, partition: Partition) -> bool:
    return (rr.num_cpus <= partition.cpus_per_node and rr.memory_bytes <= partition.memory_mb * MB
            and rr.num_gpus <= partition.gpus_per_node)  # fmt: skip


def _walltime(rr: PlanResources, partition: Partition) -> float:
    return min(max(rr.runtime_s * WALLTIME_FACTOR, MIN_WALLTIME_SECONDS), partition.max_walltime_secs)


def _depths(upstream: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Each job's dependency depth: 0 with no upstream job, else one more than its deepest upstream job."""
    depth: dict[str, int] = {}
    for name in upstream:
        stack = [name]
        while stack:
            current = stack[-1]
            pending = [u for u in upstream.get(current, ()) if u not in depth]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            depth[current] = 1 + max((depth[u] for u in upstream.get(current, ())), default=-1)
    return depth
