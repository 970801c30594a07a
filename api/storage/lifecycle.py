"""Workflow-wide lifecycle: status (with lazy lease expiry) and cancellation."""

from __future__ import annotations

from api.storage import expiry, status_summary, transitions, workflows
from api.storage.db import Database, chunks
from api.storage.workflows import Event
from torc_client.contract import WorkflowStatus
from torc_client.core import states
from torc_client.core.errors import Conflict

S = states.JobStatus
#: Waiting jobs a cancellation ends at once; running ones are terminated by their runners.
_CANCELED_AT_ONCE = (S.BLOCKED, S.READY, S.PENDING)
#: Jobs canceled per transaction (each commits its jobs with their counts).
CANCEL_CHUNK = 1000


async def status(db: Database, wid: int, lease_seconds: float) -> WorkflowStatus:
    wf = await workflows.get_doc(db, wid)
    await expiry.expire_due(db, wf, lease_seconds)
    return await status_summary.with_activity(db, await workflows.status(db, wid))


async def cancel(db: Database, wid: int) -> WorkflowStatus:
    """Stop a workflow: nothing more is claimed, jobs not yet running are canceled."""
    wf = await workflows.get_doc(db, wid)
    if not wf["is_initialized"]:
        raise Conflict(f"workflow {wid} has not been initialised, so there is nothing to cancel")
    if not wf["is_canceled"]:
        await workflows.change(db, wid, {"$set": {"is_canceled": True}})
        await workflows.record(db, wid, {}, [Event("workflow", f"workflow {wid} canceled", status="canceled",
                                                   run_id=wf["run_id"])])  # fmt: skip
    for source in _CANCELED_AT_ONCE:
        ids = [d["_id"] async for d in db.jobs.find({"workflow_id": wid, "status": source.value}, {"_id": 1})]
        for part in chunks(ids, CANCEL_CHUNK):
            await db.atomic(wid, lambda db, part=part, source=source: _cancel_jobs(db, wid, part, source))
    return await status_summary.with_activity(db, await workflows.status(db, wid))


async def _cancel_jobs(db: Database, wid: int, ids: list[int], source: S) -> None:
    moved = await transitions.move(db, ids, source, S.CANCELED, sets={"active_compute_node_id": None})
    await workflows.record(db, wid, {source: -moved, S.CANCELED: moved}, [])
