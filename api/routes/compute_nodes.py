"""Compute nodes: runners register, heartbeat to keep their lease, and deactivate when they stop."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put

from api.access import rules
from api.routes.params import (
    DEFAULT_LIMIT,
    Limit,
    Offset,
    ReverseSort,
    SortBy,
    WorkflowId,
)
from api.storage import Database, expiry, leases, records
from torc_client.contract import ComputeNode, ComputeNodeCreate, Heartbeat, Page


class ComputeNodeController(Controller):
    path = "/compute_nodes"
    tags = ["compute_nodes"]

    @post("/", status_code=200, opt=rules.CREATE)
    async def register(self, db: Database, lease: float, data: ComputeNodeCreate) -> ComputeNode:
        """Register a runner; it holds a lease that heartbeats and claims renew."""
        return await leases.register(db, data, lease)

    @get("/", opt=rules.LIST)
    async def list_compute_nodes(self, db: Database, workflow_id: WorkflowId, is_active: bool | None = None,
                                 offset: Offset = 0, limit: Limit = DEFAULT_LIMIT, sort_by: SortBy = None,
                                 reverse_sort: ReverseSort = False, hostname: str | None = None) -> Page[ComputeNode]:  # fmt: skip
        """A workflow's runners, past and present (only those on one host, with `hostname`)."""
        query = {"workflow_id": workflow_id, "is_active": is_active, "hostname": hostname}
        return await records.compute_nodes.list_page(db, query, offset, limit, sort_by or "id", reverse_sort)

    @get("/{node_id:int}", opt=rules.record("compute_nodes", "node_id"))
    async def get_compute_node(self, db: Database, node_id: int) -> ComputeNode:
        """One runner."""
        return await records.compute_nodes.get(db, node_id)

    @put("/{node_id:int}/heartbeat", opt=rules.record("compute_nodes", "node_id"))
    async def heartbeat(self, db: Database, lease: float, node_id: int) -> Heartbeat:
        """Renew a runner's lease; the answer says whether its workflow was canceled."""
        return await expiry.heartbeat(db, node_id, lease)

    @post("/{node_id:int}/deactivate", status_code=200, opt=rules.record("compute_nodes", "node_id"))
    async def deactivate(self, db: Database, node_id: int) -> ComputeNode:
        """A runner's clean exit."""
        return await leases.deactivate(db, node_id)

    @delete("/{node_id:int}", status_code=200, opt=rules.record("compute_nodes", "node_id"))
    async def delete_compute_node(self, db: Database, node_id: int) -> ComputeNode:
        """Delete a runner's record."""
        return await records.compute_nodes.delete(db, node_id)
