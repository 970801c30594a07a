"""Torc's workflow actions under `/workflows/{id}/actions`: create, list, list the pending ones, claim one.

The same actions as `/workflow_actions` (`api.storage.actions`), in Torc's bodies: an
action's `action_config` carries its commands or its allocation settings.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import Parameter

from api.access import rules
from api.storage import Database, actions
from torc_client import contract as c
from torc_client.contract import ActionClaimed, TorcAction, TorcActionClaim
from torc_client.core.errors import InvalidRequest, NotFound

#: `action_config` keys this server reads, with their types.
CONFIG_KEYS = {"commands": list, "scheduler_id": int, "num_allocations": int, "start_one_worker_per_node": bool,
               "max_parallel_jobs": int}  # fmt: skip


class TorcActionController(Controller):
    path = "/workflows/{workflow_id:int}/actions"
    tags = ["workflow_actions"]

    @post("/", status_code=200, opt=rules.WORKFLOW)
    async def create_workflow_action(self, db: Database, workflow_id: int, data: TorcAction) -> c.WorkflowAction:
        """Add an action: `run_commands` with `action_config.commands`, or `schedule_nodes` with its scheduler."""
        return await actions.create(db, _action_create(workflow_id, data))

    @get("/", opt=rules.WORKFLOW)
    async def get_workflow_actions(self, db: Database, workflow_id: int) -> list[c.WorkflowAction]:
        """The workflow's actions."""
        return await actions.list_actions(db, workflow_id, False, None)

    @get("/pending", opt=rules.WORKFLOW)
    async def get_pending_actions(self, db: Database, workflow_id: int, trigger_type: Annotated[
            list[str] | None, Parameter(description="Only actions of these triggers.")] = None,
    ) -> list[c.WorkflowAction]:  # fmt: skip
        """The actions whose trigger fired and that nobody has executed yet."""
        pending = await actions.list_actions(db, workflow_id, True, None)
        return [a for a in pending if not trigger_type or a.trigger_type in trigger_type]

    @post("/{action_id:int}/claim", status_code=200, opt=rules.WORKFLOW)
    async def claim_action(self, db: Database, workflow_id: int, action_id: int,
                           data: TorcActionClaim) -> ActionClaimed:  # fmt: skip
        """Take a pending action to execute (409 if another claimer took it, or its trigger has not fired)."""
        if (await actions.get(db, action_id)).workflow_id != workflow_id:
            raise NotFound("workflow_action", action_id)
        await actions.claim(db, action_id, data.compute_node_id)
        return ActionClaimed(action_id=action_id, success=True)


def _action_create(workflow_id: int, action: TorcAction) -> c.WorkflowActionCreate:
    """Torc's action as this server's creation record; `action_config`'s keys are checked by type."""
    if action.workflow_id != workflow_id:
        raise InvalidRequest(f"the action names workflow {action.workflow_id} but the path says {workflow_id}")
    config: dict[str, Any] = {}
    for key, kind in CONFIG_KEYS.items():
        value = action.action_config.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidRequest(f"action_config.{key} must be {kind.__name__ if kind is not list else 'a list'}, "
                                 f"not {value!r}")  # fmt: skip
        config[key] = value
    if not all(isinstance(c, str) for c in config.get("commands", [])):
        raise InvalidRequest("action_config.commands must be a list of strings")
    return c.WorkflowActionCreate(workflow_id=workflow_id, trigger_type=action.trigger_type,
                                  action_type=action.action_type, job_ids=action.job_ids or [],
                                  persistent=bool(action.persistent), **config)  # fmt: skip
