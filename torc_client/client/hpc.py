"""The Client's calls for Slurm schedulers, workflow actions and scheduled allocations; `Client` inherits them."""

from __future__ import annotations

from typing import Any

from torc_client.contract import hpc as h


class HpcCalls:
    """Slurm schedulers, actions and allocations. Needs the `request` and `_page_all` methods of `Client`."""

    request: Any
    _page_all: Any

    def list_slurm_schedulers(self, workflow_id: int) -> list[h.SlurmScheduler]:
        return self._page_all("/slurm_schedulers", h.SlurmScheduler, {"workflow_id": workflow_id}, None)

    def get_slurm_scheduler(self, scheduler_id: int) -> h.SlurmScheduler:
        return self.request("GET", f"/slurm_schedulers/{scheduler_id}", h.SlurmScheduler)

    def create_slurm_scheduler(self, workflow_id: int, name: str, account: str, **fields: Any) -> h.SlurmScheduler:
        return self.request("POST", "/slurm_schedulers", h.SlurmScheduler, body=h.SlurmSchedulerCreate(
            workflow_id=workflow_id, name=name, account=account, **fields))  # fmt: skip

    def update_slurm_scheduler(self, scheduler_id: int, **changes: Any) -> h.SlurmScheduler:
        return self.request("PATCH", f"/slurm_schedulers/{scheduler_id}", h.SlurmScheduler,
                            body=h.SlurmSchedulerUpdate(**changes))  # fmt: skip

    def delete_slurm_scheduler(self, scheduler_id: int) -> h.SlurmScheduler:
        return self.request("DELETE", f"/slurm_schedulers/{scheduler_id}", h.SlurmScheduler)

    def list_actions(self, workflow_id: int, *, pending: bool = False,
                     compute_node_id: int | None = None) -> list[h.WorkflowAction]:  # fmt: skip
        return self.request("GET", "/workflow_actions", list[h.WorkflowAction], params={
            "workflow_id": workflow_id, "pending": pending, "compute_node_id": compute_node_id})  # fmt: skip

    def create_action(self, record: h.WorkflowActionCreate) -> h.WorkflowAction:
        return self.request("POST", "/workflow_actions", h.WorkflowAction, body=record)

    def get_action(self, action_id: int) -> h.WorkflowAction:
        return self.request("GET", f"/workflow_actions/{action_id}", h.WorkflowAction)

    def delete_action(self, action_id: int) -> h.WorkflowAction:
        return self.request("DELETE", f"/workflow_actions/{action_id}", h.WorkflowAction)

    def claim_action(self, action_id: int, compute_node_id: int | None = None) -> h.WorkflowAction:
        """Take a pending action to execute; ConflictError if another claimer has it."""
        return self.request("POST", f"/workflow_actions/{action_id}/claim", h.WorkflowAction,
                            body=h.ActionClaim(compute_node_id=compute_node_id))  # fmt: skip

    def list_scheduled_compute_nodes(self, workflow_id: int, *, status: str | None = None) -> list[h.ScheduledComputeNode]:
        return self._page_all("/scheduled_compute_nodes", h.ScheduledComputeNode,
                              {"workflow_id": workflow_id, "status": status}, None)  # fmt: skip

    def create_scheduled_compute_node(self, record: h.ScheduledComputeNodeCreate) -> h.ScheduledComputeNode:
        return self.request("POST", "/scheduled_compute_nodes", h.ScheduledComputeNode, body=record)

    def update_scheduled_compute_node(self, node_id: int, status: str) -> h.ScheduledComputeNode:
        return self.request("PATCH", f"/scheduled_compute_nodes/{node_id}", h.ScheduledComputeNode,
                            body=h.ScheduledComputeNodeUpdate(status=status))  # fmt: skip
