"""Torc's batch calls made with torc-client: files and user_data in bulk, many completions in one request, and jobs
spawned by a running job (and then run by this project's runner)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.compat.conftest import TORC_VENV
from tests.conftest import BIN
from tests.integration.test_access_walk import http_as as as_user
from tests.integration.test_access_walk import walked_server as guarded  # noqa: F401 - the guarded server fixture
from tests.integration.test_auth import users_file  # noqa: F401 - the users file the guarded server reads


def test_bulk_files_and_user_data_are_stored_in_order(drive) -> None:
    found = drive("bulk_records")
    assert [(f["name"], f["path"]) for f in found["files"]] == [("f0", "out/0.csv"), ("f1", "out/1.csv"),
                                                                ("f2", "out/2.csv"), ("seen", "seen.txt")]
    assert found["files"][3]["st_mtime"] == 1700000000.5
    assert found["listed_files"] == found["files"]
    ids = [f["id"] for f in found["files"]]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [(u["name"], u["data"], u.get("is_ephemeral")) for u in found["user_data"]] == [
        ("params", {"alpha": 0.5, "steps": [1, 2]}, False), ("scratch", None, True)]
    assert found["listed_user_data"] == found["user_data"]


def test_bulk_creation_refuses_bad_input_and_stores_nothing(drive) -> None:
    found = drive("bulk_records")
    assert found["two_workflows"]["status"] == 422
    assert "must be of one workflow" in found["two_workflows"]["body"]["detail"]
    assert found["missing_workflow"]["status"] == 404
    assert found["missing_workflow"]["body"]["error"]["message"] == found["missing_workflow"]["body"]["detail"]
    assert found["empty"]["status"] == 422 and "'files' is empty" in found["empty"]["body"]["detail"]
    assert found["bad_body"]["status"] == 400 and "name" in found["bad_body"]["body"]["detail"]
    assert found["files_after"] == 4  # the refused requests added nothing


def test_batch_completion_stores_the_claimed_jobs_and_refuses_the_others_one_by_one(drive) -> None:
    found = drive("batch_complete")
    ids = found["ids"]
    answer = found["answer"]
    assert answer["completed"] == [ids["a"], ids["c"]]
    errors = {e["job_id"]: e["message"] for e in answer["errors"]}
    assert set(errors) == {ids["b"], ids["x"], ids["a"]}
    assert "claim it first" in errors[ids["b"]]
    assert "is of workflow" in errors[ids["x"]]
    assert "more than once" in errors[ids["a"]]
    # a's dependent is released, c's failure cancels its dependent; the other workflow's job is untouched
    assert found["statuses"] == {"a": "completed", "b": "ready", "c": "failed", "d": "canceled"}
    assert found["other_status"] == "running"
    assert found["results"] == sorted([[ids["a"], 0, "completed"], [ids["c"], 3, "failed"]])
    assert found["again"] == {"completed": [ids["a"]], "errors": []}  # a repeated completion changes nothing


def test_batch_completion_refuses_a_missing_workflow_and_a_bad_body(drive) -> None:
    found = drive("batch_complete")
    assert found["missing_workflow"]["status"] == 404
    assert found["bad_body"]["status"] == 400 and "job_id" in found["bad_body"]["body"]["detail"]


def test_batch_completion_of_held_jobs_is_taken_only_from_their_compute_node(drive) -> None:
    found = drive("batch_held")
    p, q = found["ids"]
    assert found["claimed"] == [p, q]
    assert found["answer"]["completed"] == [q]
    [error] = found["answer"]["errors"]
    assert error["job_id"] == p and f"held by compute node {found['holder']}, not {found['other']}" in error["message"]
    assert found["statuses"] == {"p": "running", "q": "completed"}
    assert found["result_nodes"] == [found["holder"]]


def test_spawned_jobs_wait_for_the_caller_and_are_claimable_once_it_completes(drive) -> None:
    found = drive("spawn")
    first, spawned = found["first"], found["spawned"]
    assert first["iteration"] == 1 and len(first["spawned_job_ids"]) == 2
    assert found["replay"] == first
    assert found["second"]["iteration"] == 2
    assert found["final"] == {"iteration": 2, "spawned_job_ids": []}
    one, two, three = spawned["child-1"], spawned["child-2"], spawned["child-3"]
    assert [one["id"], two["id"]] == first["spawned_job_ids"]
    assert {one["status"], two["status"], three["status"]} == {"blocked"}
    assert one["depends_on_job_ids"] == [found["caller"]]
    assert two["depends_on_job_ids"] == sorted([found["caller"], one["id"]])
    assert one["env"]["TORC_ORCHESTRATOR_LINEAGE_ID"] == "orchestrator" and one["priority"] == 2
    assert three["resource_requirements_id"] == found["big"]
    assert one["resource_requirements_id"] == two["resource_requirements_id"] != found["big"]  # the default
    assert set(found["after"]) == {"orchestrator", "waiting", "child-1", "child-2", "child-3"}  # refusals added none
    assert found["after"]["child-1"] == "ready" and found["after"]["child-2"] == "blocked"
    assert found["after"]["child-3"] == "blocked"  # it also waits for `waiting`, which has not run
    assert sorted(found["claimed"]) == ["child-1", "waiting"]
    assert found["lineage"]["__torc_lineage__orchestrator__g000001"] == {"generation": 1, "spawn_count": 1,
                                                                          "state": {"round": 1}}
    assert found["lineage"]["__torc_lineage__orchestrator__final"]["state"] == {"converged": True}
    assert "__torc_lineage__orchestrator__g000002" in found["ephemeral"]
    spawned_ids = [*found["first"]["spawned_job_ids"], *found["second"]["spawned_job_ids"]]
    assert len(found["job_ids"]) == 5 and set(spawned_ids) < set(found["job_ids"])
    assert found["total_jobs"] == 5


def test_spawn_refuses_bad_requests_with_torcs_errors(drive) -> None:
    refused = drive("spawn")["refused"]
    assert refused["missing_job"]["status"] == 404
    for case in ("duplicate", "unknown_dependency", "cycle", "unknown_requirements", "partly_existing",
                 "negative_priority", "not_running"):  # fmt: skip
        assert refused[case]["status"] == 422, case
    assert refused["bad_body"]["status"] == 400 and "command" in refused["bad_body"]["body"]["detail"]
    assert "priority -1" in refused["negative_priority"]["body"]["detail"]
    assert "already exist" in refused["partly_existing"]["body"]["detail"]
    assert "appears twice" in refused["duplicate"]["body"]["detail"]
    assert "'nobody'" in refused["unknown_dependency"]["body"]["detail"]
    assert "dependency cycle" in refused["cycle"]["body"]["detail"]
    assert "'huge'" in refused["unknown_requirements"]["body"]["detail"]
    assert "only a job that a runner holds" in refused["not_running"]["body"]["detail"]


SPAWNER = """\
import os
from torc import make_api
from torc.openapi_client import SpawnJobModel, SpawnJobsRequest

api = make_api(os.environ["TORC_API_URL"])
api.spawn_jobs(int(os.environ["TORC_JOB_ID"]), SpawnJobsRequest(jobs=[
    SpawnJobModel(name="child-1", command="echo one"),
    SpawnJobModel(name="child-2", command='test "$TORC_ORCHESTRATOR_LINEAGE_ID" = orchestrator',
                  depends_on=["child-1"]),
], state={"round": 1}))
"""


def test_a_job_spawns_jobs_that_a_torc_runner_then_runs(drive, cli, tmp_path: Path) -> None:
    script = tmp_path / "spawner.py"
    script.write_text(SPAWNER)
    wid = drive("orchestrated", f"{TORC_VENV / 'bin' / 'python'} {script}")["workflow_id"]
    cli("run", str(wid), env={"PATH": f"{BIN}:{os.environ['PATH']}"}, timeout=240)
    found = drive("finished_run", str(wid))
    assert found["statuses"] == {"orchestrator": "completed", "child-1": "completed", "child-2": "completed"}
    assert sorted((r["job_name"], r["return_code"]) for r in found["results"]) == [
        ("child-1", 0), ("child-2", 0), ("orchestrator", 0)]
    assert found["status"]["is_complete"] is True and found["status"]["jobs_by_status"]["completed"] == 3


def test_another_users_batch_calls_are_refused(guarded) -> None:  # noqa: F811
    with as_user(guarded, "alice") as alice, as_user(guarded, "bob") as bob:
        wid = alice.post("/workflows", json={"name": "alices-batches"}).json()["id"]
        assert bob.post("/bulk_files", json={"files": [{"workflow_id": wid, "name": "f", "path": "f"}]}
                        ).status_code == 403  # fmt: skip
        assert bob.post("/bulk_user_data", json={"user_data": [{"workflow_id": wid, "name": "u"}]}).status_code == 403
        assert bob.post(f"/workflows/{wid}/batch_complete_jobs", json={"completions": []}).status_code == 403
        job = alice.post("/bulk_jobs", json={"jobs": [{"workflow_id": wid, "name": "o", "command": "true"}]})
        job_id = job.json()["jobs"][0]["id"]
        spawn = {"jobs": [{"name": "child", "command": "true"}]}
        assert bob.post(f"/jobs/{job_id}/spawn_jobs", json=spawn).status_code == 403
        made = alice.post("/bulk_files", json={"files": [{"workflow_id": wid, "name": "f", "path": "f"}]})
        assert made.status_code == 200 and made.json()["files"][0]["name"] == "f"
        assert alice.post(f"/workflows/{wid}/batch_complete_jobs", json={"completions": []}).json() == {
            "completed": [], "errors": []}
        # her job is not running: the owner is answered (422), not refused
        assert alice.post(f"/jobs/{job_id}/spawn_jobs", json=spawn).status_code == 422
