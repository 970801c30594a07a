"""Creating a workflow from a validated plan: all of it, or nothing.

The plan (`torc_client.spec.build_plan`) has already been checked, so what can fail
here is the database. Ids are reserved in blocks, every document is built in memory,
and the inserts go collection by collection; if any fails, everything written under
the new workflow id is deleted again.

Jobs are stored already staged for the first run: `waiting_on` lists every upstream
job, jobs with none sit in the ready queue. The workflow stays uninitialised (every
job reads as `uninitialized`, nothing can be claimed) until `initialize` checks its
inputs and opens the run, which then costs no write per job.
"""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

from api.storage import actions, job_names, jobs, priority, queue, records, workflows
from api.storage.db import Database
from api.storage.workflows import Event
from torc_client.contract import Workflow
from torc_client.core import graph, states
from torc_client.core.units import count
from torc_client.spec import (
    DEFAULT_SETTINGS,
    PlanResources,
    WorkflowPlan,
    substitute_user_data_ids,
)

S = states.JobStatus
INSERT_BATCH = 5000
Progress = Callable[[int, int], Awaitable[None]]
_LISTS = ("input_files", "output_files", "input_user_data", "output_user_data")


async def create_from_plan(db: Database, plan: WorkflowPlan, user: str, working_dir: str | None,
                           progress: Progress | None = None) -> Workflow:  # fmt: skip
    """Store a plan as a new workflow: all of it, or (on any error, or cancellation) nothing.

    `progress(workflow_id, n)` is awaited once the id is chosen (n = 0), then after each batch of jobs is
    stored, with the number stored so far.
    """
    wid = await db.allocate_ids("workflows", 1)
    if progress is not None:
        await progress(wid, 0)
    try:
        doc = await _insert_all(db, wid, plan, user, working_dir, progress)
    except BaseException:
        await asyncio.shield(_undo(db, wid))
        raise
    await workflows.record(db, wid, {}, [Event("workflow", f"workflow {wid} created with {count(len(plan.jobs), 'job')}",
                                               num_jobs=len(plan.jobs))])  # fmt: skip
    return workflows.to_record(doc)


async def _undo(db: Database, wid: int) -> None:
    await workflows.delete_children(db, wid)
    await db.workflows.delete_one({"_id": wid})


async def _insert_all(db: Database, wid: int, plan: WorkflowPlan, user: str, working_dir: str | None,
                      progress: Progress | None) -> dict:  # fmt: skip
    rr_ids = await _insert_named(db, records.resource_requirements, wid, [
        records.resources_document({f: getattr(r, f) for f in ("name", "num_cpus", "num_gpus", "num_nodes",
                                                                "memory", "runtime")})
        for r in plan.resource_requirements])  # fmt: skip
    rr_docs = [doc async for doc in db.resource_requirements.find({"workflow_id": wid})]
    await queue.create_queues(db, wid, rr_docs)
    file_ids = await _insert_named(db, records.files, wid, [{"name": f.name, "path": f.path} for f in plan.files])
    ud_ids = await _insert_named(db, records.user_data, wid, [
        {"name": u.name, "data": u.data, "is_ephemeral": u.is_ephemeral} for u in plan.user_data])  # fmt: skip
    fh_ids = await _insert_named(db, records.failure_handlers, wid, [
        {"name": h.name, "rules": h.rules} for h in plan.failure_handlers])  # fmt: skip
    first = await db.allocate_ids("jobs", len(plan.jobs)) if plan.jobs else 0
    job_ids = _mentioned_ids(plan, first)
    ticket = queue.new_ticket()
    stored = await _insert_jobs(db, _job_documents(wid, plan, first, job_ids, rr_ids, file_ids, ud_ids, fh_ids,
                                                   ticket), progress)  # fmt: skip
    await job_names.record(db, wid, first, (job.name for job in plan.jobs))
    ready = priority.ordered_queues(stored.ready, stored.priorities) if stored.priorities else stored.ready
    await queue.enqueue(db, wid, ready, ticket)
    await db.workflow_inputs.insert_one(required_inputs(wid, stored.lists))
    await _insert_hpc(db, wid, plan, job_ids)
    doc = workflows.new_document(wid, _workflow_fields(plan, user, working_dir))
    doc["job_blocks"] = [[first, stored.count]] if stored.count else []
    doc["counts"] = stored.counts
    await db.workflows.insert_one(doc)
    return doc


async def _insert_hpc(db: Database, wid: int, plan: WorkflowPlan, job_ids: dict[str, int]) -> None:
    """Slurm schedulers and workflow actions (jobs and schedulers named in the plan become ids)."""
    schedulers = [{f: getattr(s, f) for f in s.__struct_fields__ if f != "walltime_s"} for s in plan.slurm_schedulers]
    scheduler_ids = await _insert_named(db, actions.slurm_schedulers, wid, schedulers)
    docs = actions.documents(wid, plan.actions, job_ids, scheduler_ids)
    if docs:
        first = await db.allocate_ids("workflow_actions", len(docs))
        await db.workflow_actions.insert_many([{"_id": first + i, **doc} for i, doc in enumerate(docs)])


async def _insert_named(db: Database, store: records.Store, wid: int, docs: list[dict[str, Any]]) -> dict[str, int]:
    for doc in docs:
        doc["workflow_id"] = wid
    ids = await store.insert(db, docs)
    return {doc["name"]: rid for doc, rid in zip(docs, ids)}


class _Stored:
    """What later steps need of the stored jobs, kept small (a million jobs): counts, ready ids, and relationships."""

    def __init__(self) -> None:
        self.count = 0
        self.counts: dict[str, int] = {}
        self.ready: dict[int, array[int]] = {}  # by resource requirements id; 8 bytes a job
        self.lists: list[tuple[list[int], ...]] = []  # (inputs, outputs, input data, output data) of jobs with any
        self.priorities: dict[int, int] = {}  # only jobs with a non-zero priority

    def add(self, doc: dict[str, Any]) -> None:
        self.count += 1
        self.counts[doc["status"]] = self.counts.get(doc["status"], 0) + 1
        if doc["status"] == S.READY.value:
            self.ready.setdefault(doc["rr_id"], array("q")).append(doc["_id"])
            if doc.get(priority.FIELD):
                self.priorities[doc["_id"]] = doc[priority.FIELD]
        lists = tuple(doc[key] for key in _LISTS)
        if any(lists):
            self.lists.append(lists)


async def _insert_jobs(db: Database, documents: Iterator[dict[str, Any]], progress: Progress | None = None) -> _Stored:
    """Insert job documents a batch at a time; returns what later steps need of them (not the documents).

    One batch is being inserted while the next is built, so the database and this
    process work at the same time; the API's memory stays at the plan plus two batches.
    """
    stored = _Stored()
    in_flight: asyncio.Task | None = None
    batch: list[dict[str, Any]] = []
    try:
        for doc in documents:
            batch.append(doc)
            stored.add(doc)
            if len(batch) == INSERT_BATCH:
                in_flight = await _hand_over(db, in_flight, batch)
                batch = []
                if progress is not None:
                    await progress(doc["workflow_id"], stored.count - INSERT_BATCH)  # the batch before is stored
        if batch:
            in_flight = await _hand_over(db, in_flight, batch)
    except BaseException:
        # The caller's clean-up must not race an insert still under way.
        if in_flight is not None:
            await asyncio.gather(in_flight, return_exceptions=True)
        raise
    if in_flight is not None:
        await in_flight
    return stored


async def _hand_over(db: Database, previous: asyncio.Task | None, batch: list[dict[str, Any]]) -> asyncio.Task:
    """Wait for the previous batch's insert, start this one's, and let it reach the database before returning."""
    if previous is not None:
        await previous
    task = asyncio.ensure_future(db.jobs.insert_many(batch, ordered=False))
    await asyncio.sleep(0)  # the insert encodes and sends its request before the next batch is built
    return task


def _mentioned_ids(plan: WorkflowPlan, first: int) -> dict[str, int]:
    """The ids of the jobs that relationships or actions name (job i gets `first + i`), and no others.

    A million independent jobs need no million-entry map from name to id.
    """
    mentioned = set(plan.upstream)
    mentioned.update(up for ups in plan.upstream.values() for up in ups)
    mentioned.update(name for action in plan.actions for name in action.jobs)
    return {job.name: first + i for i, job in enumerate(plan.jobs) if job.name in mentioned}


def _job_documents(wid, plan, first: int, job_ids, rr_ids, file_ids, ud_ids, fh_ids,
                   ticket: int) -> Iterator[dict[str, Any]]:  # fmt: skip
    """The job documents, staged for the first run: the ready ones under `ticket`."""
    # Only jobs with a relationship: a million independent jobs need no million empty lists.
    upstream = {job_ids[name]: [job_ids[u] for u in ups] for name, ups in plan.upstream.items()}
    downstream = graph.downstream_map(upstream)
    for index, job in enumerate(plan.jobs):
        jid = first + index
        doc = jobs.new_document(
            jid, wid, name=job.name, command=substitute_user_data_ids(job.command, ud_ids),
            invocation_script=(substitute_user_data_ids(job.invocation_script, ud_ids)
                               if job.invocation_script else None),
            rr_id=rr_ids[job.resource_requirements], fh_id=fh_ids.get(job.failure_handler or ""),
            cancel_on_blocking_job_failure=job.cancel_on_blocking_job_failure,
            supports_termination=job.supports_termination,
            depends_on=sorted(job_ids[n] for n in job.depends_on), upstream=upstream.get(jid, []),
            blocks=sorted(downstream.get(jid, [])),
            input_files=[file_ids[n] for n in job.input_files], output_files=[file_ids[n] for n in job.output_files],
            input_user_data=[ud_ids[n] for n in job.input_user_data],
            output_user_data=[ud_ids[n] for n in job.output_user_data],
            **_spec_text(job), scheduler=job.scheduler, **({priority.FIELD: job.priority} if job.priority else {}),
            **({"env": job.env} if job.env else {}), **({"stdio": job.stdio} if job.stdio else {}),
        )  # fmt: skip
        if doc["status"] == S.READY.value:
            doc.update(queue.ticketed(ticket))
        yield doc


def required_inputs(wid: int, lists: Iterable[Sequence[Sequence[int]]]) -> dict[str, Any]:
    """The files and user_data that jobs read but no job writes: they must exist before a run.

    `lists` holds each job's (input_files, output_files, input_user_data, output_user_data) ids.
    """
    reads, writes, consumes, produces = set(), set(), set(), set()
    for input_files, output_files, input_data, output_data in lists:
        reads.update(input_files)
        writes.update(output_files)
        consumes.update(input_data)
        produces.update(output_data)
    return {"_id": wid, "workflow_id": wid, "files": sorted(reads - writes), "user_data": sorted(consumes - produces)}


def _spec_text(job: Any) -> dict[str, str]:
    """The command and invocation script as the spec wrote them, where `${user_data.*}` became ids (for export)."""
    return {f"spec_{field}": text for field in ("command", "invocation_script")
            if (text := getattr(job, field)) and "${user_data." in text}  # fmt: skip


def _workflow_fields(plan: WorkflowPlan, user: str, working_dir: str | None) -> dict[str, Any]:
    fields = {"name": plan.name, "description": plan.description, "user": plan.user or user,
              "working_dir": plan.working_dir or working_dir, "project": plan.project,
              "metadata": plan.metadata or None}  # fmt: skip
    settings = dict(plan.settings)
    settings.pop("cancel_on_blocking_job_failure", None)
    hpc = {"slurm_defaults": plan.slurm_defaults, "action_triggers": sorted({a.trigger_type for a in plan.actions})}
    return {**fields, **settings, **hpc}


def empty_plan(name: str, description: str | None, project: str | None = None, metadata: dict[str, Any] | None = None,
               settings: dict[str, Any] | None = None, slurm_defaults: dict[str, Any] | None = None) -> WorkflowPlan:
    """The plan of a workflow with no jobs yet (only its `default` resource requirements); `settings` override
    the defaults."""
    default = PlanResources(name="default", num_cpus=1, num_gpus=0, num_nodes=1, memory="1m",
                            memory_bytes=1 << 20, runtime="PT1H", runtime_s=3600.0)  # fmt: skip
    return WorkflowPlan(name=name, description=description, user=None, working_dir=None, project=project,
                        metadata=metadata or {}, settings={**DEFAULT_SETTINGS, **(settings or {})},
                        resource_requirements=(default,), files=(), user_data=(), failure_handlers=(), jobs=(),
                        upstream={}, slurm_defaults=slurm_defaults or {})  # fmt: skip
