"""Deleting every record of one kind in a workflow (Torc's `DELETE /jobs?workflow_id=` and the like).

Each kind keeps the rules of deleting one record: jobs only before the workflow's first run;
files and user_data taken out of the jobs that use them before the first run, and refused
after it while jobs use them; resource requirements refused while jobs use them (the
workflow's `default` stays); compute nodes refused while any is active. A refusal is
decided before anything is deleted. Each answer is how many records went.
"""

from __future__ import annotations

from typing import Any

from api.storage import actions, edits, history, records, workflows
from api.storage.db import Database
from torc_client.core.errors import Conflict, NotFound
from torc_client.core.units import count

#: The kinds that can be deleted together, by collection name.
KINDS = ("jobs", "files", "user_data", "resource_requirements", "results", "events", "compute_nodes",
         "scheduled_compute_nodes", "slurm_schedulers", "local_schedulers")  # fmt: skip


async def delete_all(db: Database, kind: str, wid: int) -> int:
    """Delete every `kind` record of workflow `wid`; returns how many were deleted."""
    wf = await workflows.get_doc(db, wid)
    if kind == "jobs":
        return await edits.delete_all_jobs(db, wid)
    if kind in ("files", "user_data"):
        return await _referenced(db, wf, kind)
    if kind == "resource_requirements":
        return await _requirements(db, wid)
    if kind == "events":
        return await history.delete_events(db, wid)
    if kind == "compute_nodes":
        active = await db.compute_nodes.count_documents({"workflow_id": wid, "is_active": True})
        if active:
            raise Conflict(f"workflow {wid} has {count(active, 'active compute node')}: their runners still work; "
                           "stop them (or let their leases run out) first")  # fmt: skip
    if kind == "slurm_schedulers":
        return sum([await _one(actions.slurm_schedulers, db, rid) for rid in await _ids(db, kind, wid)])
    return (await db.collection(kind).delete_many({"workflow_id": wid})).deleted_count


async def _referenced(db: Database, wf: dict[str, Any], kind: str) -> int:
    """Files or user_data: refused after the first run while any job reads or writes one of them."""
    fields = (f"input_{kind}", f"output_{kind}")
    if wf["is_initialized"]:
        users = await db.jobs.count_documents({"workflow_id": wf["_id"], "$or": [{f: {"$ne": []}} for f in fields]})
        if users:
            raise Conflict(f"{count(users, 'job')} of workflow {wf['_id']}, which has run, read or write {kind}: "
                           "their inputs and outputs are fixed at the first run, so none is deleted")  # fmt: skip
    delete = edits.delete_file if kind == "files" else edits.delete_user_data
    return sum([await _one_by(delete, db, rid) for rid in await _ids(db, kind, wf["_id"])])


async def _requirements(db: Database, wid: int) -> int:
    """Every resource requirement but the workflow's `default`, refused while jobs use any of them."""
    ids = [d["_id"] async for d in db.resource_requirements.find({"workflow_id": wid, "name": {"$ne": edits.DEFAULT_RR}},
                                                                 {"_id": 1})]  # fmt: skip
    users = await db.jobs.count_documents({"workflow_id": wid, "rr_id": {"$in": ids}}) if ids else 0
    if users:
        raise Conflict(f"{count(users, 'job')} of workflow {wid} use resource requirements other than "
                       f"{edits.DEFAULT_RR!r}: give them other requirements or delete them first")  # fmt: skip
    return sum([await _one_by(edits.delete_resources, db, rid) for rid in ids])


async def _ids(db: Database, kind: str, wid: int) -> list[int]:
    return [d["_id"] async for d in db.collection(kind).find({"workflow_id": wid}, {"_id": 1}).sort("_id", 1)]


async def _one(store: records.Store, db: Database, rid: int) -> int:
    return await _one_by(store.delete, db, rid)


async def _one_by(delete: Any, db: Database, rid: int) -> int:
    """1 if the record went, 0 if another request deleted it first."""
    try:
        await delete(db, rid)
    except NotFound:
        return 0
    return 1
