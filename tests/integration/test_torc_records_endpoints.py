"""Torc's record calls over plain HTTP: events at /events, results stored on their own, a compute node updated."""

from __future__ import annotations

from tests.integration.torc_http import (
    chain,
    created,
    http,
    new_workflow,
    node,
    ok,
    refused,
    result,
)

__all__ = ["http"]  # the fixture


def test_events_created_with_torc_bodies_are_listed_oldest_first(http) -> None:
    wid = new_workflow(http)
    made = ok(http.post("/events", json={"workflow_id": wid, "timestamp": 0,
                                         "data": {"category": "user", "message": "hello", "step": 1}}))  # fmt: skip
    assert (made["workflow_id"], made["category"], made["message"]) == (wid, "user", "hello")
    assert made["data"] == {"category": "user", "message": "hello", "step": 1}  # as sent: Torc's clients read it back
    assert made["timestamp"] > 0  # the server's time, not the client's
    ok(http.post("/events", json={"workflow_id": wid, "data": {"step": 2}}))
    page = ok(http.get("/events", params={"workflow_id": wid, "category": "user"}))
    assert [e["data"].get("step") for e in page["items"]] == [1, 2] and page["total_count"] == 2
    everything = ok(http.get("/events", params={"workflow_id": wid}))
    assert everything["total_count"] >= 3  # the workflow's own creation event too
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids)
    later = ok(http.get("/events", params={"workflow_id": wid, "after_timestamp": made["timestamp"] - 1,
                                           "category": "user", "offset": 1, "limit": 1}))  # fmt: skip
    assert [e["data"]["step"] for e in later["items"]] == [2]


def test_events_refuse_bad_bodies_and_unknown_workflows(http) -> None:
    wid = new_workflow(http)
    refused(http.post("/events", json={"workflow_id": wid}), 400, "data")
    refused(http.post("/events", json={"workflow_id": wid, "data": {"message": 5}}), 422, "message")
    refused(http.post("/events", json={"workflow_id": 10**12, "data": {}}), 404, "workflow")
    refused(http.get("/events"), 400, "workflow_id")
    refused(http.get("/events", params={"workflow_id": 10**12}), 404, "workflow")


def test_a_result_posted_on_its_own_is_listed_with_the_job(http) -> None:
    wid, first, _ = chain(http)
    node_id = node(http, wid)
    body = result(first, 1, node_id, "completed", 0)
    made = ok(http.post("/results", json=body))
    assert (made["job_id"], made["compute_node_id"], made["run_id"], made["attempt_id"]) == (first["id"], node_id, 1, 1)
    assert ok(http.get(f"/results/{made['id']}")) == made
    assert ok(http.get(f"/jobs/{first['id']}"))["status"] == "ready"  # a result alone changes no status
    again = refused(http.post("/results", json=body), 409, "already has a result", f"result {made['id']}")
    assert "run 1, attempt 1" in again


def test_results_refuse_records_of_another_workflow(http) -> None:
    wid, first, _ = chain(http)
    other = new_workflow(http, "other")
    other_node = node(http, other)
    refused(http.post("/results", json={**result(first, 1, None), "workflow_id": other}), 422, f"workflow {wid}")
    refused(http.post("/results", json=result(first, 1, other_node)), 422, f"workflow {other}")
    refused(http.post("/results", json={**result(first, 1, None), "job_id": 10**12}), 404, "job")
    refused(http.post("/results", json={"job_id": first["id"]}), 400)


def test_a_compute_node_marked_inactive_gives_back_the_jobs_it_holds(http) -> None:
    wid, first, _ = chain(http)
    node_id = node(http, wid)
    ok(http.post(f"/workflows/{wid}/claim", json={"compute_node_id": node_id, "limit": 1, "num_cpus": 4,
                                                  "memory_gb": 8}))  # fmt: skip
    record = ok(http.get(f"/compute_nodes/{node_id}"))
    renewed = ok(http.put(f"/compute_nodes/{node_id}", json={**record, "is_active": True}))
    assert renewed["is_active"] is True and renewed["lease_expires_at"] >= record["lease_expires_at"]
    stopped = ok(http.put(f"/compute_nodes/{node_id}", json={**record, "is_active": False,
                                                              "duration_seconds": 1.0}))  # fmt: skip
    assert stopped["is_active"] is False and stopped["duration_seconds"] is not None
    assert ok(http.get(f"/jobs/{first['id']}"))["status"] == "ready"
    refused(http.put(f"/compute_nodes/{10**12}", json={"is_active": False}), 404, "compute_node")
    refused(http.put(f"/compute_nodes/{node_id}", json={"is_active": "no"}), 400, "is_active")


def test_an_event_is_read_changed_and_deleted_by_its_id(http) -> None:
    wid, other = new_workflow(http), new_workflow(http, "other")
    made = ok(http.post("/events", json={"workflow_id": wid, "data": {"message": "first", "n": 1}}))
    theirs = ok(http.post("/events", json={"workflow_id": other, "data": {"message": "theirs"}}))
    assert made["id"] != theirs["id"]  # unique across workflows, though each is its workflow's latest
    assert ok(http.get(f"/events/{made['id']}")) == made
    changed = ok(http.put(f"/events/{made['id']}", json={"workflow_id": wid, "data": {"message": "second"}}))
    assert (changed["message"], changed["data"], changed["timestamp"]) == ("second", {"message": "second"},
                                                                           made["timestamp"])  # fmt: skip
    refused(http.put(f"/events/{made['id']}", json={"workflow_id": other, "data": {}}), 422, f"workflow {wid}")
    refused(http.put(f"/events/{made['id']}", json={"workflow_id": wid, "data": {"category": 3}}), 422, "category")
    assert ok(http.delete(f"/events/{made['id']}"))["id"] == made["id"]
    refused(http.get(f"/events/{made['id']}"), 404, "event")
    refused(http.delete(f"/events/{made['id']}"), 404, "event")
    assert ok(http.get(f"/events/{theirs['id']}"))["message"] == "theirs"


def test_a_result_is_changed_but_keeps_its_job_and_run(http) -> None:
    wid, first, _ = chain(http)
    made = ok(http.post("/results", json=result(first, 1, None, "failed", 2)))
    changed = ok(http.put(f"/results/{made['id']}", json={**result(first, 1, None, "completed", 0),
                                                          "peak_memory_bytes": 77}))  # fmt: skip
    assert (changed["status"], changed["return_code"], changed["peak_memory_bytes"]) == ("completed", 0, 77)
    refused(http.put(f"/results/{made['id']}", json={**result(first, 1, None), "run_id": 2}), 422, "run_id")
    refused(http.put(f"/results/{10**12}", json=result(first, 1, None)), 404, "result")
    assert ok(http.get(f"/jobs/{first['id']}"))["status"] == "ready"


def test_an_allocations_record_is_deleted(http) -> None:
    wid = new_workflow(http)
    scheduler = created(http.post("/slurm_schedulers", json={"workflow_id": wid, "name": "s", "account": "a",
                                                             "walltime": "01:00:00"}))  # fmt: skip
    allocation = created(http.post("/scheduled_compute_nodes", json={"workflow_id": wid, "scheduler_id": 42,
                                                                      "scheduler_config_id": scheduler["id"]}))  # fmt: skip
    assert ok(http.delete(f"/scheduled_compute_nodes/{allocation['id']}"))["id"] == allocation["id"]
    refused(http.delete(f"/scheduled_compute_nodes/{allocation['id']}"), 404, "scheduled_compute_node")

