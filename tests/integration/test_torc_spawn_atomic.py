"""`spawn_jobs` is all or nothing: racing the completion of the job that calls it, the new jobs are either not added at
all, or added and released by that completion (none is left waiting for a job that has already finished); cut short
by the database, it adds nothing, and its retry adds everything."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.integration.test_atomic_reports import fail_once  # noqa: F401 - a fixture
from tests.integration.torc_http import bulk, http, new_workflow, node, ok, result  # noqa: F401 - http is a fixture

ROUNDS = 12


def running_caller(http: httpx.Client, name: str) -> tuple[int, dict[str, Any], int, int]:
    """A workflow whose one job, `orchestrator`, was claimed and started through Torc's calls."""
    wid = new_workflow(http, name)
    [caller] = bulk(http, wid, [{"name": "orchestrator", "command": "true"}])
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    node_id = node(http, wid)
    run_id = ok(http.get(f"/workflows/{wid}"))["run_id"]
    ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
    ok(http.put(f"/jobs/{caller['id']}/start_job/{run_id}/{node_id}"))
    return wid, caller, node_id, run_id


def test_spawned_jobs_are_released_or_refused_when_the_caller_completes_at_the_same_time(http, server) -> None:
    for i in range(ROUNDS):
        wid, caller, node_id, run_id = running_caller(http, f"spawn-race-{i}")
        spawn = {"jobs": [{"name": "a", "command": "true"}, {"name": "b", "command": "true", "depends_on": ["a"]}]}
        with ThreadPoolExecutor(2) as pool, httpx.Client(base_url=server.url, timeout=30) as other:
            spawned = pool.submit(other.post, f"/jobs/{caller['id']}/spawn_jobs", json=spawn)
            completed = pool.submit(http.post, f"/jobs/{caller['id']}/complete_job/completed/{run_id}",
                                    json=result(caller, run_id, node_id))  # fmt: skip
            spawned, completed = spawned.result(), completed.result()
        assert completed.status_code == 200, completed.text
        statuses = {j["name"]: j["status"] for j in ok(http.get("/jobs", params={"workflow_id": wid}))["items"]}
        if spawned.status_code == 200:
            assert statuses == {"orchestrator": "completed", "a": "ready", "b": "blocked"}
        else:  # the caller had finished: nothing was added
            assert spawned.status_code in (409, 422), spawned.text
            assert statuses == {"orchestrator": "completed"}
        http.delete(f"/workflows/{wid}")


def test_a_spawn_cut_short_by_the_database_adds_nothing_and_its_retry_adds_everything(http, fail_once) -> None:
    wid, caller, node_id, run_id = running_caller(http, "spawn-cut")
    spawn = {"jobs": [{"name": "a", "command": "true"}], "state": {"round": 1}}
    fail_once("insert")  # the new jobs' insert: after the caller's edge to them, before the counts and the lineage
    assert http.post(f"/jobs/{caller['id']}/spawn_jobs", json=spawn).status_code == 503
    assert [j["name"] for j in ok(http.get("/jobs", params={"workflow_id": wid}))["items"]] == ["orchestrator"]
    assert ok(http.get("/user_data", params={"workflow_id": wid}))["items"] == []
    assert ok(http.get(f"/workflows/{wid}/status"))["total_jobs"] == 1

    again = ok(http.post(f"/jobs/{caller['id']}/spawn_jobs", json=spawn))  # the caller's retry
    assert again["iteration"] == 1 and len(again["spawned_job_ids"]) == 1
    ok(http.post(f"/jobs/{caller['id']}/complete_job/completed/{run_id}", json=result(caller, run_id, node_id)))
    statuses = {j["name"]: j["status"] for j in ok(http.get("/jobs", params={"workflow_id": wid}))["items"]}
    assert statuses == {"orchestrator": "completed", "a": "ready"}


def test_a_job_handed_to_a_runner_spawns_before_its_start_is_reported(http) -> None:
    """A runner starts a job's command, and reports the start with its next exchange (later when paced): the job,
    still pending, may already call `spawn_jobs`, and its completion releases what it spawned. A job no runner holds
    is refused, with its status in the message."""
    wid = new_workflow(http, "spawn-pending")
    [caller, idle] = bulk(http, wid, [{"name": "orchestrator", "command": "true"}, {"name": "idle", "command": "true"}])
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    node_id = node(http, wid)
    run_id = ok(http.get(f"/workflows/{wid}"))["run_id"]
    ok(http.post(f"/workflows/{wid}/claim_next_jobs", params={"limit": 1}))
    assert ok(http.get(f"/jobs/{caller['id']}"))["status"] == "pending"
    refused = http.post(f"/jobs/{idle['id']}/spawn_jobs", json={"jobs": [{"name": "x", "command": "true"}]})
    assert refused.status_code == 422 and f"job {idle['id']} is ready" in refused.text
    spawned = ok(http.post(f"/jobs/{caller['id']}/spawn_jobs", json={"jobs": [{"name": "a", "command": "true"}]}))
    assert len(spawned["spawned_job_ids"]) == 1
    ok(http.post(f"/jobs/{caller['id']}/complete_job/completed/{run_id}", json=result(caller, run_id, node_id)))
    statuses = {j["name"]: j["status"] for j in ok(http.get("/jobs", params={"workflow_id": wid}))["items"]}
    assert statuses == {"orchestrator": "completed", "idle": "ready", "a": "ready"}
