"""Dependency answers in words and stages, with no I/O: shared by the API, `torc jobs why` and `execution-plan`.

`stages(...)` turns the levels of `graph.topological_levels` into execution-plan stages, for a spec
(jobs keyed by name) and for a stored workflow (keyed by id) alike. `verdict(why)` says in one line what
a job waits for; `root_note(status)` what an unfinished, unblocked upstream job means for the jobs behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import msgspec

from torc_client.contract import (
    ExecutionPlan,
    JobRef,
    JobWhy,
    MissingInput,
    PlanStage,
    RootCause,
    StageResources,
)
from torc_client.core import states
from torc_client.core.units import count
from torc_client.spec import WorkflowPlan

S = states.JobStatus

#: Names listed per stage and per answer unless the caller asks for another number.
NAMES_PER_STAGE = 10
#: Stages listed in a plan (all are counted): a chain of a million jobs has a million stages.
MAX_STAGES = 1000
#: Jobs, roots and inputs named in a one-line verdict.
IN_VERDICT = 3

_ROOT_NOTES = {
    S.READY.value: "ready: waits for a runner with enough free resources",
    S.PENDING.value: "claimed by a runner, about to start",
    S.RUNNING.value: "running: the jobs behind it wait until it ends",
    S.BLOCKED.value: "blocked, but waits for nothing any more: it becomes ready at once",
    S.UNINITIALIZED.value: "waits for the workflow to be initialised",
    S.PENDING_FAILED.value: "failed, awaiting a decision: retried or failed for good (`torc recover`)",
    S.FAILED.value: "failed: the jobs waiting on it are canceled unless they set cancel_on_blocking_job_failure: "
    "false; run it again with `torc workflows reinitialize`",
    S.TERMINATED.value: "terminated: the jobs waiting on it are canceled unless they set "
    "cancel_on_blocking_job_failure: false",
    S.CANCELED.value: "canceled: the jobs waiting on it are canceled too unless they set "
    "cancel_on_blocking_job_failure: false",
}


def root_note(status: str) -> str:
    """What an unfinished, unblocked upstream job in `status` means for the jobs waiting on it."""
    return _ROOT_NOTES.get(status, status)


def stages(levels: Sequence[Sequence[Hashable]], group_of: Callable[[Hashable], Hashable],
           requirements: Mapping[Hashable, StageResources], names: Mapping[Hashable, str], shown: int,
           status_of: Callable[[Hashable], str] | None = None, with_ids: bool = False) -> list[PlanStage]:  # fmt: skip
    """One PlanStage per level (the first `MAX_STAGES`): its size, its first `shown` jobs by name (from `names`), its
    jobs per status (with `status_of`) and its jobs per resource requirements (`group_of(job)` keys `requirements`)."""
    found = []
    for number, level in enumerate(levels[:MAX_STAGES], start=1):
        by_group: dict[Hashable, int] = {}
        counts: dict[str, int] = {}
        for job in level:
            group = group_of(job)
            by_group[group] = by_group.get(group, 0) + 1
            if status_of is not None:
                status = status_of(job)
                counts[status] = counts.get(status, 0) + 1
        first = list(level[:shown])
        found.append(PlanStage(
            stage=number, num_jobs=len(level), job_names=[names[job] for job in first],
            job_ids=[int(job) for job in first] if with_ids else [], job_counts=counts,
            resource_requirements=[msgspec.structs.replace(requirements[g], num_jobs=n) for g, n in by_group.items()],
        ))  # fmt: skip
    return found


def spec_plan(plan: WorkflowPlan, levels: Sequence[Sequence[str]], spec_file: str,
              shown: int = NAMES_PER_STAGE) -> ExecutionPlan:  # fmt: skip
    """The execution plan of a spec's plan, from its levels (what `torc validate` computes for it)."""
    requirements = {r.name: StageResources(name=r.name, num_jobs=0, num_cpus=r.num_cpus, num_gpus=r.num_gpus,
                                           num_nodes=r.num_nodes, memory=r.memory, runtime=r.runtime)
                    for r in plan.resource_requirements}  # fmt: skip
    group = {job.name: job.resource_requirements for job in plan.jobs}
    names = {job.name: job.name for job in plan.jobs}
    return ExecutionPlan(name=plan.name, num_jobs=len(plan.jobs), num_stages=len(levels), spec_file=spec_file,
                         stages=stages(levels, group.__getitem__, requirements, names, shown))  # fmt: skip


def verdict(why: JobWhy) -> str:
    """What the job waits for, in one line."""
    job = why.job
    head = f"job {job.id} ({job.name})"
    inputs = _inputs(why)
    but = f"; but {inputs}" if inputs else ""
    if not why.workflow_initialized:
        waits = _waits(why)
        return (f"{head}: workflow {why.workflow_id} is not initialized (`torc workflows init {why.workflow_id}`)"
                + (f"; then it {waits}" if waits else "; then it is ready") + (f"; {inputs}" if inputs else ""))
    prefix = f"workflow {why.workflow_id} is canceled; " if why.workflow_canceled else ""
    if job.status == S.BLOCKED.value:
        waits = _waits(why) or "waits for nothing any more: it becomes ready at once"
        return f"{prefix}{head} is blocked: it {waits}" + (f"; {inputs}" if inputs else "")
    if job.status == S.CANCELED.value and why.canceled_by:
        return f"{prefix}{head} is done: canceled because upstream jobs did not succeed: {_refs(why.canceled_by)}"
    if states.is_done(job.status):
        return f"{prefix}{head} is done: {job.status}; it waits for nothing"
    said = {S.READY.value: "is ready: nothing upstream is left; it waits for a runner with enough free resources",
            S.PENDING.value: "is pending: a runner claimed it and is about to start it",
            S.RUNNING.value: "is running",
            S.PENDING_FAILED.value: "failed and awaits a decision: retried or failed for good",
            S.UNINITIALIZED.value: f"is uninitialized: `torc workflows reinitialize {why.workflow_id}` runs it "
                                   "again"}  # fmt: skip
    return f"{prefix}{head} {said.get(job.status, job.status)}{but}"


def _waits(why: JobWhy) -> str:
    """`waits for 2 jobs: a (blocked), b (blocked); at the root of those, 1 job not blocked: c (running)`."""
    parts = []
    if why.num_waiting_on:
        parts.append(f"waits for {count(why.num_waiting_on, 'job')}: {_refs(why.waiting_on, why.num_waiting_on)}")
    blocked_direct = any(ref.status == S.BLOCKED.value or ref.num_waiting_on for ref in why.waiting_on)
    if why.roots and blocked_direct:
        total = count(why.num_roots, "job") if why.walk_complete else f"at least {count(why.num_roots, 'job')}"
        parts.append(f"at the root of those, {total} not blocked: {_refs(why.roots, why.num_roots)}")
    elif blocked_direct and not why.walk_complete:
        parts.append(f"the walk stopped after reading {why.jobs_read:,} jobs, before reaching one not blocked")
    return "; ".join(parts)


def _refs(refs: Sequence[JobRef], total: int | None = None) -> str:
    total = len(refs) if total is None else total
    named = ", ".join(_ref(ref) for ref in refs[:IN_VERDICT])
    return named + (f" and {total - min(len(refs), IN_VERDICT):,} more" if total > IN_VERDICT else "")


def _ref(ref: JobRef) -> str:
    if isinstance(ref, RootCause) and ref.status in states.UPSTREAM_FAILURES:
        return f"{ref.name} ({ref.note})"
    return f"{ref.name} ({ref.status})"


def _inputs(why: JobWhy) -> str:
    """The missing inputs that waiting alone will not bring (an unfinished producer's are said by `waits for`)."""
    missing: list[MissingInput] = [m for m in [*why.missing_files, *why.missing_user_data]
                                   if m.producer is None or states.is_done(m.producer.status)]  # fmt: skip
    if not missing:
        return ""
    words = "; ".join(f"{m.kind} {m.name}: {m.reason}" for m in missing[:IN_VERDICT])
    more = f" and {len(missing) - IN_VERDICT} more" if len(missing) > IN_VERDICT else ""
    return f"{count(len(missing), 'input')} missing ({words}{more})"
