"""Slurm schedulers, workflow actions and scheduled compute nodes (allocations)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, delete, get, post, route
from litestar.enums import HttpMethod

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset, WorkflowId
from api.routes.records import _fields
from api.routes.workflows import _changes
from api.storage import Database, actions, edits
from torc_client import contract as c
from torc_client.core.errors import InvalidRequest
from torc_client.core.units import parse_walltime


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    if "walltime" in fields:
        try:
            parse_walltime(fields["walltime"])
        except ValueError as error:
            raise InvalidRequest(str(error)) from None
    if fields.get("nodes", 1) < 1:
        raise InvalidRequest(f"nodes must be at least 1, got {fields['nodes']}")
    return fields


class SlurmSchedulerController(Controller):
    path = "/slurm_schedulers"
    tags = ["slurm_schedulers"]

    @get("/", opt=rules.LIST)
    async def list_slurm_schedulers(self, db: Database, workflow_id: WorkflowId, offset: Offset = 0,
                                    limit: Limit = DEFAULT_LIMIT) -> c.Page[c.SlurmScheduler]:  # fmt: skip
        """A workflow's Slurm schedulers (allocation shapes)."""
        return await actions.slurm_schedulers.list_page(db, {"workflow_id": workflow_id}, offset, limit)

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_slurm_scheduler(self, db: Database, data: c.SlurmSchedulerCreate) -> c.SlurmScheduler:
        """Add a Slurm scheduler to a workflow."""
        return await edits.create_in_workflow(db, actions.slurm_schedulers, _checked(_fields(data)))

    @get("/{scheduler_id:int}", opt=rules.record("slurm_schedulers", "scheduler_id"))
    async def get_slurm_scheduler(self, db: Database, scheduler_id: int) -> c.SlurmScheduler:
        """One Slurm scheduler."""
        return await actions.slurm_schedulers.get(db, scheduler_id)

    @route("/{scheduler_id:int}", http_method=[HttpMethod.PUT, HttpMethod.PATCH], opt=rules.record("slurm_schedulers", "scheduler_id"))
    async def update_slurm_scheduler(self, db: Database, scheduler_id: int,
                                     data: c.SlurmSchedulerUpdate) -> c.SlurmScheduler:  # fmt: skip
        """Change a Slurm scheduler; allocations submitted later use the new values."""
        return await actions.slurm_schedulers.update(db, scheduler_id, _checked(_changes(data)))

    @delete("/{scheduler_id:int}", status_code=200, opt=rules.record("slurm_schedulers", "scheduler_id"))
    async def delete_slurm_scheduler(self, db: Database, scheduler_id: int) -> c.SlurmScheduler:
        """Delete a Slurm scheduler."""
        return await actions.slurm_schedulers.delete(db, scheduler_id)


class WorkflowActionController(Controller):
    path = "/workflow_actions"
    tags = ["workflow_actions"]

    @get("/", opt=rules.LIST)
    async def list_workflow_actions(self, db: Database, workflow_id: WorkflowId, pending: bool = False,
                                    compute_node_id: int | None = None) -> list[c.WorkflowAction]:  # fmt: skip
        """A workflow's actions; `pending` keeps those this compute node (or the submitting host) could claim."""
        return await actions.list_actions(db, workflow_id, pending, compute_node_id)

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_workflow_action(self, db: Database, data: c.WorkflowActionCreate) -> c.WorkflowAction:
        """Add an action to a workflow (jobs and scheduler by id); counted at once if its run is open."""
        return await actions.create(db, data)

    @get("/{action_id:int}", opt=rules.record("workflow_actions", "action_id"))
    async def get_workflow_action(self, db: Database, action_id: int) -> c.WorkflowAction:
        """One workflow action."""
        return await actions.get(db, action_id)

    @delete("/{action_id:int}", status_code=200, opt=rules.record("workflow_actions", "action_id"))
    async def delete_workflow_action(self, db: Database, action_id: int) -> c.WorkflowAction:
        """Delete a workflow action."""
        return await actions.delete(db, action_id)

    @post("/{action_id:int}/claim", status_code=200, opt=rules.record("workflow_actions", "action_id"))
    async def claim_workflow_action(self, db: Database, action_id: int, data: c.ActionClaim) -> c.WorkflowAction:
        """Take a pending action to execute (409 if another claimer took it, or it is not triggered)."""
        return await actions.claim(db, action_id, data.compute_node_id)


class ScheduledComputeNodeController(Controller):
    path = "/scheduled_compute_nodes"
    tags = ["scheduled_compute_nodes"]

    @get("/", opt=rules.LIST)
    async def list_scheduled_compute_nodes(self, db: Database, workflow_id: WorkflowId, status: str | None = None,
                                           offset: Offset = 0,
                                           limit: Limit = DEFAULT_LIMIT) -> c.Page[c.ScheduledComputeNode]:  # fmt: skip
        """A workflow's allocations, as submitted to the scheduler."""
        return await actions.scheduled_compute_nodes.list_page(db, {"workflow_id": workflow_id, "status": status},
                                                               offset, limit)  # fmt: skip

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_scheduled_compute_node(self, db: Database,
                                            data: c.ScheduledComputeNodeCreate) -> c.ScheduledComputeNode:  # fmt: skip
        """Record an allocation just submitted."""
        return await actions.record_allocation(db, _fields(data))

    @get("/{node_id:int}", opt=rules.record("scheduled_compute_nodes", "node_id"))
    async def get_scheduled_compute_node(self, db: Database, node_id: int) -> c.ScheduledComputeNode:
        """One allocation."""
        return await actions.scheduled_compute_nodes.get(db, node_id)

    @route("/{node_id:int}", http_method=[HttpMethod.PUT, HttpMethod.PATCH], opt=rules.record("scheduled_compute_nodes", "node_id"))
    async def update_scheduled_compute_node(self, db: Database, node_id: int,
                                            data: c.ScheduledComputeNodeUpdate) -> c.ScheduledComputeNode:  # fmt: skip
        """Change an allocation's status (pending, active, complete)."""
        return await actions.scheduled_compute_nodes.update(db, node_id, _changes(data))
