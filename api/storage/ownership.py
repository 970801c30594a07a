"""Which workflow a record belongs to, and whether a user may use it: the lookups behind access control.

Every record (job, file, user_data, result, compute node, ...) belongs to exactly one
workflow, named by its own `workflow_id`. Access control asks this module, never a
request, which workflow that is.
"""

from __future__ import annotations

from api.storage import groups
from api.storage.db import Database

#: Collections whose records belong to one workflow each.
COLLECTIONS = frozenset({
    "jobs", "files", "user_data", "resource_requirements", "failure_handlers", "results", "compute_nodes",
    "slurm_schedulers", "workflow_actions", "scheduled_compute_nodes", "events",
})  # fmt: skip


async def workflow_of(db: Database, collection: str, record_id: int) -> int | None:
    """The workflow record `record_id` of `collection` belongs to (None: no such record)."""
    doc = await db.collection(collection).find_one({"_id": record_id}, {"workflow_id": 1})
    return None if doc is None else doc.get("workflow_id")


async def workflows_of(db: Database, collection: str, record_ids: list[int]) -> set[int]:
    """The workflows the existing records among `record_ids` belong to."""
    found = db.collection(collection).find({"_id": {"$in": sorted(set(record_ids))}}, {"workflow_id": 1})
    return {doc.get("workflow_id") async for doc in found}


async def owner_of(db: Database, wid: int) -> tuple[bool, str | None]:
    """Whether workflow `wid` exists, and its owner."""
    doc = await db.workflows.find_one({"_id": wid}, {"user": 1})
    return (False, None) if doc is None else (True, doc.get("user"))


async def may_use(db: Database, wid: int, owner: str | None, user: str | None, admins: frozenset[str]) -> bool:
    """Whether `user` may use workflow `wid`, owned by `owner`: its owner, an admin, or a member of a group it is shared with."""
    return await groups.may_use(db, {"_id": wid, "user": owner}, user, admins)
