"""Torc's status summary of a workflow: its runners and allocations, and the time its jobs ran.

The job counts come from the workflow document; these figures are counted where they live:
active compute nodes and scheduled allocations by small equality lookups, and the run's
execution time from its results (read once per status request, in proportion to them).
"""

from __future__ import annotations

import msgspec

from api.storage.db import Database
from torc_client.contract import WorkflowStatus
from torc_client.core.allocations import AllocationStatus


async def with_activity(db: Database, status: WorkflowStatus) -> WorkflowStatus:
    """`status` with its active compute nodes, active and pending allocations, and total execution time."""
    wid = status.workflow_id
    active_nodes = await db.compute_nodes.count_documents({"workflow_id": wid, "is_active": True})
    active_allocations = await db.scheduled_compute_nodes.count_documents({"workflow_id": wid, "status": AllocationStatus.ACTIVE.value})
    pending_allocations = await db.scheduled_compute_nodes.count_documents({"workflow_id": wid, "status": AllocationStatus.PENDING.value})
    minutes = 0.0
    async for doc in db.results.find({"workflow_id": wid, "run_id": status.run_id}, {"exec_time_minutes": 1}):
        minutes += float(doc.get("exec_time_minutes") or 0.0)
    return msgspec.structs.replace(status, active_compute_nodes=active_nodes, active_scheduled_nodes=active_allocations,
                                   pending_scheduled_nodes=pending_allocations, total_exec_time_minutes=minutes)  # fmt: skip
