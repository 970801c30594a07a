"""Torc's job calls over plain HTTP: bulk creation, claims that name no runner, start_job and complete_job."""

from __future__ import annotations

from tests.integration.torc_http import (
    bulk,
    chain,
    http,
    new_workflow,
    node,
    ok,
    refused,
    result,
)

__all__ = ["http"]  # the fixture


def test_bulk_jobs_creates_every_job_in_order_with_its_relationships(http) -> None:
    wid = new_workflow(http)
    jobs = bulk(http, wid, [{"name": f"job{i}", "command": f"echo {i}", "supports_termination": True}
                            for i in range(5)])  # fmt: skip
    assert [j["name"] for j in jobs] == [f"job{i}" for i in range(5)]
    assert [j["id"] for j in jobs] == sorted(j["id"] for j in jobs)
    assert all(j["workflow_id"] == wid and j["status"] == "uninitialized" and j["supports_termination"] for j in jobs)
    downstream = bulk(http, wid, [{"name": "last", "command": "true", "depends_on_job_ids": [j["id"] for j in jobs]}])
    assert downstream[0]["depends_on_job_ids"] == [j["id"] for j in jobs]
    assert ok(http.get(f"/workflows/{wid}/job_ids"))["count"] == 6


def test_bulk_jobs_accepts_a_job_read_back_from_the_server(http) -> None:
    """Torc's clients send whole `JobModel`s: a job as this server answered it is a valid job to create again."""
    wid = new_workflow(http)
    [job] = bulk(http, wid, [{"name": "a", "command": "true"}])
    copy = {k: v for k, v in job.items() if v is not None} | {"name": "b"}
    [again] = bulk(http, wid, [copy])
    assert again["name"] == "b" and again["id"] != job["id"]


def test_bulk_jobs_refuses_bad_batches_and_creates_none_of_them(http) -> None:
    wid, other = new_workflow(http), new_workflow(http, "other")
    refused(http.post("/bulk_jobs", json={"jobs": []}), 422, "no jobs given")
    refused(http.post("/bulk_jobs", json={"jobs": [{"workflow_id": wid, "name": "a", "command": "true"},
                                                   {"workflow_id": other, "name": "b", "command": "true"}]}),
            422, "one workflow")  # fmt: skip
    refused(http.post("/bulk_jobs", json={"jobs": [{"workflow_id": wid, "name": "a", "command": "true"},
                                                   {"workflow_id": wid, "name": "b", "command": "true",
                                                    "depends_on_job_ids": [10**12]}]}), 404, "job")  # fmt: skip
    refused(http.post("/bulk_jobs", json={"jobs": [{"workflow_id": wid, "command": "true"}]}), 400, "name")
    refused(http.post("/bulk_jobs", json={"jobs": [{"workflow_id": 10**12, "name": "a", "command": "true"}]}),
            404, "workflow")  # fmt: skip
    assert ok(http.get(f"/workflows/{wid}/job_ids")) == {"job_ids": [], "count": 0}


def test_bulk_jobs_refuses_a_workflow_that_has_run(http) -> None:
    wid, _, _ = chain(http)
    refused(http.post("/bulk_jobs", json={"jobs": [{"workflow_id": wid, "name": "late", "command": "true"}]}),
            409, "initialised")  # fmt: skip


def test_a_run_through_claim_start_and_complete_releases_the_dependent_at_once(http) -> None:
    wid, first, second = chain(http)
    node_id = node(http, wid)
    claimed = ok(http.post(f"/workflows/{wid}/claim_jobs_based_on_resources/4",
                           json={"num_cpus": 4, "memory_gb": 8.0, "num_gpus": 0, "num_nodes": 1}))  # fmt: skip
    assert [j["id"] for j in claimed["jobs"]] == [first["id"]] and claimed["jobs"][0]["status"] == "pending"
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    started = ok(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{node_id}"))
    assert started["status"] == "running"
    done = ok(http.post(f"/jobs/{first['id']}/complete_job/completed/{run_id}", json=result(first, run_id, node_id)))
    assert done["status"] == "completed"
    assert ok(http.get(f"/jobs/{second['id']}"))["status"] == "ready"  # released in the completion, not later
    results = ok(http.get("/results", params={"workflow_id": wid}))["items"]
    assert [(r["job_id"], r["compute_node_id"], r["return_code"], r["peak_memory_bytes"]) for r in results] == \
        [(first["id"], node_id, 0, 1000)]  # fmt: skip
    [next_job] = ok(http.post(f"/workflows/{wid}/claim_next_jobs", params={"limit": 5}))["jobs"]
    assert next_job["id"] == second["id"]
    ok(http.put(f"/jobs/{second['id']}/start_job/{run_id}/{node_id}"))
    ok(http.post(f"/jobs/{second['id']}/complete_job/failed/{run_id}", json=result(second, run_id, node_id,
                                                                                   "failed", 3)))  # fmt: skip
    assert ok(http.get(f"/workflows/{wid}/is_complete"))["is_complete"] is True


def test_a_repeated_start_or_completion_changes_nothing(http) -> None:
    wid, first, _ = chain(http)
    node_id = node(http, wid)
    ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    for _ in range(2):
        assert ok(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{node_id}"))["status"] == "running"
    for _ in range(2):
        body = result(first, run_id, node_id)
        assert ok(http.post(f"/jobs/{first['id']}/complete_job/completed/{run_id}", json=body))["status"] == "completed"
    assert ok(http.get("/results", params={"workflow_id": wid}))["total_count"] == 1


def test_claims_hand_out_only_what_fits_and_say_why_nothing_came(http) -> None:
    wid = new_workflow(http)
    big = http.post("/resource_requirements", json={"workflow_id": wid, "name": "big", "num_cpus": 8,
                                                    "memory": "1g"}).json()  # fmt: skip
    bulk(http, wid, [{"name": "small", "command": "true"},
                     {"name": "large", "command": "true", "resource_requirements_id": big["id"]}])  # fmt: skip
    early = ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
    assert early["jobs"] == [] and "not initialized" in early["reason"]
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    free = {"num_cpus": 2, "memory_gb": 4.0, "num_gpus": 0, "num_nodes": 1}
    claimed = ok(http.post(f"/workflows/{wid}/claim_jobs_based_on_resources/10", json=free))["jobs"]
    assert [j["name"] for j in claimed] == ["small"]
    assert ok(http.post(f"/workflows/{wid}/claim_jobs_based_on_resources/10", json=free))["jobs"] == []
    assert [j["name"] for j in ok(http.post(f"/workflows/{wid}/claim_next_jobs"))["jobs"]] == ["large"]


def test_claims_refuse_bad_resources_and_limits(http) -> None:
    wid, _, _ = chain(http)
    path = f"/workflows/{wid}/claim_jobs_based_on_resources"
    free = {"num_cpus": 2, "memory_gb": 4.0, "num_gpus": 0, "num_nodes": 1}
    refused(http.post(f"{path}/2", json={"num_cpus": 2}), 400, "memory_gb")
    refused(http.post(f"{path}/2", json={**free, "num_cpus": -1}), 422, "num_cpus", "negative")
    refused(http.post(f"{path}/2", json={**free, "time_limit": "soon"}), 422, "time_limit")
    refused(http.post(f"{path}/2", json=free, params={"sort_method": "random"}), 422, "sort_method")
    refused(http.post(f"{path}/-1", json=free), 422, "limit")
    refused(http.post(f"/workflows/{wid}/claim_next_jobs", params={"limit": 10**9}), 422, "limit")
    refused(http.post(f"/workflows/{10**12}/claim_next_jobs"), 404, "workflow")


def test_start_and_complete_refuse_jobs_that_are_not_theirs_to_report(http) -> None:
    wid, first, second = chain(http)
    other_wid, other_first, _ = chain(http)
    node_id, other_node = node(http, wid), node(http, other_wid)
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    refused(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{node_id}"), 409, "claim it first")
    refused(http.put(f"/jobs/{10**12}/start_job/{run_id}/{node_id}"), 404, "job")
    ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
    refused(http.put(f"/jobs/{first['id']}/start_job/{run_id + 5}/{node_id}"), 409, "current run")
    refused(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{other_node}"), 422, f"workflow {other_wid}")
    refused(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{10**12}"), 404, "compute_node")
    path = f"/jobs/{first['id']}/complete_job/completed/{run_id}"
    refused(http.post(path, json={"job_id": first["id"]}), 400)
    refused(http.post(path, json=result(second, run_id, node_id)), 422, "job_id")
    refused(http.post(path, json=result(first, run_id, node_id, "failed")), 422, "status")
    refused(http.post(path, json={**result(first, run_id, node_id), "workflow_id": other_wid}), 422)
    refused(http.post(f"/jobs/{first['id']}/complete_job/running/{run_id}", json=result(first, run_id, node_id,
                                                                                        "running")), 422, "status")
    refused(http.post(f"/jobs/{second['id']}/complete_job/completed/{run_id}", json=result(second, run_id, node_id)),
            409, "blocked")  # fmt: skip
    refused(http.post(f"/jobs/{other_first['id']}/complete_job/completed/{run_id}",
                      json=result(other_first, run_id, node_id)), 409)  # fmt: skip
    assert ok(http.get(f"/jobs/{first['id']}"))["status"] == "pending"


def test_a_job_held_by_this_servers_runner_is_reported_only_by_its_node(http) -> None:
    wid, first, _ = chain(http)
    holder, stranger = node(http, wid), node(http, wid)
    ok(http.post(f"/workflows/{wid}/claim", json={"compute_node_id": holder, "limit": 1, "num_cpus": 4,
                                                  "memory_gb": 8}))  # fmt: skip
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    refused(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{stranger}"), 409, f"held by compute node {holder}")
    assert ok(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{holder}"))["status"] == "running"
    refused(http.post(f"/jobs/{first['id']}/complete_job/completed/{run_id}", json=result(first, run_id, stranger)),
            409, "held by")  # fmt: skip
    done = ok(http.post(f"/jobs/{first['id']}/complete_job/completed/{run_id}", json=result(first, run_id, holder)))
    assert done["status"] == "completed"


def test_retry_job_sends_a_failed_attempt_back_to_ready_until_the_retries_run_out(http) -> None:
    wid, first, _ = chain(http)
    node_id = node(http, wid)
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    for attempt in (1, 2):
        ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
        ok(http.put(f"/jobs/{first['id']}/start_job/{run_id}/{node_id}"))
        again = ok(http.post(f"/jobs/{first['id']}/retry/{run_id}", params={"max_retries": 2}))
        assert (again["status"], again["attempt_id"]) == ("ready", attempt + 1)
    ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
    refused(http.post(f"/jobs/{first['id']}/retry/{run_id}", params={"max_retries": 2}), 409, "used its 2 retries")
    refused(http.post(f"/jobs/{first['id']}/retry/{run_id + 1}"), 409, "current run")
    refused(http.post(f"/jobs/{first['id']}/retry/{run_id}", params={"max_retries": -1}), 400, "max_retries")
    refused(http.post(f"/jobs/{10**12}/retry/{run_id}"), 404, "job")


def test_manage_status_change_resets_or_disables_and_refuses_a_runs_own_changes(http) -> None:
    wid, first, second = chain(http)
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    disabled = ok(http.put(f"/jobs/{second['id']}/manage_status_change/disabled/{run_id}"))
    assert disabled["status"] == "disabled"
    reset = ok(http.put(f"/jobs/{first['id']}/manage_status_change/uninitialized/{run_id}"))
    assert reset["status"] == "uninitialized"
    refused(http.put(f"/jobs/{first['id']}/manage_status_change/completed/{run_id}"), 422, "complete_job")
    refused(http.put(f"/jobs/{first['id']}/manage_status_change/bogus/{run_id}"), 422, "bogus")
    refused(http.put(f"/jobs/{first['id']}/manage_status_change/disabled/{run_id + 3}"), 409, "current run")
    refused(http.put(f"/jobs/{10**12}/manage_status_change/disabled/{run_id}"), 404, "job")
