"""What happened: results (latest per job, or every run and attempt) and the event log."""

from __future__ import annotations

from typing import Any

import msgspec

from api.storage import records, workflows
from api.storage.db import Database
from api.storage.workflows import Event
from torc_client.contract import Event as EventRecord
from torc_client.contract import Page, ResourceSample, ResourceSeries, Result
from torc_client.core.errors import NotFound
from torc_client.core.units import iso_from_epoch


async def list_results(db: Database, wid: int, filters: dict[str, Any], all_runs: bool, offset: int,
                       limit: int) -> Page[Result]:  # fmt: skip
    """Results of a workflow: by default only the latest (run, attempt) of each job."""
    await workflows.get_doc(db, wid)
    query = {"workflow_id": wid, **{k: v for k, v in filters.items() if v is not None}}
    docs = [doc async for doc in db.results.find(query, {"samples": 0})]
    docs = _sorted(docs if all_runs else _latest(docs))
    items = await with_job_names(db, [records.results.to_record(doc) for doc in docs[offset : offset + limit]])
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(docs),
                has_more=offset + len(items) < len(docs))  # fmt: skip


async def get_result(db: Database, rid: int) -> Result:
    """One result, with its job's name."""
    return (await with_job_names(db, [await records.results.get(db, rid)]))[0]


async def with_job_names(db: Database, results: list[Result]) -> list[Result]:
    """The results with their jobs' names (read by id, one request for all); a deleted job leaves None."""
    names = {d["_id"]: d["name"] for d in await workflows.find_by_ids(db.jobs, sorted({r.job_id for r in results}),
                                                                      {"name": 1})}  # fmt: skip
    return [msgspec.structs.replace(r, job_name=names.get(r.job_id)) for r in results]


async def resource_series(db: Database, wid: int, job_id: int | None, all_runs: bool, offset: int,
                          limit: int) -> Page[ResourceSeries]:  # fmt: skip
    """The time series kept with a workflow's results (`granularity: time_series`), by default the latest per job."""
    await workflows.get_doc(db, wid)
    query = {"workflow_id": wid, "samples": {"$exists": True}, **({"job_id": job_id} if job_id is not None else {})}
    heads = [doc async for doc in db.results.find(query, {"job_id": 1, "run_id": 1, "attempt_id": 1})]
    heads = _sorted(heads if all_runs else _latest(heads))
    page = heads[offset : offset + limit]
    bodies = {d["_id"]: d["samples"] for d in await workflows.find_by_ids(db.results, [d["_id"] for d in page],
                                                                         {"samples": 1})}  # fmt: skip
    items = [ResourceSeries(result_id=d["_id"], job_id=d["job_id"], run_id=d["run_id"], attempt_id=d["attempt_id"],
                            samples=[ResourceSample(*s) for s in bodies.get(d["_id"], [])]) for d in page]  # fmt: skip
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(heads),
                has_more=offset + len(items) < len(heads))  # fmt: skip


def _latest(docs: list[dict]) -> list[dict]:
    """The latest (run, attempt) of each job."""
    latest: dict[int, dict] = {}
    for doc in docs:
        best = latest.get(doc["job_id"])
        if best is None or (doc["run_id"], doc["attempt_id"], doc["_id"]) > (
                best["run_id"], best["attempt_id"], best["_id"]):  # fmt: skip
            latest[doc["job_id"]] = doc
    return list(latest.values())


def _sorted(docs: list[dict]) -> list[dict]:
    return sorted(docs, key=lambda d: (d["job_id"], d["run_id"], d["attempt_id"], d["_id"]))


def to_event(doc: dict[str, Any]) -> EventRecord:
    stamp = int(doc["timestamp"])
    return EventRecord(id=int(doc["seq"]), workflow_id=doc["workflow_id"], timestamp=stamp,
                       category=doc["category"], message=doc.get("message", ""), data=doc.get("data", {}),
                       time=iso_from_epoch(stamp / 1000))  # fmt: skip


async def events_after(db: Database, wid: int, after: int, limit: int,
                       category: str | None = None) -> Page[EventRecord]:  # fmt: skip
    """Events with id greater than `after`, oldest first: read by id, never by scanning the log."""
    wf = await workflows.get_doc(db, wid)
    last = wf.get("event_seq", 0)
    if category is not None:
        return await _events_of_category(db, wid, after, last, limit, category)
    seqs = list(range(after + 1, min(last, after + limit) + 1))
    docs = await workflows.find_by_ids(db.events, [(wid << 32) | s for s in seqs])
    items = [to_event(doc) for doc in docs]
    total = max(0, last - after)
    return Page(items=items, offset=after, max_limit=limit, count=len(items), total_count=total,
                has_more=after + len(seqs) < last)  # fmt: skip


async def _events_of_category(db: Database, wid: int, after: int, last: int, limit: int,
                              category: str) -> Page[EventRecord]:  # fmt: skip
    """Events of one category with id greater than `after`, oldest first.

    The range of `_id`s after the cursor is the workflow's log in order, so this walks that range and keeps
    the matches instead of needing an index on the category (every index slows the event inserts).
    """
    query = {"_id": {"$gt": (wid << 32) | after, "$lte": (wid << 32) | last}, "category": category}
    docs = [doc async for doc in db.events.find(query).sort("_id", 1).limit(limit + 1)]
    items = [to_event(doc) for doc in docs[:limit]]
    total = len(docs) if len(docs) <= limit else await db.events.count_documents(query)
    return Page(items=items, offset=after, max_limit=limit, count=len(items), total_count=total,
                has_more=len(docs) > limit)  # fmt: skip


async def get_event(db: Database, wid: int, seq: int) -> EventRecord:
    in_range = 0 <= wid < 2**31 and 0 <= seq < 2**32  # an event's id packs both into one 64-bit integer
    doc = await db.events.find_one({"_id": (wid << 32) | seq}) if in_range else None
    if doc is None:
        raise NotFound("event", f"{wid}/{seq}")
    return to_event(doc)


async def add_event(db: Database, wid: int, category: str, message: str, data: dict[str, Any]) -> EventRecord:
    event = Event(category, message)
    event.data = dict(data)  # any keys, `category` and `message` too
    doc = await workflows.record(db, wid, {}, [event])
    return await get_event(db, wid, doc["event_seq"])


async def delete_events(db: Database, wid: int) -> int:
    await workflows.get_doc(db, wid)
    return (await db.events.delete_many({"workflow_id": wid})).deleted_count
