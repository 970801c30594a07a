"""The Client's reads and deletes of single records that Torc's commands address by id; `Client` inherits them."""

from __future__ import annotations

from typing import Any

from torc_client import contract as c


class RecordCalls:
    """One record by id. Needs the `request` and `_page_all` methods of `Client`."""

    request: Any
    _page_all: Any

    def create_empty_workflow(self, name: str, *, description: str | None = None, user: str = "",
                              working_dir: str | None = None, **settings: Any) -> c.Workflow:  # fmt: skip
        """A workflow with no jobs yet (and its `default` resource requirements), to fill through the API.

        `settings` are the other fields of Torc's workflow: `project`, `metadata`, `jobs_sort_method`,
        `use_pending_failed`, `slurm_defaults` and the `compute_node_*` settings.
        """
        body = {"name": name, "description": description, "user": user, "working_dir": working_dir, **settings}
        return self.request("POST", "/workflows", c.Workflow, body=body)

    def get_compute_node(self, node_id: int) -> c.ComputeNode:
        return self.request("GET", f"/compute_nodes/{node_id}", c.ComputeNode)

    def get_scheduled_compute_node(self, node_id: int) -> c.ScheduledComputeNode:
        return self.request("GET", f"/scheduled_compute_nodes/{node_id}", c.ScheduledComputeNode)

    def list_failure_handlers(self, workflow_id: int) -> list[dict[str, Any]]:
        return self._page_all("/failure_handlers", dict[str, Any], {"workflow_id": workflow_id}, None)

    def get_failure_handler(self, handler_id: int) -> dict[str, Any]:
        return self.request("GET", f"/failure_handlers/{handler_id}", dict[str, Any])

    def delete_result(self, result_id: int) -> c.Result:
        return self.request("DELETE", f"/results/{result_id}", c.Result)

    def get_access_group(self, group_id: int) -> c.AccessGroup:
        return self.request("GET", f"/access_groups/{group_id}", c.AccessGroup)
