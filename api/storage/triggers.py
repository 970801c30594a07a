"""Workflow-action triggers: counting what happened toward the actions that watch for it.

The lowest layer of the action machinery, written next to the changes that fire it (a job finished or
became ready, the workflow completed), so the workflow document's own write path can fire
`on_workflow_complete` without reaching up into the rest of `actions` (creating, claiming, scheduling).
"""

from __future__ import annotations

from typing import Any

from api.storage.db import Database
from torc_client.core.triggers import Trigger


async def jobs_fired(db: Database, wf: dict[str, Any], trigger: Trigger, job_ids: list[int]) -> None:
    """Count `job_ids` (which just became ready, or finished) toward the actions watching them."""
    if trigger not in wf.get("action_triggers", ()) or not job_ids:
        return
    await db.workflow_actions.update_many(
        {"workflow_id": wf["_id"], "trigger_type": trigger.value, "job_ids": {"$in": job_ids}},
        [{"$set": {"triggered": {"$setUnion": ["$triggered", {"$setIntersection": ["$job_ids", job_ids]}]}}},
         {"$set": {"trigger_count": {"$size": "$triggered"}}}],
    )  # fmt: skip


async def workflow_completed(db: Database, doc: dict[str, Any]) -> None:
    if Trigger.ON_WORKFLOW_COMPLETE in doc.get("action_triggers", ()):
        await db.workflow_actions.update_many({"workflow_id": doc["_id"], "trigger_type": Trigger.ON_WORKFLOW_COMPLETE.value},
                                              {"$set": {"trigger_count": 1}})  # fmt: skip
