"""Workflow creations in progress, by the client's request id: progress to show, and retries made safe.

A client names its create request with a `request_id`. While the server builds the plan and
inserts the jobs, the creation's document says how far it is (`stage`, `done`, `total`); when it
ends, it names the workflow. A retry with the same id (say, after the answer was lost on the way)
gets that workflow instead of a second one, or waits for the creation still under way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import DuplicateKeyError

from api.storage import workflows
from api.storage.db import Database
from torc_client.contract import Creation
from torc_client.core.errors import NotFound

#: How often a retry looks at a creation that another request is still making.
WAIT_SECONDS = 0.5
#: A creation not heard from for this long was abandoned (its API process died): a retry starts again.
STALE_SECONDS = 120.0
FINISHED = ("done", "failed")


async def begin(db: Database, request_id: str) -> int | None:
    """Claim a creation for this request; returns the workflow id if an earlier try already made it.

    A try still under way is waited for; a failed, abandoned or unknown one is started afresh.
    """
    while True:
        doc = await db.creations.find_one({"_id": request_id})
        if doc is not None and doc["stage"] == "done":
            return doc["workflow_id"]
        if doc is None or doc["stage"] == "failed" or time.time() - doc["updated"] > STALE_SECONDS:
            fresh = {"stage": "checking", "done": 0, "total": 0, "workflow_id": None, "updated": time.time()}
            if doc is None:
                try:
                    await db.creations.insert_one({"_id": request_id, **fresh})
                    return None
                except DuplicateKeyError:  # a concurrent try inserted it first: look again
                    continue
            won = await db.creations.update_one({"_id": request_id, "updated": doc["updated"]}, {"$set": fresh})
            if won.modified_count:
                return None
            continue
        await asyncio.sleep(WAIT_SECONDS)


async def advance(db: Database, request_id: str, **fields: Any) -> None:
    """Record how far a creation is (`stage`, `done`, `total`, `workflow_id`)."""
    await db.creations.update_one({"_id": request_id}, {"$set": {**fields, "updated": time.time()}})


def reporter(db: Database, request_id: str) -> Callable[[int, int], Awaitable[None]]:
    """A progress callback for `create.create_from_plan`: records the workflow's id and the jobs stored."""

    async def report(workflow_id: int, done: int) -> None:
        await advance(db, request_id, done=done, workflow_id=workflow_id)

    return report


async def sweep(db: Database) -> int:
    """Undo the creations whose API process died while storing jobs; returns how many.

    Such a creation stopped being updated (a live one is, every batch) and left jobs that no
    workflow document names. Run when an API process starts.
    """
    undone = 0
    async for doc in db.creations.find({"stage": "inserting", "updated": {"$lt": time.time() - STALE_SECONDS}}):
        wid = doc.get("workflow_id")
        if wid is not None and await db.workflows.find_one({"_id": wid}, {"_id": 1}) is not None:
            await advance(db, doc["_id"], stage="done")  # it had finished; only the last note was lost
            continue
        if wid is not None:
            await workflows.delete_children(db, wid)
        await advance(db, doc["_id"], stage="failed")
        undone += 1
    return undone


def key(caller: str | None, request_id: str) -> str:
    """Where a creation is kept: each user's request ids are their own (`user:request_id`; just the id without users)."""
    return request_id if caller is None else f"{caller}:{request_id}"


async def get(db: Database, key: str, request_id: str) -> Creation:
    """The creation kept under `key`, answered under the `request_id` its client gave."""
    doc = await db.creations.find_one({"_id": key})
    if doc is None:
        raise NotFound("creation", request_id)
    return Creation(request_id=request_id, stage=doc["stage"], done=doc["done"], total=doc["total"],
                    workflow_id=doc.get("workflow_id"))  # fmt: skip
