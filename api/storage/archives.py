"""A finished run brought over from another server: job statuses, results and events restored on a workflow just
imported from the same archive's spec, so its reports read as they did where it ran.

The jobs are named, not numbered (ids differ between servers); events keep their time, and the job
ids in their data are translated to this server's. Only a workflow that has never run takes a
history: its run number, statuses and counts are set, and it is initialised, with nothing ready
(a rerun is `torc workflows reinitialize` or `torc jobs reset-status`, as for any finished run).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from api.storage import queue, transitions, workflows
from api.storage.db import Database, chunks
from torc_client.contract import ArchivedEvent, History, HistoryRestored
from torc_client.core import states
from torc_client.core.errors import Conflict, InvalidRequest


async def restore(db: Database, wid: int, history: History) -> HistoryRestored:
    """Restore `history` on workflow `wid`, which must never have run."""
    wf = await workflows.get_doc(db, wid)
    if wf["is_initialized"] or await db.results.find_one({"workflow_id": wid}, {"_id": 1}):
        raise Conflict(f"workflow {wid} has already run: a history is restored only on a workflow just imported")
    ids = {d["name"]: d["_id"] async for d in db.jobs.find({"workflow_id": wid}, {"name": 1})}
    _check(history, ids)
    statuses = {ids[name]: status for name, status in history.job_statuses.items()}
    await transitions.restore(db, wid, statuses)
    await queue.clear(db, wid)
    counts = await workflows.recount(db, wid)
    results = await _insert_results(db, wid, history, ids)
    events = await _insert_events(db, wid, history.events or [], _translation(history.job_names, ids))
    complete = states.workflow_complete(counts)
    await workflows.change(db, wid, {"$set": {"is_initialized": True, "run_id": history.run_id,
                                              "completed_run": history.run_id if complete else -1}})  # fmt: skip
    return HistoryRestored(workflow_id=wid, run_id=history.run_id, jobs=len(statuses), results=results, events=events,
                           job_counts=counts)  # fmt: skip


def _check(history: History, ids: dict[str, int]) -> None:
    named = set(history.job_statuses) | {r.job_name for r in history.results or []}
    unknown = sorted(named - set(ids))
    if unknown:
        raise InvalidRequest(f"the history names jobs the workflow does not have: {', '.join(unknown[:10])}")
    for name, status in history.job_statuses.items():
        if status not in states.ALL or status in {s.value for s in states.LEASED}:
            raise InvalidRequest(f"job {name}: status {status!r} cannot be restored (a finished run's statuses only)")
    if history.run_id < 1:
        raise InvalidRequest("a history's run_id starts at 1")


async def _insert_results(db: Database, wid: int, history: History, ids: dict[str, int]) -> int:
    rows = history.results or []
    if not rows:
        return 0
    first = await db.allocate_ids("results", len(rows))
    docs = [{"_id": first + i, "workflow_id": wid, "job_id": ids[r.job_name], "run_id": r.run_id,
             "attempt_id": r.attempt_id, "compute_node_id": None, "return_code": r.return_code, "status": r.status,
             "exec_time_minutes": r.exec_time_minutes, "completion_time": r.completion_time,
             **{k: getattr(r, k) for k in ("peak_memory_bytes", "avg_memory_bytes", "peak_cpu_percent",
                                           "avg_cpu_percent") if getattr(r, k) is not None}}
            for i, r in enumerate(rows)]  # fmt: skip
    for part in chunks(docs, 1000):
        await db.results.insert_many(part, ordered=False)
    return len(docs)


def _translation(job_names: dict[str, str], ids: dict[str, int]) -> dict[int, int]:
    """The exporting server's job ids -> this server's."""
    return {int(old): ids[name] for old, name in job_names.items() if name in ids and old.isdigit()}


def _translated(data: dict[str, Any], new_ids: dict[int, int]) -> dict[str, Any]:
    out = dict(data)
    for key in ("job_ids", "job_id"):
        value = out.get(key)
        if isinstance(value, list):
            out[key] = [new_ids.get(j, j) if isinstance(j, int) else j for j in value]
        elif isinstance(value, int):
            out[key] = new_ids.get(value, value)
    return out


async def _insert_events(db: Database, wid: int, events: list[ArchivedEvent], new_ids: dict[int, int]) -> int:
    """Append the events after the workflow's own, keeping their times (event ids are positions, as always)."""
    if not events:
        return 0
    doc = await workflows.change(db, wid, {"$inc": {"event_seq": len(events)}}, return_document=ReturnDocument.AFTER)
    first = doc["event_seq"] - len(events) + 1
    docs = [{"_id": (wid << 32) | seq, "workflow_id": wid, "seq": seq, "timestamp": e.timestamp,
             "category": e.category, "message": e.message, "data": _translated(e.data, new_ids)}
            for seq, e in enumerate(events, start=first)]  # fmt: skip
    for part in chunks(docs, 1000):
        await db.events.insert_many(part, ordered=False)
    return len(docs)
