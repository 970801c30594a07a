"""Torc's asynchronous tasks (`/tasks/{id}`, `/workflows/{id}/active_task`): a long operation on a workflow that a
client starts with `async=true` and then polls.

Torc queues such an operation (initialising a workflow's jobs) and runs it in the background;
this server runs it within the request, as it runs everything (no work outlives a request), so
the task is stored running, then finished (succeeded, or failed with the error) before the
answer goes back. A client polling it finds it finished at once; `active_task` finds a task
only while a request is running one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ReturnDocument

from api.storage import workflows
from api.storage.db import Database, now_ms
from torc_client.contract import Task
from torc_client.core.errors import NotFound, TorcError

#: A task not yet finished.
ACTIVE = ("queued", "running")


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
    doc = await db.tasks.find_one_and_update({"_id": tid}, {"$set": {"state": state, "finished_at_ms": now_ms(),
                                                                     "error": error}}, return_document=ReturnDocument.AFTER)  # fmt: skip
    return to_record(doc)


async def get(db: Database, tid: int) -> Task:
    doc = await db.tasks.find_one({"_id": tid})
    if doc is None:
        raise NotFound("task", tid)
    return to_record(doc)


async def active(db: Database, wid: int) -> Task | None:
    """The workflow's task under way (the latest, if several), or None."""
    await workflows.get_doc(db, wid)
    docs = [d async for d in db.tasks.find({"workflow_id": wid, "state": {"$in": list(ACTIVE)}}).sort("_id", -1)]
    return to_record(docs[0]) if docs else None
