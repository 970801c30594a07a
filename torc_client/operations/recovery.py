"""Recovery: from jobs that ran out of memory or time to a rerun with the resources they lacked.

`torc recover`, `torc watch --recover` and the notebook's Recover button share this module:

1. `diagnose` reads the failed and terminated jobs with their latest attempts and requirements,
   and `plan_recovery` decides (pure) what each gets: a job that ran out of memory gets new
   requirements with its memory raised by a factor, one that ran out of time its runtime. New
   requirements are made for just those jobs (`{group}_oom1`, `{group}_timeout1`, ...), so the
   jobs that fit their group keep it.
2. `apply` creates those requirements, moves the jobs onto them, and reinitialises the
   workflow, which reruns every job that did not complete and the jobs downstream of them. If
   the workflow ran in Slurm allocations, it then submits allocations that fit the new
   requirements.

A job that failed for another reason (an error in its command) is not retried unless asked
(`retry_unknown`): rerunning it as it is would fail again. Recovery needs a finished
workflow with no runner still attached, as in Torc.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torc_client import contract as c
from torc_client.analysis import diagnosis
from torc_client.analysis.diagnosis import Failure, JobUsage
from torc_client.client import Client
from torc_client.core.allocations import AllocationStatus
from torc_client.core.errors import ConflictError, TorcError
from torc_client.core.triggers import Trigger
from torc_client.core.units import (
    count,
    format_duration,
    format_memory,
    format_walltime,
    parse_duration,
    parse_memory,
    parse_walltime,
)
from torc_client.hpc import actions as workflow_actions
from torc_client.operations import recovery_hook

#: Torc's factors: memory x 1.5 after an out-of-memory kill; runtime x 1.4 (`recover`) or 1.5 (`watch`).
MEMORY_MULTIPLIER = 1.5
RUNTIME_MULTIPLIER = 1.4
WATCH_RUNTIME_MULTIPLIER = 1.5
MIB = 1 << 20
#: The job statuses recovery looks at; canceled jobs downstream of them rerun with them.
FAILED_STATUSES = ("failed", "terminated")
#: New Slurm allocations get this much more walltime than the longest new runtime they must fit.
WALLTIME_HEADROOM = 1.1
#: The suffix an earlier recovery gave a group's name: the next round counts on from it (`big_oom2`, not `big_oom1_oom1`).
_ROUND_SUFFIX = re.compile(r"_(oom|timeout)\d+$")


class RecoveryError(TorcError):
    """Recovery cannot start (the workflow still runs, or nothing can be recovered): the message says why."""

    status_code = 409
    title = "Cannot recover"


@dataclass(frozen=True)
class Raise:
    """New requirements for the jobs of one group that failed one way: a copy of the group, one resource raised."""

    based_on: c.ResourceRequirements
    failure: Failure
    name: str
    memory: str
    runtime: str
    job_ids: tuple[int, ...]
    job_names: tuple[str, ...]

    @property
    def change(self) -> str:
        """The change in words: `memory 100m -> 150m` or `runtime PT1M -> PT1M24S`."""
        if self.failure == "oom":
            return f"memory {self.based_on.memory} -> {self.memory}"
        return f"runtime {self.based_on.runtime} -> {self.runtime}"

    def fields(self) -> dict[str, Any]:
        """The new requirements' fields, as `Client.create_resource_requirements` takes them."""
        old = self.based_on
        return {"num_cpus": old.num_cpus, "num_gpus": old.num_gpus, "num_nodes": old.num_nodes,
                "memory": self.memory, "runtime": self.runtime}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "based_on": self.based_on.name, "based_on_id": self.based_on.id,
                "failure": self.failure, "change": self.change, **self.fields(), "job_ids": list(self.job_ids),
                "job_names": list(self.job_names)}  # fmt: skip


@dataclass(frozen=True)
class RecoveryPlan:
    """What recovery would do to a workflow, and what it leaves alone."""

    workflow_id: int
    #: Failed jobs whose cause is out of memory or time: they get new requirements.
    resized: tuple[JobUsage, ...]
    #: Failed jobs whose cause is something else: rerun as they are only with `retry_unknown`.
    unknown: tuple[JobUsage, ...]
    raises: tuple[Raise, ...]
    retry_unknown: bool
    #: Canceled jobs (downstream of the failures) that rerun with them.
    canceled: int = 0
    #: The workflow ran in Slurm allocations: recovery submits new ones.
    slurm: bool = False
    memory_multiplier: float = MEMORY_MULTIPLIER
    runtime_multiplier: float = RUNTIME_MULTIPLIER
    #: A command run before the rerun when jobs failed for another reason (`--recovery-hook`); they then rerun.
    recovery_hook: str | None = None

    @property
    def retries_unknown(self) -> bool:
        """Jobs that failed for another reason rerun: asked for, or a hook fixes them first."""
        return self.retry_unknown or self.recovery_hook is not None

    @property
    def problem(self) -> str | None:
        """Why recovery cannot go ahead (None: it can)."""
        if not self.resized and not self.unknown:
            return f"workflow {self.workflow_id} has no failed or terminated jobs: nothing to recover"
        if self.unknown and not self.retries_unknown:
            names = ", ".join(u.job_name for u in self.unknown[:5]) + (", ..." if len(self.unknown) > 5 else "")
            return (f"{count(len(self.unknown), 'job')} failed for a reason other than memory or time ({names}): "
                    "rerunning as they are would likely fail again; look at their logs (`torc logs analyze "
                    f"{self.workflow_id}`), then rerun them with `--retry-unknown`, give a `--recovery-hook` that "
                    "fixes them, or fix them and run "
                    f"`torc workflows reinitialize {self.workflow_id}`")  # fmt: skip
        return None

    def describe(self) -> list[str]:
        """The plan in a few lines of words."""
        lines = [f"{raised.name}: {raised.change} for {count(len(raised.job_ids), 'job')} ({_names(raised.job_names)})"
                 for raised in self.raises]  # fmt: skip
        if self.unknown:
            verb = ("rerun after the recovery hook" if self.recovery_hook else
                    "rerun as they are" if self.retry_unknown else "not retried")  # fmt: skip
            lines.append(f"{count(len(self.unknown), 'job')} that failed for another reason: {verb} "
                         f"({_names([u.job_name for u in self.unknown])})")  # fmt: skip
        if self.canceled:
            lines.append(f"{count(self.canceled, 'canceled job')} downstream rerun with them")
        if self.slurm and self.problem is None:
            lines.append("new Slurm allocations are submitted for the rerun")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"workflow_id": self.workflow_id, "can_recover": self.problem is None, "problem": self.problem,
                "memory_multiplier": self.memory_multiplier, "runtime_multiplier": self.runtime_multiplier,
                "retry_unknown": self.retry_unknown, "recovery_hook": self.recovery_hook, "slurm": self.slurm,
                "canceled": self.canceled,
                "raises": [r.to_dict() for r in self.raises],
                "jobs": [{**u.to_dict(), "retried": u.failure != "other" or self.retries_unknown}
                         for u in (*self.resized, *self.unknown)]}  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What `apply` did."""

    plan: RecoveryPlan
    #: The ids of the requirements created, by name.
    created: dict[str, int] = field(default_factory=dict)
    rerun: int = 0
    #: Slurm job ids of the allocations submitted.
    allocations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**self.plan.to_dict(), "created": self.created, "jobs_rerun": self.rerun,
                "allocations": list(self.allocations)}  # fmt: skip


def plan_recovery(workflow_id: int, failed: Iterable[JobUsage], requirements: Mapping[int, c.ResourceRequirements],
                  *, memory_multiplier: float = MEMORY_MULTIPLIER, runtime_multiplier: float = RUNTIME_MULTIPLIER,
                  retry_unknown: bool = False, canceled: int = 0, slurm: bool = False,
                  recovery_hook: str | None = None) -> RecoveryPlan:  # fmt: skip
    """What recovery does with these failed jobs (each with its latest attempt): pure.

    Memory becomes the larger of the request and the attempt's peak, times `memory_multiplier`
    (rounded up to a MiB); runtime becomes the request times `runtime_multiplier` (whole seconds).
    """
    if memory_multiplier <= 1 or runtime_multiplier <= 1:
        raise ValueError("the multipliers must be greater than 1, or the rerun would fail the same way")
    failed = list(failed)
    resized = [u for u in failed if u.failure in ("oom", "timeout") and u.requirements_id in requirements]
    unknown = [u for u in failed if u not in resized]
    taken = {rr.name for rr in requirements.values()}
    groups: dict[tuple[int, Failure], list[JobUsage]] = {}
    for usage in resized:
        groups.setdefault((usage.requirements_id, usage.failure), []).append(usage)  # type: ignore[arg-type]
    raises = []
    for (rr_id, failure), members in groups.items():
        old = requirements[rr_id]
        memory, runtime = old.memory, old.runtime
        if failure == "oom":
            peak = max([old.memory_bytes, *(u.peak_memory_bytes or 0 for u in members)])
            memory = format_memory(math.ceil(peak * memory_multiplier / MIB) * MIB)
        else:
            runtime = format_duration(math.ceil(old.runtime_s * runtime_multiplier))
        name = _fresh_name(f"{_ROUND_SUFFIX.sub('', old.name)}_{failure}", taken)
        taken.add(name)
        raises.append(Raise(old, failure, name, memory, runtime, tuple(u.job_id for u in members),
                            tuple(u.job_name for u in members)))  # fmt: skip
    return RecoveryPlan(workflow_id, tuple(resized), tuple(unknown), tuple(raises), retry_unknown, canceled, slurm,
                        memory_multiplier, runtime_multiplier, recovery_hook)  # fmt: skip


def diagnose(client: Client, workflow_id: int, *, memory_multiplier: float = MEMORY_MULTIPLIER,
             runtime_multiplier: float = RUNTIME_MULTIPLIER, retry_unknown: bool = False,
             recovery_hook: str | None = None) -> RecoveryPlan:  # fmt: skip
    """Read a finished workflow's failures and plan their recovery; raises RecoveryError while it still runs."""
    allocations = check_finished(client, workflow_id)
    failed_jobs = [job for status in FAILED_STATUSES for job in client.list_jobs(workflow_id, status=status)]
    requirements = {rr.id: rr for rr in client.list_resource_requirements(workflow_id)}
    results = diagnosis.latest_results(client.list_results(workflow_id)) if failed_jobs else {}
    failed = [_usage(job, results.get(job.id), requirements) for job in failed_jobs]
    canceled = client.jobs_page(workflow_id, status="canceled", limit=1).total_count
    return plan_recovery(workflow_id, failed, requirements, memory_multiplier=memory_multiplier,
                         runtime_multiplier=runtime_multiplier, retry_unknown=retry_unknown, canceled=canceled,
                         slurm=bool(allocations), recovery_hook=recovery_hook)  # fmt: skip


def check_finished(client: Client, workflow_id: int) -> list[Any]:
    """Recovery needs a finished workflow and no runner still attached to it (Torc's preconditions).

    Returns the workflow's Slurm allocations (none: it did not run under Slurm).
    """
    status = client.workflow_status(workflow_id)
    if not status.is_initialized:
        raise RecoveryError(f"workflow {workflow_id} has not run yet: nothing to recover")
    if not status.is_complete:
        raise RecoveryError(f"workflow {workflow_id} is still running ({_counts(status.job_counts)}): wait for it "
                            f"to finish, or cancel it with `torc cancel {workflow_id}`")  # fmt: skip
    active = client.list_compute_nodes(workflow_id, is_active=True)
    if active:
        raise RecoveryError(f"workflow {workflow_id} still has {count(len(active), 'runner')} attached "
                            f"({', '.join(n.hostname for n in active[:3])}): wait for them to exit")  # fmt: skip
    allocations = client.list_scheduled_compute_nodes(workflow_id)
    pending = [a for a in allocations if a.status == AllocationStatus.PENDING]
    if pending:
        raise RecoveryError(f"workflow {workflow_id} has {count(len(pending), 'Slurm allocation')} still queued: "
                            "wait for them to start, or cancel them")  # fmt: skip
    return allocations


def wait_for_runners(client: Client, workflow_id: int, timeout: float, interval: float = 0.5) -> bool:
    """Wait until no runner is attached to a finished workflow (they exit, or lose their lease); False on timeout."""
    deadline = time.monotonic() + timeout
    while client.list_compute_nodes(workflow_id, is_active=True):
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def apply(client: Client, plan: RecoveryPlan, *, output_dir: Path | str = "output", submit: bool = True,
          enforce_memory: bool = False, say: Callable[[str], None] = lambda line: None) -> Outcome:  # fmt: skip
    """Carry out a plan: new requirements, jobs moved onto them, the recovery hook (if jobs failed for another
    reason), a rerun, and Slurm allocations if it ran there. `say` gets each line the hook prints."""
    if plan.problem is not None:
        raise RecoveryError(plan.problem)
    created: dict[str, int] = {}
    for raised in plan.raises:
        rr = client.create_resource_requirements(plan.workflow_id, raised.name, **raised.fields())
        created[raised.name] = rr.id
        for job_id in raised.job_ids:
            client.update_job(job_id, resource_requirements_id=rr.id)
    if plan.unknown and plan.recovery_hook:
        recovery_hook.run(plan.recovery_hook, plan.workflow_id, say)
    result = client.reinitialize_workflow(plan.workflow_id)
    client.add_event(plan.workflow_id, "recovery: " + "; ".join(plan.describe()), category="recovery",
                     raises=[r.to_dict() for r in plan.raises])  # fmt: skip
    allocations: tuple[str, ...] = ()
    if plan.slurm and submit:
        _consume_start_actions(client, plan.workflow_id)
        allocations = tuple(submit_allocations(client, plan, Path(output_dir), enforce_memory=enforce_memory))
    return Outcome(plan, created, len(result.jobs), allocations)


def recover(client: Client, workflow_id: int, *, dry_run: bool = False, output_dir: Path | str = "output",
            submit: bool = True, enforce_memory: bool = False, **options: Any) -> Outcome:  # fmt: skip
    """Diagnose and (unless `dry_run`) apply: the whole of `torc recover`. `options` go to `diagnose`."""
    plan = diagnose(client, workflow_id, **options)
    if dry_run:
        return Outcome(plan)
    return apply(client, plan, output_dir=output_dir, submit=submit, enforce_memory=enforce_memory)


def submit_allocations(client: Client, plan: RecoveryPlan, output_dir: Path, *,
                       enforce_memory: bool = False) -> list[str]:  # fmt: skip
    """One Slurm allocation per recovered group, shaped like the workflow's scheduler with memory and walltime raised.

    Jobs rerun as they are (`retry_unknown`) get one allocation of the scheduler they used.
    """
    schedulers = client.list_slurm_schedulers(plan.workflow_id)
    if not schedulers:
        return []
    by_name = {s.name: s for s in schedulers}
    jobs = {job.id: job for job in client.list_jobs(plan.workflow_id)} if len(schedulers) > 1 else {}
    ids: list[str] = []
    taken = set(by_name)
    for raised in plan.raises:
        base = _scheduler_of(raised.job_ids, jobs, by_name, schedulers)
        shape = _raised_scheduler(base, raised)
        name = _fresh_name(f"{base.name}_{raised.failure}", taken)
        taken.add(name)
        scheduler = client.create_slurm_scheduler(plan.workflow_id, name, base.account, **shape)
        ids += workflow_actions.schedule_nodes(client, plan.workflow_id, {
            "scheduler_id": scheduler.id, "num_allocations": 1, "enforce_memory": enforce_memory}, output_dir)  # fmt: skip
    if plan.unknown and plan.retries_unknown:
        base = _scheduler_of([u.job_id for u in plan.unknown], jobs, by_name, schedulers)
        ids += workflow_actions.schedule_nodes(client, plan.workflow_id, {
            "scheduler_id": base.id, "num_allocations": 1, "enforce_memory": enforce_memory}, output_dir)  # fmt: skip
    return ids


def _consume_start_actions(client: Client, workflow_id: int) -> None:
    """Take the start-of-workflow allocations that reinitialising made pending again: recovery submits its own.

    Left pending, the first runner of a recovery allocation would submit them too, shaped for the old requests.
    """
    for action in client.list_actions(workflow_id, pending=True):
        if action.trigger_type == Trigger.ON_WORKFLOW_START and action.action_type == "schedule_nodes":
            try:
                client.claim_action(action.id)
            except ConflictError:  # taken meanwhile: by definition no longer pending
                pass


def _raised_scheduler(base: Any, raised: Raise) -> dict[str, Any]:
    """The fields of a scheduler like `base` whose allocation fits one job of the raised requirements."""
    fields = {f: getattr(base, f) for f in ("partition", "nodes", "walltime", "mem", "gres", "qos", "tmp",
                                            "ntasks_per_node", "extra")}  # fmt: skip
    needed = math.ceil(parse_duration(raised.runtime) * WALLTIME_HEADROOM)
    if parse_walltime(base.walltime) < needed:
        fields["walltime"] = format_walltime(needed)
    if base.mem is not None:
        fields["mem"] = _max_memory(base.mem, raised.memory)
    return fields


def _max_memory(slurm_mem: str, memory: str) -> str:
    try:
        return slurm_mem if parse_memory(slurm_mem) >= parse_memory(memory) else memory
    except ValueError:
        return slurm_mem


def _scheduler_of(job_ids: Iterable[int], jobs: Mapping[int, c.Job], by_name: Mapping[str, Any],
                  schedulers: list[Any]) -> Any:  # fmt: skip
    """The scheduler the spec named for these jobs, else the workflow's first."""
    for job_id in job_ids:
        job = jobs.get(job_id)
        if job is not None and job.scheduler in by_name:
            return by_name[job.scheduler]
    return schedulers[0]


def _usage(job: c.Job, result: c.Result | None, requirements: Mapping[int, c.ResourceRequirements]) -> JobUsage:
    rr = requirements.get(job.resource_requirements_id or -1)
    if result is not None:
        return diagnosis.usage_of(job, result, rr)
    # Failed without an attempt on record (say, its runners kept dying): its cause is unknown.
    return JobUsage(job_id=job.id, job_name=job.name, status=job.status, requirements_id=rr.id if rr else None,
                    requirements_name=rr.name if rr else "", requested_cpus=rr.num_cpus if rr else 1,
                    requested_memory_bytes=diagnosis.requested_memory_bytes(rr),
                    requested_runtime_seconds=diagnosis.requested_runtime_seconds(rr), return_code=-1,
                    exec_seconds=0.0, peak_cpu_percent=None, avg_cpu_percent=None, peak_memory_bytes=None,
                    avg_memory_bytes=None, failure="other")  # fmt: skip


def _fresh_name(stem: str, taken: set[str]) -> str:
    n = 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def _names(names: Iterable[str], limit: int = 5) -> str:
    names = list(names)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no jobs"
