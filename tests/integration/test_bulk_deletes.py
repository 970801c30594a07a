"""Torc's `DELETE /{kind}?workflow_id=` over plain HTTP: every record of one kind, with the rules of deleting one."""

from __future__ import annotations

from tests.integration.torc_http import (
    bulk,
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


def count_of(http, kind: str, wid: int) -> int:
    return ok(http.get(f"/{kind}", params={"workflow_id": wid}))["total_count"]


def test_every_record_of_a_kind_goes_and_the_count_says_how_many(http) -> None:
    wid = new_workflow(http)
    other = new_workflow(http, "other")
    for w in (wid, other):
        for i in range(2):
            assert http.post("/files", json={"workflow_id": w, "name": f"f{i}", "path": f"f{i}.txt"}).status_code < 300
            assert http.post("/user_data", json={"workflow_id": w, "name": f"u{i}"}).status_code < 300
    made = bulk(http, wid, [{"name": "a", "command": "true"}, {"name": "b", "command": "true"}])
    created(http.post("/resource_requirements", json={"workflow_id": wid, "name": "big", "num_cpus": 4}))
    assert ok(http.delete("/jobs", params={"workflow_id": wid})) == {"count": len(made)}
    assert ok(http.get(f"/workflows/{wid}/job_ids")) == {"job_ids": [], "count": 0}
    assert ok(http.delete("/files", params={"workflow_id": wid})) == {"count": 2}
    assert ok(http.delete("/user_data", params={"workflow_id": wid})) == {"count": 2}
    assert ok(http.delete("/resource_requirements", params={"workflow_id": wid})) == {"count": 1}
    assert [r["name"] for r in ok(http.get("/resource_requirements", params={"workflow_id": wid}))["items"]] == [
        "default"]  # fmt: skip
    assert ok(http.delete("/files", params={"workflow_id": wid})) == {"count": 0}
    assert (count_of(http, "files", other), count_of(http, "user_data", other)) == (2, 2)  # the other workflow's stay


def test_a_run_leaves_results_events_and_nodes_that_go_when_asked(http) -> None:
    wid, first, _ = chain(http)
    node_id = node(http, wid)
    ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
    ok(http.post(f"/jobs/{first['id']}/complete_job/completed/1", json=result(first, 1, node_id)))
    assert ok(http.delete("/results", params={"workflow_id": wid})) == {"count": 1}
    assert count_of(http, "results", wid) == 0
    refused(http.delete("/compute_nodes", params={"workflow_id": wid}), 409, "1 active compute node")
    ok(http.post(f"/compute_nodes/{node_id}/deactivate"))
    assert ok(http.delete("/compute_nodes", params={"workflow_id": wid})) == {"count": 1}
    assert ok(http.delete("/events", params={"workflow_id": wid}))["count"] > 0
    assert ok(http.get("/events", params={"workflow_id": wid}))["total_count"] == 0
    assert ok(http.delete("/scheduled_compute_nodes", params={"workflow_id": wid})) == {"count": 0}
    assert ok(http.delete("/slurm_schedulers", params={"workflow_id": wid})) == {"count": 0}


def test_deleting_all_is_refused_where_deleting_one_would_be_and_nothing_goes(http, tmp_path) -> None:
    (tmp_path / "in.txt").write_text("x")
    spec = {"name": "ran", "resource_requirements": [{"name": "big", "num_cpus": 2}],
            "files": [{"name": "in", "path": "in.txt"}, {"name": "spare", "path": "spare.txt"}],
            "jobs": [{"name": "a", "command": "true", "input_files": ["in"], "resource_requirements": "big"}]}  # fmt: skip
    wid = http.post("/workflows/specs", json=spec, params={"working_dir": str(tmp_path)}).json()["id"]
    refused(http.delete("/resource_requirements", params={"workflow_id": wid}), 409, "1 job")
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    refused(http.delete("/jobs", params={"workflow_id": wid}), 409, "initialised")
    refused(http.delete("/files", params={"workflow_id": wid}), 409, "has run")
    assert count_of(http, "files", wid) == 2 and count_of(http, "jobs", wid) == 1
    refused(http.delete("/jobs"), 400, "workflow_id")
    refused(http.delete("/jobs", params={"workflow_id": 10**12}), 404, "workflow")
    refused(http.delete("/results", params={"workflow_id": "x"}), 400, "workflow_id")
