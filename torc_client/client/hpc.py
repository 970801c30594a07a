"""The Client's calls for Slurm schedulers, workflow actions and scheduled allocations; `Client` inherits them."""

from __future__ import annotations

from typing import Any

from torc_client import contract as c


class HpcCalls:
    """Slurm schedulers, actions and allocations. Needs the `request` and `_page_all` methods of `Client`."""

    request: Any
    _page_all: Any

    def list_slurm_schedulers(self, workflow_id: int) -> list[c.SlurmScheduler]:
        return self._page_all("/slurm_schedulers", c.SlurmScheduler, {"workflow_id": workflow_id}, None)

    def get_slurm_scheduler(self, scheduler_id: int) -> c.SlurmScheduler:
        return self.request("GET", f"/slurm_schedulers/{scheduler_id}", c.SlurmScheduler)

    def create_slurm_scheduler(self, workflow_id: int, name: str, account: str, **fields: Any) -> c.SlurmScheduler:
        return self.request("POST", "/slurm_schedulers", c.SlurmScheduler, body=c.SlurmSchedulerCreate(
            workflow_id=workflow_id, name=name, account=account, **fields))  # fmt: skip

    def update_slurm_scheduler(self, scheduler_id: int, **changes: Any) -> c.SlurmScheduler:
        return self.request("PATCH", f"/slurm_schedulers/{scheduler_id}", c.SlurmScheduler,
                            body=c.SlurmSchedulerUpdate(**changes))  # fmt: skip

    def delete_slurm_scheduler(self, scheduler_id: int) -> c.SlurmScheduler:
        return self.request("DELETE", f"/slurm_schedulers/{scheduler_id}", c.SlurmScheduler)

    def list_actions(self, workflow_id: int, *, pending: bool = False,
                     compute_node_id: int | None = None) -> list[c.WorkflowAction]:  # fmt: skip
        return self.request("GET", "/workflow_actions", list[c.WorkflowAction], params={
            "workflow_id": workflow_id, "pending": pending, "compute_node_id": compute_node_id})  # fmt: skip

    def create_action(self, record: c.WorkflowActionCreate) -> c.WorkflowAction:
        return self.request("POST", "/workflow_actions", c.WorkflowAction, body=record)

    def get_action(self, action_id: int) -> c.WorkflowAction:
        return self.request("GET", f"/workflow_actions/{action_id}", c.WorkflowAction)

    def delete_action(self, action_id: int) -> c.WorkflowAction:
        return self.request("DELETE", f"/workflow_actions/{action_id}", c.WorkflowAction)

    def claim_action(self, action_id: int, compute_node_id: int | None = None) -> c.WorkflowAction:
        """Take a pending action to execute; ConflictError if another claimer has it."""
        return self.request("POST", f"/workflow_actions/{action_id}/claim", c.WorkflowAction,
                            body=c.ActionClaim(compute_node_id=compute_node_id))  # fmt: skip

    def list_scheduled_compute_nodes(self, workflow_id: int, *, status: str | None = None) -> list[c.ScheduledComputeNode]:
        return self._page_all("/scheduled_compute_nodes", c.ScheduledComputeNode,
                              {"workflow_id": workflow_id, "status": status}, None)  # fmt: skip

    def create_scheduled_compute_node(self, record: c.ScheduledComputeNodeCreate) -> c.ScheduledComputeNode:
        return self.request("POST", "/scheduled_compute_nodes", c.ScheduledComputeNode, body=record)

    def update_scheduled_compute_node(self, node_id: int, status: str) -> c.ScheduledComputeNode:
        return self.request("PATCH", f"/scheduled_compute_nodes/{node_id}", c.ScheduledComputeNode,
                            body=c.ScheduledComputeNodeUpdate(status=status))  # fmt: skip
