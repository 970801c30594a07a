"""The Client's calls for compute nodes and the runner protocol (register, claim, report); `Client` inherits them."""

from __future__ import annotations

from typing import Any

from torc_client import contract as c


class RunnerCalls:
    """Compute nodes, claims and reports. Needs the `request` and `_page_all` methods of `Client`."""

    request: Any
    _page_all: Any

    def register_compute_node(self, node: c.ComputeNodeCreate) -> c.ComputeNode:
        return self.request("POST", "/compute_nodes", c.ComputeNode, body=node)

    def list_compute_nodes(self, workflow_id: int, *, is_active: bool | None = None, offset: int = 0,
                           limit: int | None = None) -> list[c.ComputeNode]:  # fmt: skip
        return self._page_all("/compute_nodes", c.ComputeNode, {"workflow_id": workflow_id, "is_active": is_active,
                                                                "offset": offset}, limit)  # fmt: skip

    def heartbeat(self, node_id: int) -> c.Heartbeat:
        return self.request("PUT", f"/compute_nodes/{node_id}/heartbeat", c.Heartbeat)

    def deactivate_compute_node(self, node_id: int) -> c.ComputeNode:
        return self.request("POST", f"/compute_nodes/{node_id}/deactivate", c.ComputeNode)

    def claim(self, workflow_id: int, request: c.ClaimRequest) -> c.ClaimResponse:
        return self.request("POST", f"/workflows/{workflow_id}/claim", c.ClaimResponse, body=request)

    def report_start(self, workflow_id: int, report: c.StartReport) -> c.ReportResponse:
        return self.request("POST", f"/workflows/{workflow_id}/start", c.ReportResponse, body=report)

    def report_complete(self, workflow_id: int, report: c.CompleteReport) -> c.ReportResponse:
        return self.request("POST", f"/workflows/{workflow_id}/complete", c.ReportResponse, body=report)

    def unfit(self, workflow_id: int, num_cpus: int, memory_gb: float, num_gpus: int = 0, num_nodes: int = 1,
              time_limit_seconds: float | None = None) -> list[c.UnfitGroup]:  # fmt: skip
        return self.request("GET", f"/workflows/{workflow_id}/unfit", list[c.UnfitGroup], params={
            "num_cpus": num_cpus, "memory_gb": memory_gb, "num_gpus": num_gpus, "num_nodes": num_nodes,
            "time_limit_seconds": time_limit_seconds})  # fmt: skip
