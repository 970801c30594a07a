"""Torc's published client (`torc-client` 0.35.0) on what a workflow ran and kept: RO-Crate entities, Slurm stats,
tasks, archiving, running jobs and the Slurm jobs they ran in; and, on a server with users, sharing a workflow by
path and reloading the password file (admin users only), with another user refused."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.compat.conftest import DRIVER, torc_env
from tests.integration.test_access_walk import http_as as as_user
from tests.integration.test_access_walk import walked_server as guarded  # noqa: F401 - the guarded server fixture
from tests.integration.test_auth import PASSWORDS, htpasswd
from tests.integration.test_auth import users_file  # noqa: F401 - the users file the guarded server reads

MISSING = 987654321


def not_found(refusal: dict[str, Any], what: str) -> None:
    """Torc's 404 body, naming the missing record."""
    assert refusal["status"] == 404, refusal
    assert refusal["body"]["errorNum"] == 404 and refusal["body"]["errorMessage"] == f"{what} does not exist"


def test_ro_crate_entities_are_created_read_replaced_listed_and_deleted(drive) -> None:
    found = drive("ro_crate")
    wid, file_id = found["workflow_id"], found["file_id"]
    for_file, software = found["for_file"], found["software"]
    assert for_file == {"id": for_file["id"], "workflow_id": wid, "file_id": file_id, "entity_id": "data/input.csv",
                        "entity_type": "File", "metadata": {"@id": "data/input.csv", "@type": "File",
                                                            "encodingFormat": "text/csv"}}  # fmt: skip
    assert software["file_id"] is None and software["metadata"]["version"] == "1.0"
    updated = {**software, "entity_type": "SoftwareSourceCode", "metadata": {**software["metadata"], "version": "1.1"}}
    assert found["updated"] == updated
    listed = found["listed"]
    assert listed["items"] == [for_file, updated]
    assert (listed["total_count"], listed["count"], listed["has_more"]) == (2, 2, False)
    assert found["of_file"] == ["data/input.csv"] and found["by_entity_id"] == [software["id"]]
    assert found["sorted"] == ["data/input.csv", "#software-sim"]
    assert [e["id"] for e in found["second_page"]["items"]] == [software["id"]]
    assert found["second_page"]["has_more"] is False and found["second_page"]["offset"] == 1


def test_ro_crate_entities_refuse_duplicates_and_missing_records(drive) -> None:
    found = drive("ro_crate")
    refused = found["refused"]
    for case in ("duplicate_entity_id", "second_for_file"):
        assert refused[case]["status"] == 422, case
        assert "RO-Crate entity already exists" in refused[case]["body"]["errorMessage"], case
    not_found(refused["missing"], f"ro_crate_entity {MISSING}")
    not_found(refused["missing_workflow"], f"workflow {MISSING}")
    assert found["deleted"] == {"message": "RO-Crate entity deleted successfully"}
    not_found(found["deleted_again"], f"ro_crate_entity {found['for_file']['id']}")
    assert found["deleted_all"] == {"deleted_count": 1, "message": "Deleted 1 RO-Crate entities"}
    assert found["left"] == 0
    assert found["after_workflow_deleted"]["status"] == 404  # gone with its workflow


def test_slurm_stats_are_stored_filtered_and_paged(drive) -> None:
    found = drive("slurm_stats")
    first, second = found["made"]
    assert first["attempt_id"] == 1 and second["attempt_id"] == 2 and first["id"] < second["id"]
    assert {k: first[k] for k in ("slurm_job_id", "max_rss_bytes", "ave_cpu_seconds", "node_list")} == {
        "slurm_job_id": "4242", "max_rss_bytes": 1 << 30, "ave_cpu_seconds": 12.5, "node_list": "node[01-02]"}
    assert found["listed"]["items"] == [first, second] and found["listed"]["total_count"] == 2
    assert found["second_attempt"] == [second["id"]] and found["other_run"] == 0
    page = found["first_page"]
    assert ([s["id"] for s in page["items"]], page["has_more"], page["total_count"]) == ([first["id"]], True, 2)


def test_slurm_stats_refuse_a_missing_job_a_negative_measure_and_a_missing_workflow(drive) -> None:
    refused = drive("slurm_stats")["refused"]
    not_found(refused["missing_job"], f"job {MISSING}")
    assert refused["negative"]["status"] == 422
    assert "max_rss_bytes -1: a measure cannot be negative" in refused["negative"]["body"]["errorMessage"]
    not_found(refused["missing_workflow"], f"workflow {MISSING}")


def test_an_asynchronous_initialisation_is_a_finished_task_that_can_be_read(drive) -> None:
    found = drive("tasks")
    task = found["task"]
    assert (task["operation"], task["status"], task["error"]) == ("initialize_jobs", "succeeded", None)
    assert task["created_at_ms"] <= task["started_at_ms"] <= task["finished_at_ms"]
    assert found["read"] == task and found["active"] == {}  # no task is under way: `task` is null (left out)
    assert found["statuses"] == ["ready"]  # the work was done
    failed = found["failed"]
    assert failed["status"] == "failed" and failed["id"] > task["id"]
    assert "is archived; unarchive it before initialising it" in failed["error"]
    not_found(found["refused"]["missing_task"], f"task {MISSING}")
    not_found(found["refused"]["missing_workflow"], f"workflow {MISSING}")
    assert found["after_workflow_deleted"]["status"] == 404  # tasks go with their workflow


def test_archiving_through_torcs_call_hides_the_workflow_and_stops_claims(drive) -> None:
    found = drive("archive")
    assert found["archived"]["name"] == "compat-archive"
    assert (found["in_archived_list"], found["in_default_list"]) == (True, False)
    assert found["claimed_while_archived"] == 0
    assert found["unarchived"]["id"] == found["archived"]["id"] and found["claimed_after"] == 1
    not_found(found["refused"]["missing"], f"workflow {MISSING}")


def test_running_jobs_and_slurm_correlations_come_from_the_nodes_jobs_ran_on(drive, make_workflow, server) -> None:
    spec = {"name": "compat-where", "jobs": [{"name": f"j{i}", "command": "true"} for i in range(3)]}
    wid = make_workflow(spec, initialize=True).id
    with httpx.Client(base_url=server.url, timeout=30) as http:
        slurm = _ok(http.post("/compute_nodes", json={"workflow_id": wid, "hostname": "n1", "pid": 1, "num_cpus": 4,
                                                      "memory_gb": 8, "compute_node_type": "slurm",
                                                      "scheduler_id": "777"}))  # fmt: skip
        local = _ok(http.post("/compute_nodes", json={"workflow_id": wid, "hostname": "n2", "pid": 2}))
        claimed = _ok(http.post(f"/workflows/{wid}/claim", json={"compute_node_id": slurm["id"], "limit": 2,
                                                                 "num_cpus": 4, "memory_gb": 8, "start": True}))
        done, in_slurm = claimed["jobs"]
        _ok(http.post(f"/workflows/{wid}/complete", json={"compute_node_id": slurm["id"], "outcomes": [
            {"job_id": done["id"], "claim_token": done["claim_token"], "status": "completed", "return_code": 0,
             "exec_time_minutes": 0.01, "completion_time": "2026-01-01T00:00:00Z"}]}))  # fmt: skip
        [torc_claimed] = _ok(http.post(f"/workflows/{wid}/claim_next_jobs", params={"limit": 1}))["jobs"]
        _ok(http.put(f"/jobs/{torc_claimed['id']}/start_job/1/{local['id']}"))
    found = drive("where_jobs_ran", str(wid))
    running = found["running"]["items"]
    assert [(r["job_id"], r["job_name"], r["compute_node_name"], r["scheduler_type"], r.get("scheduler_job_id"))
            for r in running] == [(in_slurm["id"], in_slurm["name"], "n1", "slurm", "777"),
                                  (torc_claimed["id"], torc_claimed["name"], "n2", "local", None)]  # fmt: skip
    assert all(r["start_time"].endswith("Z") for r in running)
    assert found["correlations"]["items"] == [
        {"job_id": done["id"], "job_name": done["name"], "slurm_job_id": "777"},
        {"job_id": in_slurm["id"], "job_name": in_slurm["name"], "slurm_job_id": "777"}]
    assert found["second_page"]["items"] == found["correlations"]["items"][1:]
    not_found(found["refused"]["running"], f"workflow {MISSING}")
    not_found(found["refused"]["correlations"], f"workflow {MISSING}")


def test_reload_auth_on_a_server_without_users_is_refused(drive) -> None:
    refused = drive("reload_refused")["refused"]
    assert refused["status"] == 409 and "started without a password file" in refused["body"]["errorMessage"]


def test_an_admin_shares_by_path_and_reloads_the_users_file(guarded, torc_python, tmp_path,  # noqa: F811
                                                            users_file) -> None:  # noqa: F811
    htpasswd("add", str(users_file), "carol", password="carol-pass-1")
    found = _drive_as(guarded, torc_python, tmp_path, "ada", "sharing")
    assert found["link"]["workflow_id"] == found["workflow_id"] and found["link"]["group_id"] == found["group_id"]
    assert found["groups"] == [found["group_id"]]
    not_found(found["refused"]["missing_group"], f"access_group {MISSING}")
    not_found(found["refused"]["missing_workflow"], f"workflow {MISSING}")
    assert found["reloaded"]["user_count"] == len(PASSWORDS) + 1
    with httpx.Client(base_url=guarded.url, auth=("carol", "carol-pass-1"), timeout=30) as carol:
        assert carol.get("/workflows").status_code == 200  # the added user, as the reload read them


def test_another_user_can_neither_share_her_workflow_nor_reload_the_users(guarded) -> None:  # noqa: F811
    with as_user(guarded, "alice") as alice, as_user(guarded, "bob") as bob, as_user(guarded, "ada") as ada:
        wid = _ok(alice.post("/workflows", json={"name": "alices-tracked"}))["id"]
        group = _ok(ada.post("/access_groups", json={"name": f"bobs-{wid}"}))["id"]
        job = _ok(alice.post("/bulk_jobs", json={"jobs": [{"workflow_id": wid, "name": "a", "command": "true"}]}))
        jid = job["jobs"][0]["id"]
        entity = {"workflow_id": wid, "entity_id": "#x", "entity_type": "Thing", "metadata": {}}
        made = _ok(alice.post("/ro_crate_entities", json=entity))
        stats = {"workflow_id": wid, "job_id": jid, "run_id": 1, "attempt_id": 1}
        task = alice.post(f"/workflows/{wid}/initialize_jobs", params={"async": "true"})
        assert task.status_code == 202 and task.json()["status"] == "succeeded"
        refusals = [bob.post(f"/workflows/{wid}/access_groups/{group}"), bob.post("/admin/reload-auth"),
                    alice.post("/admin/reload-auth"), bob.post("/ro_crate_entities", json=entity),
                    bob.get(f"/ro_crate_entities/{made['id']}"),
                    bob.put(f"/ro_crate_entities/{made['id']}", json=entity),
                    bob.delete(f"/ro_crate_entities/{made['id']}"), bob.get(f"/workflows/{wid}/ro_crate_entities"),
                    bob.delete(f"/workflows/{wid}/ro_crate_entities"), bob.post("/slurm_stats", json=stats),
                    bob.get("/slurm_stats", params={"workflow_id": wid}), bob.get(f"/workflows/{wid}/running_jobs"),
                    bob.get(f"/workflows/{wid}/slurm_job_correlations"), bob.get(f"/tasks/{task.json()['id']}"),
                    bob.get(f"/workflows/{wid}/active_task"),
                    bob.post(f"/workflows/{wid}/archive", json={"is_archived": True})]  # fmt: skip
        assert [(r.request.method, r.request.url.path, r.status_code) for r in refusals if r.status_code != 403] == []
        assert _ok(alice.get(f"/ro_crate_entities/{made['id']}"))["entity_id"] == "#x"
        assert _ok(alice.get(f"/workflows/{wid}"))["is_archived"] is False
        assert _ok(ada.post(f"/workflows/{wid}/access_groups/{group}"))["group_id"] == group


def test_bad_bodies_are_refused_with_what_and_where(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        wid = _ok(http.post("/workflows", json={"name": "compat-bad-bodies"}))["id"]
        cases = {"/ro_crate_entities": {"workflow_id": wid, "entity_id": "", "entity_type": "File", "metadata": {}},
                 "/slurm_stats": {"workflow_id": wid, "job_id": 1, "run_id": 1},
                 f"/workflows/{wid}/archive": {"is_archived": "yes"}}  # fmt: skip
        said = {path: http.post(path, json=body) for path, body in cases.items()}
        no_metadata = http.post("/ro_crate_entities", json={"workflow_id": wid, "entity_id": "#a", "entity_type": "T"})
        http.delete(f"/workflows/{wid}")
    assert {path: r.status_code for path, r in said.items()} == dict.fromkeys(cases, 400)
    assert "entity_id" in said["/ro_crate_entities"].json()["detail"]
    assert "attempt_id" in said["/slurm_stats"].json()["detail"]
    assert "is_archived" in said[f"/workflows/{wid}/archive"].json()["detail"]
    assert no_metadata.status_code == 400 and "metadata" in no_metadata.json()["detail"]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.method, response.request.url, response.text)
    return response.json()


def _drive_as(server: Any, torc_python: Any, cwd: Any, user: str, scenario: str) -> Any:
    """A scenario of `driver.py` run as `user` (Basic authentication) against a server with users."""
    env = {**torc_env(server.url), "TORC_USER": user, "TORC_PASSWORD": PASSWORDS[user]}
    done = subprocess.run([str(torc_python), str(DRIVER), server.url, scenario], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)  # fmt: skip
    assert done.returncode == 0, f"scenario {scenario} failed:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ro_crate_and_slurm_stats_refuse_records_of_another_workflow_and_bad_values(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        wid = _ok(http.post("/workflows", json={"name": "compat-refusals"}))["id"]
        other = _ok(http.post("/workflows", json={"name": "compat-refusals-other"}))["id"]
        theirs = _ok(http.post("/files", json={"workflow_id": other, "name": "f", "path": "f.txt"}))["id"]
        [their_job] = _ok(http.post("/bulk_jobs", json={"jobs": [{"workflow_id": other, "name": "j",
                                                                   "command": "true"}]}))["jobs"]  # fmt: skip
        entity = {"workflow_id": wid, "entity_id": "#a", "entity_type": "Thing", "metadata": {}}
        first = _ok(http.post("/ro_crate_entities", json=entity))
        second = _ok(http.post("/ro_crate_entities", json={**entity, "entity_id": "#b"}))
        said = {
            "file_of_other": http.post("/ro_crate_entities", json={**entity, "entity_id": "#c", "file_id": theirs}),
            "missing_file": http.post("/ro_crate_entities", json={**entity, "entity_id": "#c", "file_id": MISSING}),
            "missing_workflow": http.post("/ro_crate_entities", json={**entity, "workflow_id": MISSING}),
            "moved_workflow": http.put(f"/ro_crate_entities/{first['id']}", json={**entity, "workflow_id": other}),
            "renamed_to_twin": http.put(f"/ro_crate_entities/{second['id']}", json=entity),
            "missing_update": http.put(f"/ro_crate_entities/{MISSING}", json=entity),
            "bad_sort": http.get(f"/workflows/{wid}/ro_crate_entities", params={"sort_by": "metadata"}),
            "job_of_other": http.post("/slurm_stats", json={"workflow_id": wid, "job_id": their_job["id"],
                                                            "run_id": 1, "attempt_id": 1}),
            "run_zero": http.post("/slurm_stats", json={"workflow_id": other, "job_id": their_job["id"],
                                                        "run_id": 0, "attempt_id": 1}),
            "no_workflow_id": http.get("/slurm_stats"),
        }  # fmt: skip
        renamed_to_itself = http.put(f"/ro_crate_entities/{first['id']}", json={**entity, "entity_type": "Other"})
        for workflow in (wid, other):
            http.delete(f"/workflows/{workflow}")
    assert {case: r.status_code for case, r in said.items()} == {
        "file_of_other": 422, "missing_file": 404, "missing_workflow": 404, "moved_workflow": 422,
        "renamed_to_twin": 422, "missing_update": 404, "bad_sort": 422, "job_of_other": 422, "run_zero": 422,
        "no_workflow_id": 400}  # fmt: skip
    detail = {case: r.json()["detail"] for case, r in said.items()}
    assert detail["file_of_other"] == f"file {theirs} is of workflow {other}, not {wid}"
    assert detail["missing_file"] == f"file {MISSING} does not exist"
    assert "an entity's workflow does not change" in detail["moved_workflow"]
    assert "already has an entity for entity_id '#a'" in detail["renamed_to_twin"]
    assert detail["missing_update"] == f"ro_crate_entity {MISSING} does not exist"
    assert "ordered by one of id, workflow_id, file_id, entity_id, entity_type" in detail["bad_sort"]
    assert detail["job_of_other"] == f"job {their_job['id']} is of workflow {other}, not {wid}"
    assert "run_id 0: runs and attempts are numbered from 1" in detail["run_zero"]
    assert "workflow_id" in detail["no_workflow_id"]
    assert renamed_to_itself.status_code == 200 and renamed_to_itself.json()["entity_type"] == "Other"


def test_concurrent_creations_of_one_entity_id_store_exactly_one(server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        wid = _ok(http.post("/workflows", json={"name": "compat-ro-crate-race"}))["id"]
        entity = {"workflow_id": wid, "entity_id": "#contested", "entity_type": "Thing", "metadata": {}}
        with ThreadPoolExecutor(8) as pool:
            codes = sorted(pool.map(lambda _: http.post("/ro_crate_entities", json=entity).status_code, range(8)))
        stored = _ok(http.get(f"/workflows/{wid}/ro_crate_entities"))["total_count"]
        http.delete(f"/workflows/{wid}")
    assert codes == [200] + [422] * 7 and stored == 1
