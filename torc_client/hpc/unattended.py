"""Unattended allocations: reading a workflow's ready work and allocations, submitting allocations sized for
stranded jobs (`torc slurm regenerate`, `torc watch --auto-schedule`), and cancelling queued allocations
no remaining job can use.

The decisions are pure (`allocation_plan`); this module gathers their inputs through the
client and Slurm, and carries them out through the one Slurm module. Every decision that
changes something is recorded as an event of category `slurm`, with its reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from torc_client.client import Client
from torc_client.contract import Job, ResourceRequirements
from torc_client.core import allocations
from torc_client.core.errors import InvalidRequest
from torc_client.core.units import (
    format_walltime,
    parse_duration,
    parse_memory,
    parse_walltime,
)
from torc_client.hpc import actions as workflow_actions
from torc_client.hpc import generate as slurm_generate
from torc_client.hpc import profiles as hpc_profiles
from torc_client.hpc import slurm
from torc_client.hpc.allocation_plan import (
    Slot,
    Work,
    idle_queued,
    scheduler_cpus,
    scheduler_gpus,
)
from torc_client.spec import PlanResources

Say = Callable[[str], None]
#: Jobs that still have to run, besides those running: ready now, or later.
WAITING = ("ready", "blocked", "uninitialized")
#: Jobs read per request.
PAGE = 1000


def work(client: Client, workflow_id: int, statuses: tuple[str, ...] = WAITING,
         seen_ready: dict[int, float] | None = None) -> list[Work]:  # fmt: skip
    """The workflow's jobs in `statuses` with their resources (`seen_ready`: when each was first seen ready)."""
    return [job for page in pages(client, workflow_id, statuses, seen_ready) for job in page]


def pages(client: Client, workflow_id: int, statuses: tuple[str, ...] = WAITING,
          seen_ready: dict[int, float] | None = None) -> Iterator[list[Work]]:  # fmt: skip
    """`work`, a page at a time, so a caller that has seen enough stops reading."""
    rrs = {r.id: r for r in client.list_resource_requirements(workflow_id)}
    now = time.monotonic()
    for status in statuses:
        offset = 0
        while True:
            page = client.jobs_page(workflow_id, status=status, offset=offset, limit=PAGE)
            yield [_work(job, rrs.get(job.resource_requirements_id or -1), status == "ready",
                         now - (seen_ready or {}).get(job.id, now)) for job in page.items]  # fmt: skip
            offset += len(page.items)
            if not page.has_more or not page.items:
                break


def _work(job: Job, rr: ResourceRequirements | None, ready: bool, ready_for: float) -> Work:
    if rr is None:  # every job has its requirements (the `default` ones at least): a record without is taken to fit
        return Work(job.id, job.name, 0, 1, 0, 0, 1, 0.0, job.attempt_id, ready, ready_for)
    return Work(job.id, job.name, rr.id, rr.num_cpus, rr.memory_bytes, rr.num_gpus, rr.num_nodes, rr.runtime_s,
                job.attempt_id, ready, ready_for)  # fmt: skip


def slots(client: Client, workflow_id: int, buffer: float) -> list[Slot]:
    """The workflow's allocations that Slurm still queues or runs, with the time each has for jobs."""
    records = [a for a in client.list_scheduled_compute_nodes(workflow_id) if a.status in allocations.LIVE]
    states = slurm.states([a.slurm_job_id for a in records])
    schedulers = {s.id: s for s in client.list_slurm_schedulers(workflow_id)}
    found = []
    for record in records:
        state = states.get(record.slurm_job_id)
        scheduler = schedulers.get(record.scheduler_config_id)
        if state not in slurm.LIVE_STATES or scheduler is None:
            continue
        running = state != "PENDING"
        if running:
            end = slurm.end_time(record.slurm_job_id)
            seconds = None if end is None else max(end - time.time() - buffer, 0.0)
        else:
            seconds = max(parse_walltime(scheduler.walltime) - buffer, 0.0)
        found.append(Slot(record.slurm_job_id, running, seconds, scheduler_cpus(scheduler.extra),
                          parse_memory(scheduler.mem) if scheduler.mem else None,
                          scheduler_gpus(scheduler.gres), scheduler.nodes))  # fmt: skip
    return found + _runners_outside_slurm(client, workflow_id)


def _runners_outside_slurm(client: Client, workflow_id: int) -> list[Slot]:
    """Runners started by hand (`torc run` on a workstation or a node): they take jobs too, until their time limit."""
    found = []
    for node in client.list_compute_nodes(workflow_id, is_active=True):
        if node.scheduler_id:
            continue
        seconds = None
        if node.time_limit:
            started = datetime.fromisoformat(node.start_time.replace("Z", "+00:00")).timestamp()
            seconds = max(started + parse_duration(node.time_limit) - time.time(), 0.0)
        found.append(Slot(f"runner {node.id}", True, seconds, node.num_cpus, int(node.memory_gb * 2**30),
                          node.num_gpus, node.num_nodes))  # fmt: skip
    return found


def cancel_idle(client: Client, workflow_id: int, say: Say = print) -> list[str]:
    """`scancel` the workflow's queued allocations that no remaining job can use; returns their Slurm ids."""
    workflow = client.get_workflow(workflow_id)
    status = client.workflow_status(workflow_id)
    live = slots(client, workflow_id, workflow.compute_node_expiration_buffer_seconds)
    if not any(not s.running for s in live):
        return []
    finished = status.is_complete or status.is_canceled
    idle = idle_queued([], live, True) if finished else _idle(client, workflow_id, live)
    if not idle:
        return []
    # Still queued now? One that started meanwhile has a runner, which decides for itself.
    still = slurm.states([s.scheduler_id for s in idle])
    ids = [s.scheduler_id for s in idle if still.get(s.scheduler_id) == "PENDING"]
    if not ids:
        return []
    slurm.cancel(ids)
    records = {a.slurm_job_id: a for a in client.list_scheduled_compute_nodes(workflow_id)}
    for job_id in ids:
        client.update_scheduled_compute_node(records[job_id].id, allocations.AllocationStatus.COMPLETE)
    why = "no remaining job fits them"
    if finished:
        why = "the workflow is " + ("canceled" if status.is_canceled else "complete")
    message = f"cancelled queued Slurm allocation{'s' if len(ids) != 1 else ''} {', '.join(ids)}: {why}"
    client.add_event(workflow_id, message, category="slurm", allocations=ids, reason=why)
    say(message)
    return ids


def _idle(client: Client, workflow_id: int, live: list[Slot]) -> list[Slot]:
    """The queued allocations no waiting job fits, reading the jobs only until each has found one."""
    idle = idle_queued([], live, False)
    for page in pages(client, workflow_id):
        idle = idle_queued(page, idle, False)
        if not idle:
            break
    return idle


@dataclass
class Planned:
    """One scheduler to create and how many allocations of it, for which jobs."""

    name: str
    partition: str
    walltime: str
    nodes: int
    mem: str
    cpus: int
    allocations: int
    jobs: list[str] = field(default_factory=list)

    def row(self) -> dict:
        """The plan as a table row."""
        return {"scheduler": self.name, "partition": self.partition, "allocations": self.allocations,
                "nodes": self.nodes, "walltime": self.walltime, "jobs": len(self.jobs),
                "job_names": ", ".join(self.jobs[:6]) + (" ..." if len(self.jobs) > 6 else "")}  # fmt: skip


def plan_for(client: Client, workflow_id: int, jobs: list[Work], profile: hpc_profiles.Profile,
             multiplier: float = slurm_generate.WALLTIME_FACTOR) -> list[Planned]:  # fmt: skip
    """Allocations sized for `jobs`: per resource requirement, the partition that fits it, as `slurm generate`."""
    rrs = {r.id: r for r in client.list_resource_requirements(workflow_id)}
    taken = {s.name for s in client.list_slurm_schedulers(workflow_id)}
    buffer = client.get_workflow(workflow_id).compute_node_expiration_buffer_seconds
    groups: dict[int, list[Work]] = {}
    for job in jobs:
        groups.setdefault(job.rr_id, []).append(job)
    planned = []
    for rr_id, members in sorted(groups.items()):
        rr = rrs[rr_id]
        needs = PlanResources(rr.name, rr.num_cpus, rr.num_gpus, rr.num_nodes, rr.memory, rr.memory_bytes,
                              rr.runtime, rr.runtime_s)  # fmt: skip
        partition = slurm_generate.choose_partition(needs, profile)
        walltime = slurm_generate.walltime_for(needs, partition, multiplier=multiplier, buffer=buffer)
        per_node = slurm_generate.jobs_per_node(needs, partition)
        runs = slurm_generate.runs_per_walltime(needs, walltime, buffer)
        name = _free_name(f"regen_{rr.name}_{partition.name}", taken)
        planned.append(Planned(name, partition.name, format_walltime(walltime), rr.num_nodes,
                               f"{partition.memory_mb}M", partition.cpus_per_node,
                               math.ceil(len(members) / (per_node * runs)), [j.name for j in members]))  # fmt: skip
    return planned


def submit_planned(client: Client, workflow_id: int, planned: list[Planned], account: str, output_dir: Path,
                   reason: str, say: Say = print, submit: bool = True) -> list[str]:  # fmt: skip
    """Create each planned scheduler and (with `submit`) submit its allocations; one event with the reason."""
    ids = []
    for plan in planned:
        scheduler = client.create_slurm_scheduler(workflow_id, plan.name, account, partition=plan.partition,
                                                  nodes=plan.nodes, walltime=plan.walltime, mem=plan.mem,
                                                  extra=f"--cpus-per-task={plan.cpus}")  # fmt: skip
        if not submit:
            say(f"created Slurm scheduler {scheduler.id} ({plan.name}): submit it with `torc slurm schedule-nodes "
                f"{workflow_id} -s {scheduler.id} -n {plan.allocations}`")  # fmt: skip
            continue
        ids += workflow_actions.schedule_nodes(client, workflow_id, {"scheduler_id": scheduler.id,
                                                                     "num_allocations": plan.allocations}, output_dir)
    if ids:
        message = f"submitted Slurm allocation{'s' if len(ids) != 1 else ''} {', '.join(ids)}: {reason}"
        client.add_event(workflow_id, message, category="slurm", allocations=ids, reason=reason)
        say(message)
    return ids


def account_for(client: Client, workflow_id: int, account: str | None, profile: hpc_profiles.Profile) -> str:
    """The account to charge: given, else the workflow's schedulers', else the profile's default."""
    if account:
        return account
    for scheduler in client.list_slurm_schedulers(workflow_id):
        return scheduler.account
    if profile.default_account:
        return profile.default_account
    raise InvalidRequest(f"workflow {workflow_id} has no Slurm scheduler to take an account from and profile "
                         f"{profile.name} has no default_account: give --account")  # fmt: skip


def _free_name(stem: str, taken: set[str]) -> str:
    n = 1
    while f"{stem}_{n}" in taken:
        n += 1
    taken.add(f"{stem}_{n}")
    return f"{stem}_{n}"
