"""Torc's local schedulers and remote workers over plain HTTP."""

from __future__ import annotations

from tests.integration.torc_http import http, new_workflow, ok, refused

__all__ = ["http"]  # the fixture


def test_local_schedulers_are_created_listed_changed_and_deleted(http) -> None:
    wid, other = new_workflow(http), new_workflow(http, "other")
    small = ok(http.post("/local_schedulers", json={"workflow_id": wid, "memory": "2g", "num_cpus": 2}))
    assert (small["name"], small["memory"], small["num_cpus"]) == ("default", "2g", 2)
    big = ok(http.post("/local_schedulers", json={"workflow_id": wid, "name": "big", "memory": "8g", "num_cpus": 8}))
    ok(http.post("/local_schedulers", json={"workflow_id": other, "num_cpus": 1}))
    page = ok(http.get("/local_schedulers", params={"workflow_id": wid, "sort_by": "num_cpus", "reverse_sort": True}))
    assert [s["name"] for s in page["items"]] == ["big", "default"]
    assert [s["id"] for s in ok(http.get("/local_schedulers", params={"workflow_id": wid, "num_cpus": 2}))["items"]] \
        == [small["id"]]  # fmt: skip
    changed = ok(http.put(f"/local_schedulers/{big['id']}", json={"workflow_id": wid, "name": "big", "memory": "16g",
                                                                   "num_cpus": 16}))  # fmt: skip
    assert ok(http.get(f"/local_schedulers/{big['id']}")) == changed and changed["memory"] == "16g"
    assert ok(http.delete(f"/local_schedulers/{small['id']}"))["id"] == small["id"]
    assert ok(http.delete("/local_schedulers", params={"workflow_id": wid})) == {"count": 1}
    assert ok(http.get("/local_schedulers", params={"workflow_id": other}))["total_count"] == 1


def test_local_schedulers_refuse_bad_values(http) -> None:
    wid, other = new_workflow(http), new_workflow(http, "other")
    refused(http.post("/local_schedulers", json={"workflow_id": wid, "memory": "lots"}), 422, "lots")
    refused(http.post("/local_schedulers", json={"workflow_id": wid, "num_cpus": 0}), 422, "num_cpus")
    refused(http.post("/local_schedulers", json={"workflow_id": 10**12}), 404, "workflow")
    refused(http.post("/local_schedulers", json={"workflow_id": wid, "num_cpus": "two"}), 400, "num_cpus")
    made = ok(http.post("/local_schedulers", json={"workflow_id": wid}))
    refused(http.put(f"/local_schedulers/{made['id']}", json={"workflow_id": other}), 422, f"workflow {wid}")
    refused(http.get("/local_schedulers", params={"workflow_id": wid, "sort_by": "colour"}), 422, "colour")
    refused(http.get(f"/local_schedulers/{10**12}"), 404, "local_scheduler")


def test_remote_workers_are_added_once_listed_and_removed(http) -> None:
    wid, other = new_workflow(http), new_workflow(http, "other")
    added = ok(http.post(f"/workflows/{wid}/remote_workers", json=["me@node1:22", "node2", "node2"]))
    assert [w["worker"] for w in added] == ["me@node1:22", "node2"]
    again = ok(http.post(f"/workflows/{wid}/remote_workers", json=["node2", "node3"]))
    assert [w["worker"] for w in again] == ["me@node1:22", "node2", "node3"]
    assert ok(http.get(f"/workflows/{other}/remote_workers")) == []
    assert ok(http.delete(f"/workflows/{wid}/remote_workers/me@node1:22")) == {"worker": "me@node1:22",
                                                                               "workflow_id": wid}  # fmt: skip
    assert [w["worker"] for w in ok(http.get(f"/workflows/{wid}/remote_workers"))] == ["node2", "node3"]
    refused(http.delete(f"/workflows/{wid}/remote_workers/me@node1:22"), 404, "remote_worker")
    refused(http.post(f"/workflows/{wid}/remote_workers", json=["two words"]), 422, "without spaces")
    refused(http.post(f"/workflows/{wid}/remote_workers", json="node4"), 400)
    refused(http.get(f"/workflows/{10**12}/remote_workers"), 404, "workflow")
