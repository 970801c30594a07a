"""Removing a deleted workflow's documents: at once for the caller, in the background for the database.

Deleting a workflow removes its workflow document at once, so it is gone for every request,
and leaves a purge document behind naming it. Its jobs, results, events and the rest are then
removed collection by collection. The embedded database removes a few thousand documents a
second, so a million-job workflow takes minutes: the request waits for a small workflow's purge
(up to `ApiSettings.delete_wait_seconds`) and leaves a big one running. A purge whose API process
died is finished by the next API process that starts. Removing twice is harmless, so two
processes finishing the same purge only cost time.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pymongo.errors import PyMongoError

from api.storage import workflows
from api.storage.db import Database
from api.storage.workflows import CHILD_COLLECTIONS
from torc_client.contract import Workflow

log = logging.getLogger("torc.api")
#: Purges running in this process (a task nobody references may be collected before it ends).
_RUNNING: dict[int, asyncio.Task] = {}


async def delete(db: Database, wid: int, wait_seconds: float) -> Workflow:
    """Delete a workflow: gone at once for every request; its documents removed within `wait_seconds`, or later.

    The purge document is written before the workflow document goes, so a crash in between
    leaves a purge to finish, never documents that nothing names.
    """
    record = await workflows.get(db, wid)
    await db.purges.update_one({"_id": wid}, {"$set": {"updated": time.time()}}, upsert=True)
    await db.access_groups.update_many({"workflows": wid}, {"$pull": {"workflows": wid}})
    await db.workflows.delete_one({"_id": wid})
    await wait(start(db, wid), wait_seconds)
    return record


def start(db: Database, wid: int) -> asyncio.Task:
    """Remove `wid`'s documents in the background of this process; returns the task (one per workflow)."""
    task = _RUNNING.get(wid)
    if task is None or task.done():
        task = asyncio.create_task(_purge(db, wid), name=f"purge workflow {wid}")
        _RUNNING[wid] = task
        task.add_done_callback(lambda done: _RUNNING.pop(wid, None) if _RUNNING.get(wid) is done else None)
    return task


async def wait(task: asyncio.Task, seconds: float) -> bool:
    """Wait up to `seconds` for a purge; True if it finished. The purge goes on if the caller gives up."""
    try:
        await asyncio.wait_for(asyncio.shield(task), seconds)
    except TimeoutError:
        return False
    return True


async def _purge(db: Database, wid: int) -> None:
    try:
        for name in CHILD_COLLECTIONS:
            await db.collection(name).delete_many({"workflow_id": wid})
            await db.purges.update_one({"_id": wid}, {"$set": {"updated": time.time()}})
        await db.purges.delete_one({"_id": wid})
    except PyMongoError as error:  # the next API process to start finishes it
        log.warning("removing the documents of deleted workflow %s stopped (%s); a restarted server finishes it",
                    wid, error)  # fmt: skip


async def pending(db: Database) -> list[int]:
    """The workflows whose documents are still being removed."""
    return [doc["_id"] async for doc in db.purges.find({}, {"_id": 1})]


async def resume(db: Database) -> list[asyncio.Task]:
    """Finish, in the background, the purges that an API process left (run when an API process starts)."""
    return [start(db, wid) for wid in await pending(db)]


async def stop() -> None:
    """Cancel this process's purges (shutting down); their purge documents stay for the next start."""
    tasks = list(_RUNNING.values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
