"""The filters of Torc's list calls that name a job: the files it writes, the resource requirements it uses."""

from __future__ import annotations

from typing import Any

from api.storage import jobs
from api.storage.db import Database
from torc_client.core.errors import NotFound


async def job_of(db: Database, wid: int, jid: int) -> dict[str, Any]:
    """Job `jid`, which must belong to workflow `wid`."""
    doc = await jobs.get_doc(db, jid)
    if doc["workflow_id"] != wid:
        raise NotFound("job", jid)
    return doc


async def produced_by(db: Database, wid: int, jid: int | None) -> dict[str, Any]:
    """The part of a file query that keeps the files job `jid` writes (nothing when no job is named)."""
    if jid is None:
        return {}
    return {"_id": {"$in": (await job_of(db, wid, jid)).get("output_files", [])}}


async def used_by(db: Database, wid: int, jid: int | None) -> dict[str, Any]:
    """The part of a resource-requirements query that keeps the group job `jid` uses."""
    if jid is None:
        return {}
    return {"_id": (await job_of(db, wid, jid)).get("rr_id")}
