"""Torc's record operations that this server's own clients do differently: events listed by offset and created
with a free-form body, results stored apart from a completion, a compute node's record updated whole, and
failure handlers created and deleted one at a time (a spec creates them here)."""

from __future__ import annotations

from typing import Any

import msgspec
from pymongo.errors import BulkWriteError

from api.storage import expiry, history, jobs, leases, records, workflows
from api.storage.db import Database
from torc_client.contract import (
    ComputeNode,
    Event,
    FailureRule,
    Page,
    Result,
    TorcEvent,
    TorcFailureHandler,
    TorcResult,
)
from torc_client.core.errors import Conflict, InvalidRequest, LeaseExpired, NotFound

#: MongoDB's error code for an insert that a unique index refuses.
DUPLICATE_KEY = 11000


async def events_page(db: Database, wid: int, offset: int, limit: int, category: str | None,
                      after_timestamp: int | None) -> Page[Event]:  # fmt: skip
    """A workflow's events, oldest first, optionally of one category or after a time (milliseconds since the epoch)."""
    await workflows.get_doc(db, wid)
    query: dict[str, Any] = {"_id": {"$gt": wid << 32, "$lt": (wid + 1) << 32}}
    if category is not None:
        query["category"] = category
    if after_timestamp is not None:
        query["timestamp"] = {"$gt": after_timestamp}
    docs = [doc async for doc in db.events.find(query).sort("_id", 1)]
    items = [to_torc_event(doc) for doc in docs[offset : offset + limit]]
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(docs),
                has_more=offset + len(items) < len(docs))  # fmt: skip


async def add_event(db: Database, event: TorcEvent) -> Event:
    """Torc's event: its `data` is kept whole; a `category` or `message` in it is also the event's own."""
    category, message = _named(event.data, "user", "")
    made = await history.add_event(db, event.workflow_id, category, message, event.data)
    return await get_event(db, (event.workflow_id << 32) | made.id)


def to_torc_event(doc: dict[str, Any]) -> Event:
    """An event with the id Torc's `/events/{id}` routes take: unique across workflows (this server numbers events
    within their workflow; the workflow's own event routes use that number)."""
    return msgspec.structs.replace(history.to_event(doc), id=doc["_id"])


async def get_event(db: Database, event_id: int) -> Event:
    doc = await db.events.find_one({"_id": event_id})
    if doc is None:
        raise NotFound("event", event_id)
    return to_torc_event(doc)


async def update_event(db: Database, event_id: int, event: TorcEvent) -> Event:
    """Replace an event's data (its `category` and `message` follow the data's, when it names them)."""
    before = await get_event(db, event_id)
    if event.workflow_id != before.workflow_id:
        raise InvalidRequest(f"event {event_id} is of workflow {before.workflow_id}, not {event.workflow_id}")
    category, message = _named(event.data, before.category, before.message)
    await db.events.update_one({"_id": event_id}, {"$set": {"data": event.data, "category": category,
                                                            "message": message}})  # fmt: skip
    return await get_event(db, event_id)


async def delete_event(db: Database, event_id: int) -> Event:
    doc = await db.events.find_one_and_delete({"_id": event_id})
    if doc is None:
        raise NotFound("event", event_id)
    return to_torc_event(doc)


def _named(data: dict[str, Any], category: str, message: str) -> tuple[str, str]:
    """The category and message an event's data names (else those given)."""
    category, message = data.get("category", category), data.get("message", message)
    if not isinstance(category, str) or not isinstance(message, str):
        raise InvalidRequest("an event's data.category and data.message, when given, must be strings")
    return category, message


async def add_result(db: Database, result: TorcResult) -> Result:
    """A result stored on its own (a job's completion through `complete_job` stores its result itself)."""
    job = await jobs.get_doc(db, result.job_id)
    if job["workflow_id"] != result.workflow_id:
        raise InvalidRequest(f"job {result.job_id} is of workflow {job['workflow_id']}, not {result.workflow_id}")
    if result.compute_node_id is not None:
        node = await records.compute_nodes.get_doc(db, result.compute_node_id)
        if node["workflow_id"] != result.workflow_id:
            raise InvalidRequest(f"compute node {result.compute_node_id} is of workflow {node['workflow_id']}, "
                                 f"not {result.workflow_id}")  # fmt: skip
    doc = {"workflow_id": result.workflow_id, "job_id": result.job_id, "run_id": result.run_id,
           "attempt_id": result.attempt_id or job.get("attempt_id", 1), "compute_node_id": result.compute_node_id,
           "return_code": result.return_code, "status": result.status, "exec_time_minutes": result.exec_time_minutes,
           "completion_time": result.completion_time, "peak_memory_bytes": result.peak_memory_bytes,
           "avg_memory_bytes": result.avg_memory_bytes, "peak_cpu_percent": result.peak_cpu_percent,
           "avg_cpu_percent": result.avg_cpu_percent}  # fmt: skip
    same = {k: doc[k] for k in ("workflow_id", "job_id", "run_id", "attempt_id")}
    try:
        return (await history.with_job_names(db, [await records.results.create(db, doc)]))[0]
    except BulkWriteError as error:  # one result per job, run and attempt (a unique index)
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise
    kept = await db.results.find_one(same, {"_id": 1})
    raise Conflict(f"job {result.job_id} already has a result for run {result.run_id}, attempt {same['attempt_id']}"
                   + (f" (result {kept['_id']})" if kept else "") + ": delete that one first")


async def update_compute_node(db: Database, node_id: int, is_active: bool | None, lease_seconds: float) -> ComputeNode:
    """Torc's whole-record update of a compute node: `is_active: false` is its runner's exit (`leases.deactivate`),
    anything else renews an active node's lease (Torc's runners send no heartbeats). Other fields are the server's."""
    doc = await records.compute_nodes.get_doc(db, node_id)
    if is_active is False and doc.get("is_active"):
        return await leases.deactivate(db, node_id)
    if doc.get("is_active"):
        try:
            await expiry.renew(db, node_id, lease_seconds)
        except LeaseExpired:  # its jobs went back to the queue: the record says so (inactive)
            pass
    return await records.compute_nodes.get(db, node_id)


async def create_failure_handler(db: Database, handler: TorcFailureHandler) -> dict[str, Any]:
    """A failure handler added to a workflow, its rules given as Torc does (a JSON array, as text) or as a list."""
    rules = handler.rules
    if isinstance(rules, str):
        try:
            rules = msgspec.json.decode(rules, type=list[FailureRule], strict=True)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise InvalidRequest(f"failure handler {handler.name!r}: rules must be a JSON array of rules "
                                 f"(exit_codes, match_all_exit_codes, recovery_script, max_retries): {error}") from None
    await workflows.get_doc(db, handler.workflow_id)
    if await db.failure_handlers.find_one({"workflow_id": handler.workflow_id, "name": handler.name}, {"_id": 1}):
        raise Conflict(f"workflow {handler.workflow_id} already has a failure handler named {handler.name!r}")
    doc = {"workflow_id": handler.workflow_id, "name": handler.name,
           "rules": [msgspec.structs.asdict(rule) for rule in rules]}  # fmt: skip
    return await records.failure_handlers.create(db, doc)


async def delete_failure_handler(db: Database, hid: int) -> dict[str, Any]:
    """Delete a failure handler that no job uses."""
    doc = await records.failure_handlers.get_doc(db, hid)
    users = [d["name"] async for d in db.jobs.find({"workflow_id": doc["workflow_id"], "fh_id": hid}, {"name": 1})]
    if users:
        raise Conflict(f"failure handler {hid} ({doc['name']}) is used by {len(users)} job(s) of workflow "
                       f"{doc['workflow_id']}, e.g. {', '.join(sorted(users)[:5])}; it cannot be deleted")  # fmt: skip
    return await records.failure_handlers.delete(db, hid)


async def update_result(db: Database, rid: int, result: TorcResult) -> Result:
    """Change a stored result's outcome and measures (its job, run and attempt stay; no job status changes)."""
    doc = await records.results.get_doc(db, rid)
    for name in ("workflow_id", "job_id", "run_id"):
        if getattr(result, name) != doc[name]:
            raise InvalidRequest(f"result {rid} is of {name} {doc[name]}, not {getattr(result, name)}: a result's "
                                 "job, workflow and run do not change")  # fmt: skip
    changes = {name: getattr(result, name) for name in ("return_code", "status", "exec_time_minutes",
                                                        "completion_time", "peak_memory_bytes", "avg_memory_bytes",
                                                        "peak_cpu_percent", "avg_cpu_percent")}  # fmt: skip
    return (await history.with_job_names(db, [await records.results.update(db, rid, changes)]))[0]
