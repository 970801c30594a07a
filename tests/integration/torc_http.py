"""Plain-HTTP pieces shared by the tests of Torc's calls: a client, answers and refusals, small workflows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest


@pytest.fixture()
def http(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.method, response.request.url, response.text)
    return response.json()


def refused(response: httpx.Response, status: int, *words: str) -> str:
    """The response is a refusal with `status` whose text says each of `words`."""
    assert response.status_code == status, (response.status_code, response.text)
    text = response.text
    for word in words:
        assert word in text, (word, text)
    return text


def new_workflow(http: httpx.Client, name: str = "torc-calls") -> int:
    return created(http.post("/workflows", json={"name": name}))["id"]


def bulk(http: httpx.Client, wid: int, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ok(http.post("/bulk_jobs", json={"jobs": [{"workflow_id": wid, **job} for job in jobs]}))["jobs"]


def chain(http: httpx.Client) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """An initialised workflow of two jobs, `second` waiting for `first`."""
    wid = new_workflow(http)
    [first] = bulk(http, wid, [{"name": "first", "command": "echo 1"}])
    [second] = bulk(http, wid, [{"name": "second", "command": "echo 2", "depends_on_job_ids": [first["id"]]}])
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    return wid, first, second


def node(http: httpx.Client, wid: int) -> int:
    return created(http.post("/compute_nodes", json={"workflow_id": wid, "hostname": "worker", "pid": 1,
                                                     "num_cpus": 4, "memory_gb": 8.0}))["id"]  # fmt: skip


def result(job: dict[str, Any], run_id: int, node_id: int, status: str = "completed", code: int = 0) -> dict:
    return {"job_id": job["id"], "workflow_id": job["workflow_id"], "run_id": run_id, "compute_node_id": node_id,
            "return_code": code, "exec_time_minutes": 0.5, "completion_time": "2026-01-01T00:00:00Z",
            "status": status, "peak_memory_bytes": 1000}  # fmt: skip


def created(response: httpx.Response) -> Any:
    """A record this server's own create routes made (they answer 200, as Torc's do)."""
    assert response.status_code in (200, 201), (response.request.method, response.request.url, response.text)
    return response.json()
