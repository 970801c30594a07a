"""`torc slurm generate`: Slurm schedulers and stage-aware actions for a spec that has none (pure).

For each resource requirement, the partition of the HPC profile that fits its jobs
(CPUs, memory and GPUs per node, and a walltime of `WALLTIME_FACTOR` x the runtime) with
the shortest walltime limit is chosen; each allocation asks for a whole node of it. Jobs
are staged by dependency depth: the jobs with no upstream job get `on_workflow_start`
actions, the jobs of each later depth an `on_jobs_ready` action that fires when they are
all ready. Each stage gets as many allocations (one node each) as its jobs need to run
in one walltime: `ceil(jobs / (jobs per node x runs per walltime))`. The walltime is the
runtime x the multiplier plus the workflow's end buffer, which runners keep free.

`Shaping` carries Torc's flags: schedulers grouped by partition (the default) or by
resource requirement, one allocation of N nodes per stage instead of N of one node,
and the walltime strategy. `generate_with_plan` also returns the plan `--dry-run` prints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from torc_client.core.errors import SpecError
from torc_client.core.triggers import Trigger
from torc_client.core.units import format_walltime
from torc_client.hpc.profiles import Partition, Profile
from torc_client.spec import PlanResources, WorkflowPlan

WALLTIME_FACTOR = 1.5
MIN_WALLTIME_SECONDS = 60
MB = 1_000_000


#: `--group-by`: one scheduler per partition (Torc's default since its #296), or per resource requirement.
GROUP_BY = ("partition", "resource-requirements")
#: `--walltime-strategy`: the longest job's runtime x the multiplier (capped by the partition), or the partition's limit.
WALLTIME_STRATEGIES = ("max-job-runtime", "max-partition-time")


@dataclass(frozen=True)
class Shaping:
    """How `slurm generate` shapes allocations (Torc's flags)."""

    group_by: str = "partition"
    single_allocation: bool = False
    walltime_strategy: str = "max-job-runtime"
    walltime_multiplier: float = WALLTIME_FACTOR


def generate(doc: dict[str, Any], plan: WorkflowPlan, profile: Profile, account: str,
             shaping: Shaping = Shaping()) -> dict[str, Any]:  # fmt: skip
    """`doc` with `slurm_schedulers` and `actions` that run its jobs on `profile`'s partitions."""
    return generate_with_plan(doc, plan, profile, account, shaping)[0]


def generate_with_plan(doc: dict[str, Any], plan: WorkflowPlan, profile: Profile, account: str,
                       shaping: Shaping = Shaping()) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    """`generate`, and its plan: one row per allocation request (scheduler, trigger, allocations, nodes, walltime,
    and the jobs it is for)."""
    if doc.get("slurm_schedulers") or any(a.get("action_type") == "schedule_nodes" for a in doc.get("actions", [])):
        raise SpecError("slurm_schedulers", "the spec already has Slurm schedulers or schedule_nodes actions; "
                                            "`slurm generate` writes them: remove them first")  # fmt: skip
    depth = _depths(plan.graph())
    used = {job.resource_requirements for job in plan.jobs}
    buffer = float(plan.settings.get("compute_node_expiration_buffer_seconds", 0))
    groups: dict[str, dict[str, Any]] = {}  # scheduler name -> partition, walltime, nodes, {depth: (share, jobs)}
    for rr in plan.resource_requirements:
        if rr.name not in used:
            continue
        partition = choose_partition(rr, profile)
        walltime = walltime_for(rr, partition, shaping.walltime_strategy, shaping.walltime_multiplier, buffer)
        share = 1 / (jobs_per_node(rr, partition) * runs_per_walltime(rr, walltime, buffer))
        name = partition.name if shaping.group_by == "partition" else f"{rr.name}_{partition.name}"
        group = groups.setdefault(name, {"partition": partition, "walltime": 0.0, "nodes": rr.num_nodes, "stages": {}})
        group["walltime"] = max(group["walltime"], walltime)
        group["nodes"] = max(group["nodes"], rr.num_nodes)
        for job in plan.jobs:
            if job.resource_requirements == rr.name:
                stage = group["stages"].setdefault(depth[job.name], [0.0, []])
                stage[0] += share
                stage[1].append(job.name)
    schedulers, actions, rows = [], [], []
    for name, group in groups.items():
        partition = group["partition"]
        counts = {level: math.ceil(round(share, 9)) for level, (share, _) in group["stages"].items()}
        nodes = group["nodes"] * (max(counts.values()) if shaping.single_allocation else 1)
        schedulers.append({"name": name, "account": account, "partition": partition.name, "nodes": nodes,
                           "walltime": format_walltime(group["walltime"]), "mem": f"{partition.memory_mb}M",
                           "extra": f"--cpus-per-task={partition.cpus_per_node}"})  # fmt: skip
        for level, (_, names) in sorted(group["stages"].items()):
            trigger = Trigger.ON_WORKFLOW_START if level == 0 else Trigger.ON_JOBS_READY
            action: dict[str, Any] = {"trigger_type": trigger.value,
                                      "action_type": "schedule_nodes", "scheduler": name, "scheduler_type": "slurm",
                                      "num_allocations": 1 if shaping.single_allocation else counts[level]}  # fmt: skip
            if shaping.single_allocation and nodes > 1:
                action["start_one_worker_per_node"] = True
            if level:
                action["jobs"] = names
            actions.append(action)
            rows.append({"scheduler": name, "partition": partition.name, "trigger": action["trigger_type"],
                         "allocations": action["num_allocations"], "nodes": nodes,
                         "walltime": schedulers[-1]["walltime"], "jobs": len(names),
                         "job_names": ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")})  # fmt: skip
    return {**doc, "slurm_schedulers": schedulers, "actions": list(doc.get("actions", [])) + actions}, rows


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


def walltime_for(rr: PlanResources, partition: Partition, strategy: str = "max-job-runtime",
                 multiplier: float = WALLTIME_FACTOR, buffer: float = 0.0) -> float:  # fmt: skip
    """An allocation's walltime for jobs of `rr` on `partition` (at least a minute, at most the partition's limit).

    With max-job-runtime: the runtime x `multiplier`, plus the workflow's end `buffer`, which the
    runners keep free at the end (a runner claims only jobs that fit the time before it).
    """
    if strategy == "max-partition-time":
        return float(partition.max_walltime_secs)
    return min(max(rr.runtime_s * multiplier + buffer, MIN_WALLTIME_SECONDS), partition.max_walltime_secs)


def runs_per_walltime(rr: PlanResources, walltime: float, buffer: float) -> int:
    """How many jobs of `rr` run one after another in an allocation's walltime, less the end buffer (at least one)."""
    return max(1, int((walltime - buffer) // max(rr.runtime_s, 1)))


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
