"""Torc's asynchronous tasks (`/tasks/{id}`, `/workflows/{id}/active_task`): a long operation on a workflow that a
client starts with `async=true` and then polls.

Torc queues such an operation (initialising a workflow's jobs) and runs it in the background;
this server runs it within the request, as it runs everything (no work outlives a request), so
the task is stored running, then finished (succeeded, or failed with the error) before the
answer goes back. A client polling it finds it finished at once; `active_task` finds a task
only while a request is running one. A task whose request never finished (its API process was
killed) is found failed once it has been running longer than an initialisation may hold its
workflow (`initialize.HOLD_SECONDS`): by then another initialisation may take the workflow over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ReturnDocument

from api.storage import initialize, workflows
from api.storage.db import Database, now_ms
from torc_client.contract import Task
from torc_client.core.errors import NotFound, TorcError

#: A task not yet finished.
ACTIVE = ("queued", "running")
#: How long a task may run before it is taken for abandoned (its request died), in milliseconds.
ABANDONED_AFTER_MS = int(initialize.HOLD_SECONDS * 1000)
ABANDONED = "its request ended before it finished (the API process stopped); run the operation again"


def to_record(doc: dict[str, Any]) -> Task:
    """A task from its document, where its state is `state` (`status` is kept for jobs' alone)."""
    fields = {k: doc.get(k) for k in Task.__struct_fields__ if k not in ("id", "status")}
    return Task(id=doc["_id"], status=doc["state"], **fields)


async def run(db: Database, wid: int, operation: str, work: Callable[[], Awaitable[Any]]) -> Task:
    """Run `work` as a task of the workflow: stored running, then succeeded, or failed with the refusal's message
    (an unexpected error is stored as failed too, then raised)."""
    await workflows.get_doc(db, wid)
    tid = await db.allocate_ids("tasks", 1)
    stamp = now_ms()
    await db.tasks.insert_one({"_id": tid, "workflow_id": wid, "operation": operation, "state": "running",
                               "created_at_ms": stamp, "started_at_ms": stamp})  # fmt: skip
    try:
        await work()
    except TorcError as error:
        return await _finish(db, tid, "failed", str(error))
    except Exception as error:
        await _finish(db, tid, "failed", f"{type(error).__name__}: {error}")
        raise
    return await _finish(db, tid, "succeeded", None)


async def _finish(db: Database, tid: int, state: str, error: str | None) -> Task:
    done = {"state": state, "finished_at_ms": now_ms(), "error": error}
    doc = await db.tasks.find_one_and_update({"_id": tid}, {"$set": done}, return_document=ReturnDocument.AFTER)
    return to_record(doc)


async def get(db: Database, tid: int, now: int | None = None) -> Task:
    doc = await db.tasks.find_one({"_id": tid})
    if doc is None:
        raise NotFound("task", tid)
    return to_record(await _settled(db, doc, now or now_ms()))


async def active(db: Database, wid: int, now: int | None = None) -> Task | None:
    """The workflow's task under way (the latest, if several), or None."""
    await workflows.get_doc(db, wid)
    stamp = now or now_ms()
    found = db.tasks.find({"workflow_id": wid, "state": {"$in": list(ACTIVE)}}).sort("_id", -1)
    docs = [d for d in [await _settled(db, d, stamp) async for d in found] if d["state"] in ACTIVE]
    return to_record(docs[0]) if docs else None


async def _settled(db: Database, doc: dict[str, Any], now: int) -> dict[str, Any]:
    """The task, failed if it was abandoned (running for longer than `ABANDONED_AFTER_MS` at `now`)."""
    if doc["state"] not in ACTIVE or now - doc["started_at_ms"] <= ABANDONED_AFTER_MS:
        return doc
    done = {"state": "failed", "finished_at_ms": now, "error": ABANDONED}
    updated = await db.tasks.find_one_and_update({"_id": doc["_id"], "state": doc["state"]}, {"$set": done},
                                                 return_document=ReturnDocument.AFTER)  # fmt: skip
    return updated or await db.tasks.find_one({"_id": doc["_id"]}) or {**doc, **done}
