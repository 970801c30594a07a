"""Workflow documents: the record, its counts by status, its run and its event sequence.

The workflow document is the one small document every hot path reads. It carries
`counts` (jobs per status, kept exact with `$inc` next to every transition) so that
status and completion need no scan of the jobs, and `event_seq`, so that events get
increasing ids within the workflow from the same atomic update.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from pymongo import ReturnDocument

from api.storage import triggers
from api.storage.db import Database, chunks, iso_now, now_ms
from torc_client.contract import (
    ExecutionConfig,
    Page,
    ResourceMonitorConfig,
    Workflow,
    WorkflowStatus,
)
from torc_client.core import states
from torc_client.core.errors import InvalidRequest, NotFound

#: Collections whose documents belong to one workflow (deleted with it).
CHILD_COLLECTIONS = (
    "jobs", "files", "user_data", "resource_requirements", "failure_handlers",
    "results", "events", "compute_nodes", "queues", "slots", "workflow_inputs", "slurm_schedulers",
    "workflow_actions", "scheduled_compute_nodes", "local_schedulers", "remote_workers", "job_names",
    "ro_crate_entities", "slurm_stats", "tasks",
)  # fmt: skip

#: Fields never needed to answer a hot request.
_HOT_PROJECTION = {"job_blocks": 0}

SETTINGS = (
    "jobs_sort_method", "use_pending_failed", "compute_node_expiration_buffer_seconds",
    "compute_node_wait_for_new_jobs_seconds", "compute_node_ignore_workflow_completion",
    "compute_node_wait_for_healthy_database_minutes", "compute_node_min_time_for_new_jobs_seconds",
)  # fmt: skip


def new_document(wid: int, plan_fields: dict[str, Any]) -> dict[str, Any]:
    """A fresh workflow document; `plan_fields` are the spec's top-level values."""
    return {
        "_id": wid,
        "timestamp": iso_now(),
        "run_id": 0,
        "is_initialized": False,
        "is_canceled": False,
        "is_archived": False,
        "needs_full_init": False,
        "counts": {},
        "event_seq": 0,
        "lease_check_at": 0.0,
        "repair_at": 0.0,
        "completed_run": -1,
        "job_blocks": [],
        **plan_fields,
    }


def to_record(doc: dict[str, Any]) -> Workflow:
    return Workflow(
        id=doc["_id"],
        name=doc["name"],
        description=doc.get("description"),
        user=doc.get("user", ""),
        timestamp=doc["timestamp"],
        working_dir=doc.get("working_dir"),
        project=doc.get("project"),
        metadata=doc.get("metadata"),
        run_id=doc["run_id"],
        is_initialized=doc["is_initialized"],
        is_canceled=doc["is_canceled"],
        is_archived=doc["is_archived"],
        status=_in_words(doc),
        resource_monitor=ResourceMonitorConfig(**doc.get("resource_monitor", {})),
        execution_config=msgspec.convert(doc.get("execution_config", {}), ExecutionConfig),
        slurm_defaults=doc.get("slurm_defaults", {}),
        env=doc.get("env", {}),
        **{key: doc[key] for key in SETTINGS if key in doc},
    )


async def get_doc(db: Database, wid: int, *, full: bool = False) -> dict[str, Any]:
    doc = await db.workflows.find_one({"_id": wid}, None if full else _HOT_PROJECTION)
    if doc is None:
        raise NotFound("workflow", wid)
    return doc


async def get(db: Database, wid: int) -> Workflow:
    return to_record(await get_doc(db, wid))


#: The orders a workflow listing can take (Torc's `sort_by`).
WORKFLOW_SORTS = ("id", "name", "user", "timestamp", "description", "project")


async def list_page(db: Database, filters: dict[str, Any], offset: int, limit: int,
                    within: dict[str, Any] | None = None, sort_by: str | None = None,
                    reverse: bool = False) -> Page[Workflow]:  # fmt: skip
    """A page of workflows matching `filters` (None: any), among those `within` selects, in `sort_by` order."""
    sort_by = sort_by or "id"
    if sort_by not in WORKFLOW_SORTS:
        raise InvalidRequest(f"cannot sort workflows by {sort_by!r}; use one of {', '.join(WORKFLOW_SORTS)}")
    query = {key: value for key, value in filters.items() if value is not None}
    query.setdefault("is_archived", False)
    if within:
        query = {"$and": [query, within]}
    total = await db.workflows.count_documents(query)
    order = [("_id" if sort_by == "id" else sort_by, -1 if reverse else 1)] + ([("_id", 1)] if sort_by != "id" else [])
    cursor = db.workflows.find(query, _HOT_PROJECTION).sort(order).skip(offset).limit(limit)
    items = [to_record(doc) async for doc in cursor]
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=total,
                has_more=offset + len(items) < total)  # fmt: skip


async def update(db: Database, wid: int, changes: dict[str, Any]) -> Workflow:
    doc = await change(db, wid, {"$set": changes}, return_document=ReturnDocument.AFTER)
    if doc is None:
        raise NotFound("workflow", wid)
    return to_record(doc)


async def delete_children(db: Database, wid: int) -> None:
    for name in CHILD_COLLECTIONS:
        await db.collection(name).delete_many({"workflow_id": wid})


def presented_counts(doc: dict[str, Any]) -> dict[str, int]:
    """Jobs per status as a caller sees them: before initialisation every job is uninitialized."""
    counts = {status: n for status, n in doc.get("counts", {}).items() if n}
    if not doc["is_initialized"]:
        return {states.S.UNINITIALIZED.value: sum(counts.values())} if counts else {}
    return counts


def _in_words(doc: dict[str, Any]) -> str:
    if doc["is_canceled"]:
        return "canceled"
    if not doc["is_initialized"]:
        return "new"
    return "complete" if states.workflow_complete(presented_counts(doc)) else "running"


def status_of(doc: dict[str, Any]) -> WorkflowStatus:
    counts = presented_counts(doc)
    complete = doc["is_canceled"] or (doc["is_initialized"] and states.workflow_complete(counts))
    return WorkflowStatus(
        workflow_id=doc["_id"], run_id=doc["run_id"], is_initialized=doc["is_initialized"],
        is_canceled=doc["is_canceled"], is_archived=doc["is_archived"], is_complete=complete,
        num_jobs=sum(counts.values()), job_counts=counts, workflow_name=doc.get("name", ""),
        workflow_user=doc.get("user", ""), total_jobs=sum(counts.values()),
        jobs_by_status={s.value: counts.get(s.value, 0) for s in states.S},
    )  # fmt: skip


async def status(db: Database, wid: int) -> WorkflowStatus:
    return status_of(await get_doc(db, wid))


class Event:
    """An event to record: built by the code that made the change."""

    __slots__ = ("category", "message", "data")

    def __init__(self, category: str, message: str, **data: Any) -> None:
        self.category, self.message, self.data = category, message, data


async def record(db: Database, wid: int, delta: dict[str, int], events: list[Event]) -> dict[str, Any]:
    """Apply job-count changes and append events in one atomic update; returns the workflow document.

    Inside a transaction, the changes are gathered and written once, just before it
    commits (`flush`): the transactions of concurrent requests run together (see
    `Database.atomic`) and make one update of the workflow document between them, not
    one each. The document returned then has the gathered counts applied. When the
    counts now say the workflow has finished, a `workflow_complete` event is recorded,
    once per run.
    """
    inc: dict[str, int] = {f"counts.{status}": n for status, n in delta.items() if n}
    if db.session is None:
        if inc:
            raise AssertionError("job counts change only inside the transaction that changes the jobs (db.atomic)")
        if events:  # the workflow document is written in this process's transactions: take part in their order
            # Written at once, not gathered: the caller may read what it returns (the events' numbers).
            return await db.atomic(wid, lambda db: _write(db, wid, {}, list(events), False))
    if db.tally is not None and (inc or events):
        return await _gather(db, wid, inc, events, bool(delta))
    return await _write(db, wid, inc, events, bool(delta))


async def _write(db: Database, wid: int, inc: dict[str, int], events: list[Event], counted: bool) -> dict[str, Any]:
    if events:
        inc["event_seq"] = len(events)
    if not inc:
        return await get_doc(db, wid)
    doc = await db.update_and_read("workflows", {"_id": wid}, {"$inc": inc}, _HOT_PROJECTION)
    if doc is None:
        raise NotFound("workflow", wid)
    if events:
        await _insert_events(db, wid, doc["event_seq"] - len(events) + 1, events)
    if counted and status_of(doc).is_complete and doc["completed_run"] != doc["run_id"]:
        await _mark_complete(db, doc)
    return doc


async def _gather(db: Database, wid: int, inc: dict[str, int], events: list[Event], counted: bool) -> dict[str, Any]:
    """Keep count changes and events for the transaction's one update of the workflow document (`flush`)."""
    tally = db.tally
    assert tally is not None
    mine = tally.get(wid)
    if mine is None:
        mine = tally[wid] = {"doc": await get_doc(db, wid), "inc": {}, "events": [], "counted": False}
        db.before_commit.append(lambda db, wid=wid: flush(db, wid))
    for key, n in inc.items():
        mine["inc"][key] = mine["inc"].get(key, 0) + n
        status = key.split(".", 1)[1]
        mine["doc"].setdefault("counts", {})[status] = mine["doc"]["counts"].get(status, 0) + n
    mine["counted"] = mine["counted"] or counted
    mine["events"].extend(events)
    return _gathered(mine)


async def current(db: Database, wid: int) -> dict[str, Any]:
    """The workflow document as the transaction under way leaves it: with the counts it gathered (`record`) applied."""
    mine = db.tally.get(wid) if db.tally is not None else None
    return await get_doc(db, wid) if mine is None else _gathered(mine)


def _gathered(mine: dict[str, Any]) -> dict[str, Any]:
    """The workflow document a transaction read, with the counts it gathered applied (a copy the caller may keep)."""
    return {**mine["doc"], "counts": dict(mine["doc"]["counts"])}


async def flush(db: Database, wid: int) -> None:
    """Write what the transaction gathered for workflow `wid`: one update, one insert of events."""
    assert db.tally is not None
    mine = db.tally.pop(wid, None)
    if mine is None:
        return
    tally, db.tally = db.tally, None  # what the completion check records is written directly
    try:
        await _write(db, wid, {k: n for k, n in mine["inc"].items() if n}, mine["events"], mine["counted"])
    finally:
        db.tally = tally


async def _mark_complete(db: Database, doc: dict[str, Any]) -> None:
    won = await db.workflows.update_one(
        {"_id": doc["_id"], "completed_run": doc["completed_run"]}, {"$set": {"completed_run": doc["run_id"]}}
    )
    if won.modified_count:
        await triggers.workflow_completed(db, doc)
        counts = presented_counts(doc)
        words = ", ".join(f"{n:,} {status}" for status, n in counts.items() if n) or "no jobs"
        await record(db, doc["_id"], {}, [Event("workflow", f"workflow complete: {words}", status="complete",
                                                run_id=doc["run_id"], job_counts=counts)])  # fmt: skip


async def _insert_events(db: Database, wid: int, first_seq: int, events: list[Event]) -> None:
    stamp = now_ms()
    docs = [
        {"_id": (wid << 32) | seq, "workflow_id": wid, "seq": seq, "timestamp": stamp,
         "category": e.category, "message": e.message, "data": e.data}
        for seq, e in enumerate(events, start=first_seq)
    ]  # fmt: skip
    await db.events.insert_many(docs, ordered=False)


async def change(db: Database, wid: int, update: dict[str, Any], where: dict[str, Any] | None = None,
                 return_document: Any = None) -> Any:  # fmt: skip
    """Change the workflow document, in turn with this process's transactions on it (see `Database.atomic`): a
    plain write waiting for a transaction's document would hold up that transaction's other writes."""
    query = {"_id": wid, **(where or {})}
    if return_document is None:
        return await db.atomic(wid, lambda db: db.workflows.update_one(query, update))
    if return_document == ReturnDocument.AFTER:
        return await db.atomic(wid, lambda db: db.update_and_read("workflows", query, update, _HOT_PROJECTION))
    return await db.atomic(wid, lambda db: db.workflows.find_one_and_update(query, update, projection=_HOT_PROJECTION,
                                                                             return_document=return_document))


async def set_counts(db: Database, wid: int, counts: dict[str, int]) -> None:
    await change(db, wid, {"$set": {"counts": counts}})


async def recount(db: Database, wid: int) -> dict[str, int]:
    """Count jobs by status from the jobs themselves and store the result (O(jobs))."""
    counts: dict[str, int] = {}
    async for doc in db.jobs.find({"workflow_id": wid}, {"status": 1}):
        counts[doc["status"]] = counts.get(doc["status"], 0) + 1
    await set_counts(db, wid, counts)
    return counts


async def take_turn(db: Database, doc: dict[str, Any], field: str, every_seconds: float) -> bool:
    """Whether this request won the periodic duty `field` (a time stamp on the workflow).

    The API has no timers: a duty such as expiring leases runs inside whichever
    request first finds it due, and the conditional update makes that one request.
    """
    now = time.time()
    if doc.get(field, 0.0) > now:
        return False
    # `turns` counts each duty's runs, for diagnostics (the benchmarks read it). A transaction like every hot write
    # of the workflow document, so that it waits its turn behind this process's transactions instead of aborting them.
    won = await db.atomic(doc["_id"], lambda db: db.workflows.update_one(
        {"_id": doc["_id"], field: doc.get(field, 0.0)},
        {"$set": {field: now + every_seconds}, "$inc": {f"turns.{field}": 1}}))  # fmt: skip
    return won.modified_count == 1


def id_page(blocks: list[list[int]], offset: int, limit: int) -> list[int]:
    """The ids at positions offset..offset+limit of a workflow's id blocks (contiguous ranges)."""
    ids: list[int] = []
    for start, count in blocks:
        if offset >= count:
            offset -= count
            continue
        take = min(count - offset, limit - len(ids))
        ids.extend(range(start + offset, start + offset + take))
        offset = 0
        if len(ids) >= limit:
            break
    return ids


async def find_by_ids(collection: Any, ids: list[int], projection: dict[str, Any] | None = None) -> list[dict]:
    """Documents with these ids, in id order (fetched in chunks: `$in` is fastest over a few dozen)."""
    docs: list[dict] = []
    for part in chunks(ids):
        docs.extend([doc async for doc in collection.find({"_id": {"$in": part}}, projection)])
    docs.sort(key=lambda d: d["_id"])
    return docs
