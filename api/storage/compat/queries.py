"""Torc's read-only questions about a workflow: is it complete or uninitialised, its job ids, what its ready jobs
need, and its relationships (job to job, job to file, job to user_data) as listings.

Job ids come from the workflow's own id blocks, without reading a job. The listings read
the jobs of the workflow once (their relationship fields only) and page the result: they
cost time in proportion to the workflow's size, as Torc's joins do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from api.storage import queue, workflows
from api.storage.create import required_inputs
from api.storage.db import Database
from torc_client.contract import (
    IsComplete,
    IsUninitialized,
    JobDependency,
    JobFileRelationship,
    JobIds,
    JobUserDataRelationship,
    LatestEventTime,
    MissingUserData,
    Page,
    ReadyJobRequirements,
    RequiredFiles,
)
from torc_client.core import states
from torc_client.core.errors import NotFound
from torc_client.core.units import format_duration

S = states.JobStatus
T = TypeVar("T")
GB = 1 << 30
#: A job's reads and writes, in the order `create.required_inputs` takes them.
IO_FIELDS = ("input_files", "output_files", "input_user_data", "output_user_data")


async def is_complete(db: Database, wid: int) -> IsComplete:
    status = workflows.status_of(await workflows.get_doc(db, wid))
    return IsComplete(is_complete=status.is_complete, is_canceled=status.is_canceled)


async def is_uninitialized(db: Database, wid: int) -> IsUninitialized:
    """True when every job is uninitialized or disabled (a workflow without jobs is too)."""
    counts = workflows.presented_counts(await workflows.get_doc(db, wid))
    waiting = {S.UNINITIALIZED.value, S.DISABLED.value}
    return IsUninitialized(is_uninitialized=all(n == 0 for status, n in counts.items() if status not in waiting))


async def job_ids(db: Database, wid: int) -> JobIds:
    blocks = (await workflows.get_doc(db, wid, full=True)).get("job_blocks", [])
    ids = [jid for start, size in blocks for jid in range(start, start + size)]
    return JobIds(job_ids=ids, count=len(ids))


async def ready_requirements(db: Database, wid: int, scheduler_config_id: int | None) -> ReadyJobRequirements:
    """What the ready jobs (optionally only those of one Slurm scheduler) need: summed, and the largest per job."""
    await workflows.get_doc(db, wid)
    query: dict[str, Any] = {"workflow_id": wid, "status": S.READY.value}
    if scheduler_config_id is not None:
        scheduler = await db.slurm_schedulers.find_one({"_id": scheduler_config_id, "workflow_id": wid})
        if scheduler is None:
            raise NotFound("slurm_scheduler", scheduler_config_id)
        query["scheduler"] = scheduler["name"]
    per_rr: dict[int, int] = {}
    async for doc in db.jobs.find(query, {"rr_id": 1}):
        per_rr[doc["rr_id"]] = per_rr.get(doc["rr_id"], 0) + 1
    shapes = [queue.shape_of({**d, "rr_id": d["_id"]})
              for d in await workflows.find_by_ids(db.resource_requirements, sorted(per_rr))]  # fmt: skip
    return ReadyJobRequirements(
        num_jobs=sum(per_rr.values()), num_cpus=sum(s.cpus * per_rr[s.key] for s in shapes),
        num_gpus=sum(s.gpus * per_rr[s.key] for s in shapes),
        memory_gb=sum(s.memory_bytes * per_rr[s.key] for s in shapes) / GB,
        max_num_nodes=max((s.nodes for s in shapes), default=0),
        max_runtime=format_duration(max((s.runtime_s for s in shapes), default=0.0)),
    )  # fmt: skip


async def required_files(db: Database, wid: int) -> RequiredFiles:
    """The files that must exist: the inputs no job writes, and what the completed jobs wrote."""
    inputs = await _inputs(db, wid)
    done = [d async for d in db.jobs.find({"workflow_id": wid, "status": S.COMPLETED.value}, {"output_files": 1})]
    return RequiredFiles(files=sorted(set(inputs["files"]) | {f for d in done for f in d.get("output_files", [])}))


async def missing_user_data(db: Database, wid: int) -> MissingUserData:
    """The user_data records without data that should have it: inputs no job writes, and completed jobs' outputs."""
    inputs = await _inputs(db, wid)
    done = [d async for d in db.jobs.find({"workflow_id": wid, "status": S.COMPLETED.value}, {"output_user_data": 1})]
    wanted = set(inputs["user_data"]) | {u for d in done for u in d.get("output_user_data", [])}
    records = await workflows.find_by_ids(db.user_data, sorted(wanted), {"data": 1})
    return MissingUserData(user_data=[u["_id"] for u in records if u.get("data") is None])


async def _inputs(db: Database, wid: int) -> dict[str, Any]:
    """The files and user_data that jobs read and no job writes (kept up to date at every initialisation)."""
    if (await workflows.get_doc(db, wid)).get("needs_full_init"):  # jobs changed since: work it out from them
        docs = [d async for d in db.jobs.find({"workflow_id": wid}, dict.fromkeys(IO_FIELDS, 1))]
        return required_inputs(wid, ([d.get(f, []) for f in IO_FIELDS] for d in docs))
    return await db.workflow_inputs.find_one({"_id": wid}) or {"files": [], "user_data": []}


async def latest_event_time(db: Database, wid: int) -> LatestEventTime:
    last = (await workflows.get_doc(db, wid)).get("event_seq", 0)
    doc = await db.events.find_one({"_id": (wid << 32) | last}, {"timestamp": 1}) if last else None
    return LatestEventTime(timestamp=int(doc["timestamp"]) if doc else None)


async def job_dependencies(db: Database, wid: int, offset: int, limit: int) -> Page[JobDependency]:
    """Every (job, job it waits for) pair, explicit or implied by files and user_data, by job id."""
    docs = await _jobs(db, wid, {"name": 1, "upstream": 1})
    names = {d["_id"]: d["name"] for d in docs}
    rows = [JobDependency(job_id=d["_id"], job_name=d["name"], depends_on_job_id=up,
                          depends_on_job_name=names.get(up, ""), workflow_id=wid)
            for d in docs for up in sorted(d.get("upstream", []))]  # fmt: skip
    return _page(rows, offset, limit)


async def file_relationships(db: Database, wid: int, offset: int, limit: int) -> Page[JobFileRelationship]:
    """Every file with the job that writes it and each job that reads it (one row per reader)."""
    files = [f async for f in db.files.find({"workflow_id": wid}).sort("_id", 1)]

    def row(f: dict[str, Any], producer: dict | None, consumer: dict | None) -> JobFileRelationship:
        return JobFileRelationship(file_id=f["_id"], file_name=f["name"], file_path=f["path"], workflow_id=wid,
                                   **_ends(producer, consumer))  # fmt: skip

    return _page(await _relations(db, wid, files, "files", row), offset, limit)


async def user_data_relationships(db: Database, wid: int, offset: int,
                                  limit: int) -> Page[JobUserDataRelationship]:  # fmt: skip
    """Every user_data record with the job that writes it and each job that reads it (one row per reader)."""
    records = [u async for u in db.user_data.find({"workflow_id": wid}, {"name": 1}).sort("_id", 1)]

    def row(u: dict[str, Any], producer: dict | None, consumer: dict | None) -> JobUserDataRelationship:
        return JobUserDataRelationship(user_data_id=u["_id"], user_data_name=u["name"], workflow_id=wid,
                                       **_ends(producer, consumer))  # fmt: skip

    return _page(await _relations(db, wid, records, "user_data", row), offset, limit)


async def _relations(db: Database, wid: int, records: list[dict], kind: str,
                     row: Callable[[dict, dict | None, dict | None], T]) -> list[T]:  # fmt: skip
    """One row per (record, its producer, one consumer); a record nobody reads gets one row without a consumer."""
    await workflows.get_doc(db, wid)
    docs = await _jobs(db, wid, {"name": 1, f"input_{kind}": 1, f"output_{kind}": 1})
    producers: dict[int, dict] = {}
    consumers: dict[int, list[dict]] = {}
    for doc in docs:
        for rid in doc.get(f"output_{kind}", []):
            producers.setdefault(rid, doc)
        for rid in doc.get(f"input_{kind}", []):
            consumers.setdefault(rid, []).append(doc)
    return [row(r, producers.get(r["_id"]), consumer) for r in records
            for consumer in (consumers.get(r["_id"]) or [None])]  # fmt: skip


def _ends(producer: dict | None, consumer: dict | None) -> dict[str, Any]:
    return {"producer_job_id": producer and producer["_id"], "producer_job_name": producer and producer["name"],
            "consumer_job_id": consumer and consumer["_id"], "consumer_job_name": consumer and consumer["name"]}


async def _jobs(db: Database, wid: int, projection: dict[str, int]) -> list[dict[str, Any]]:
    await workflows.get_doc(db, wid)
    return [d async for d in db.jobs.find({"workflow_id": wid}, projection).sort("_id", 1)]


def _page(rows: list[T], offset: int, limit: int) -> Page[T]:
    items = rows[offset : offset + limit]
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(rows),
                has_more=offset + len(items) < len(rows))  # fmt: skip
