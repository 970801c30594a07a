"""Torc's questions about a workflow over plain HTTP: initialize_jobs, is_complete, is_uninitialized, job_ids,
ready_job_requirements, reset_job_status, and the relationship listings."""

from __future__ import annotations

import os

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

SPEC = {
    "name": "relations",
    "resource_requirements": [{"name": "two", "num_cpus": 2, "num_gpus": 1, "memory": "2g", "runtime": "PT2H"}],
    "files": [{"name": "raw", "path": "raw.txt"}, {"name": "unused", "path": "unused.txt"}],
    "user_data": [{"name": "config"}],
    "jobs": [{"name": "make", "command": "echo > raw.txt", "output_files": ["raw"], "output_user_data": ["config"]},
             {"name": "use1", "command": "cat raw.txt", "input_files": ["raw"], "input_user_data": ["config"],
              "resource_requirements": "two"},
             {"name": "use2", "command": "cat raw.txt", "input_files": ["raw"], "resource_requirements": "two"}],
}  # fmt: skip


def from_spec(http, tmp_path, spec=SPEC) -> dict:
    response = http.post("/workflows/specs", json=spec, params={"working_dir": str(tmp_path)})
    assert response.status_code in (200, 201), response.text
    return response.json()


def ids_by_name(http, wid: int) -> dict[str, int]:
    return {j["name"]: j["id"] for j in ok(http.get("/jobs", params={"workflow_id": wid}))["items"]}


def test_initialize_jobs_opens_a_run_and_the_workflow_is_no_longer_uninitialized(http) -> None:
    wid = new_workflow(http)
    assert ok(http.get(f"/workflows/{wid}/is_uninitialized")) == {"is_uninitialized": True}  # no jobs at all
    bulk(http, wid, [{"name": "a", "command": "true"}])
    assert ok(http.get(f"/workflows/{wid}/is_uninitialized")) == {"is_uninitialized": True}
    flags = {"only_uninitialized": "false", "clear_ephemeral_user_data": "true"}
    done = ok(http.post(f"/workflows/{wid}/initialize_jobs", params=flags))
    assert done["workflow_id"] == wid and done["run_id"] == 1
    assert ok(http.get(f"/workflows/{wid}/is_uninitialized")) == {"is_uninitialized": False}
    refused(http.post(f"/workflows/{10**12}/initialize_jobs"), 404, "workflow")
    refused(http.get(f"/workflows/{10**12}/is_uninitialized"), 404, "workflow")


def test_is_complete_turns_true_when_the_last_job_finishes(http) -> None:
    wid, first, second = chain(http)
    node_id = node(http, wid)
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    expected = {"is_complete": False, "is_canceled": False, "needs_to_run_completion_script": False}
    assert ok(http.get(f"/workflows/{wid}/is_complete")) == expected
    for job in (first, second):
        ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
        ok(http.post(f"/jobs/{job['id']}/complete_job/completed/{run_id}", json=result(job, run_id, node_id)))
    assert ok(http.get(f"/workflows/{wid}/is_complete")) == {**expected, "is_complete": True}
    refused(http.get(f"/workflows/{10**12}/is_complete"), 404, "workflow")


def test_job_ids_lists_every_job_in_id_order(http) -> None:
    wid = new_workflow(http)
    made = bulk(http, wid, [{"name": f"j{i}", "command": "true"} for i in range(3)])
    made += bulk(http, wid, [{"name": "j3", "command": "true"}])
    assert ok(http.get(f"/workflows/{wid}/job_ids")) == {"job_ids": [j["id"] for j in made], "count": 4}
    ok(http.delete(f"/jobs/{made[1]['id']}"))
    assert ok(http.get(f"/workflows/{wid}/job_ids"))["job_ids"] == [made[i]["id"] for i in (0, 2, 3)]
    refused(http.get(f"/workflows/{10**12}/job_ids"), 404, "workflow")


def test_ready_job_requirements_sum_the_ready_jobs(http, tmp_path) -> None:
    (tmp_path / "raw.txt").write_text("x")
    spec = {**SPEC, "jobs": [{**j, "input_files": [], "input_user_data": []} for j in SPEC["jobs"]]}
    wid = from_spec(http, tmp_path, spec)["id"]
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    need = ok(http.get(f"/workflows/{wid}/ready_job_requirements"))
    # `make` takes the default (1 CPU, 1 MiB, 1 minute); use1 and use2 take 2 CPUs, 1 GPU, 2 GiB, 2 hours each.
    assert need == {"num_jobs": 3, "num_cpus": 5, "num_gpus": 2, "memory_gb": 4 + 1 / 1024, "max_num_nodes": 1,
                    "max_runtime": "PT2H"}  # fmt: skip
    refused(http.get(f"/workflows/{wid}/ready_job_requirements", params={"scheduler_config_id": 10**12}),
            404, "slurm_scheduler")  # fmt: skip


def test_reset_job_status_sends_failed_jobs_back_to_uninitialized(http) -> None:
    wid, first, second = chain(http)
    node_id = node(http, wid)
    run_id = ok(http.get(f"/workflows/{wid}/status"))["run_id"]
    ok(http.post(f"/workflows/{wid}/claim_next_jobs"))
    ok(http.post(f"/jobs/{first['id']}/complete_job/failed/{run_id}", json=result(first, run_id, node_id, "failed", 1)))
    answer = ok(http.post(f"/workflows/{wid}/reset_job_status", params={"failed_only": "true"}))
    assert answer == {"workflow_id": wid, "updated_count": 2, "status": "uninitialized", "reset_type": "failed_only"}
    assert {ok(http.get(f"/jobs/{j['id']}"))["status"] for j in (first, second)} == {"uninitialized"}
    refused(http.post(f"/workflows/{10**12}/reset_job_status"), 404, "workflow")


def test_job_dependencies_list_explicit_and_implied_edges(http, tmp_path) -> None:
    wid = from_spec(http, tmp_path)["id"]
    ok(http.post(f"/workflows/{wid}/initialize_jobs", params={"only_uninitialized": "true"}))
    ids = ids_by_name(http, wid)
    page = ok(http.get(f"/workflows/{wid}/job_dependencies"))
    assert [(d["job_name"], d["depends_on_job_name"]) for d in page["items"]] == [("use1", "make"), ("use2", "make")]
    assert page["items"][0] == {"job_id": ids["use1"], "job_name": "use1", "depends_on_job_id": ids["make"],
                                "depends_on_job_name": "make", "workflow_id": wid}  # fmt: skip
    second = ok(http.get(f"/workflows/{wid}/job_dependencies", params={"offset": 1, "limit": 1}))
    assert (second["count"], second["total_count"], second["has_more"]) == (1, 2, False)
    refused(http.get(f"/workflows/{wid}/job_dependencies", params={"offset": -1}), 400, "offset")
    refused(http.get(f"/workflows/{10**12}/job_dependencies"), 404, "workflow")


def test_job_file_relationships_pair_each_file_with_its_writer_and_readers(http, tmp_path) -> None:
    wid = from_spec(http, tmp_path)["id"]
    ids = ids_by_name(http, wid)
    rows = ok(http.get(f"/workflows/{wid}/job_file_relationships"))["items"]
    assert [(r["file_name"], r["producer_job_name"], r["consumer_job_name"]) for r in rows] == \
        [("raw", "make", "use1"), ("raw", "make", "use2"), ("unused", None, None)]  # fmt: skip
    assert rows[0]["producer_job_id"] == ids["make"] and rows[0]["file_path"] == "raw.txt"
    refused(http.get(f"/workflows/{10**12}/job_file_relationships"), 404, "workflow")


def test_job_user_data_relationships_pair_each_record_with_its_writer_and_readers(http, tmp_path) -> None:
    wid = from_spec(http, tmp_path)["id"]
    ids = ids_by_name(http, wid)
    [row] = ok(http.get(f"/workflows/{wid}/job_user_data_relationships"))["items"]
    assert row | {"user_data_id": 0} == {"user_data_id": 0, "user_data_name": "config", "workflow_id": wid,
                                         "producer_job_id": ids["make"], "producer_job_name": "make",
                                         "consumer_job_id": ids["use1"], "consumer_job_name": "use1"}  # fmt: skip
    refused(http.get(f"/workflows/{10**12}/job_user_data_relationships"), 404, "workflow")


def test_required_files_and_missing_user_data_name_what_a_run_needs(http, tmp_path) -> None:
    wid = from_spec(http, tmp_path, {**SPEC, "user_data": [{"name": "config"}, {"name": "given"}],
                                     "jobs": SPEC["jobs"] + [{"name": "reader", "command": "true",
                                                              "input_user_data": ["given"]}]})["id"]  # fmt: skip
    files = {f["name"]: f["id"] for f in ok(http.get("/files", params={"workflow_id": wid}))["items"]}
    data = {u["name"]: u["id"] for u in ok(http.get("/user_data", params={"workflow_id": wid}))["items"]}
    assert ok(http.get(f"/workflows/{wid}/required_existing_files")) == {"files": []}  # `raw` is written by `make`
    assert ok(http.get(f"/workflows/{wid}/missing_user_data")) == {"user_data": [data["given"]]}
    bulk(http, wid, [{"name": "late", "command": "true", "input_file_ids": [files["unused"]]}])
    assert ok(http.get(f"/workflows/{wid}/required_existing_files")) == {"files": [files["unused"]]}
    refused(http.get(f"/workflows/{10**12}/required_existing_files"), 404, "workflow")
    refused(http.get(f"/workflows/{10**12}/missing_user_data"), 404, "workflow")


def test_latest_event_timestamp_is_that_of_the_newest_event(http) -> None:
    wid = new_workflow(http)
    made = ok(http.post("/events", json={"workflow_id": wid, "data": {"message": "last"}}))
    assert ok(http.get(f"/workflows/{wid}/latest_event_timestamp")) == {"timestamp": made["timestamp"]}
    ok(http.delete("/workflows/%d/events" % wid))
    assert ok(http.get(f"/workflows/{wid}/latest_event_timestamp")) == {"timestamp": None}
    refused(http.get(f"/workflows/{10**12}/latest_event_timestamp"), 404, "workflow")


def test_the_status_update_archives_and_cancels_but_opens_no_run(http) -> None:
    wid, _, _ = chain(http)
    now = {"id": wid, "run_id": 1, "is_canceled": False, "is_archived": False}
    archived = ok(http.put(f"/workflows/{wid}/status", json={**now, "is_archived": True}))
    assert archived == {**now, "is_archived": True, "has_detected_need_to_run_completion_script": False}
    assert ok(http.get(f"/workflows/{wid}"))["is_archived"] is True
    ok(http.put(f"/workflows/{wid}/status", json=now))
    refused(http.put(f"/workflows/{wid}/status", json={**now, "run_id": 2}), 409, "initialize_jobs")
    canceled = ok(http.put(f"/workflows/{wid}/status", json={**now, "is_canceled": True}))
    assert canceled["is_canceled"] is True and ok(http.get(f"/workflows/{wid}/is_complete"))["is_canceled"] is True
    refused(http.put(f"/workflows/{wid}/status", json=now), 409, "reset_job_status")
    refused(http.put(f"/workflows/{wid}/status", json={"run_id": 1}), 400, "is_canceled")
    refused(http.put(f"/workflows/{10**12}/status", json=now), 404, "workflow")


def test_changed_inputs_send_their_readers_back_to_uninitialized(http, tmp_path) -> None:
    (tmp_path / "in.txt").write_text("1")
    spec = {"name": "inputs", "files": [{"name": "in", "path": "in.txt"}],
            "jobs": [{"name": "reads", "command": "cat in.txt", "input_files": ["in"]},
                     {"name": "after", "command": "true", "depends_on": ["reads"]},
                     {"name": "other", "command": "true"}]}  # fmt: skip
    wid = from_spec(http, tmp_path, spec)["id"]
    ok(http.post(f"/workflows/{wid}/initialize_jobs"))
    node_id = node(http, wid)
    ids = ids_by_name(http, wid)
    for name in ("reads", "other", "after"):
        ok(http.post(f"/workflows/{wid}/claim_next_jobs", params={"limit": 3}))
        job = ok(http.get(f"/jobs/{ids[name]}"))
        ok(http.post(f"/jobs/{job['id']}/complete_job/completed/1", json=result(job, 1, node_id)))
    path = str(tmp_path / "in.txt")
    os.utime(path, (os.path.getmtime(path) + 100, os.path.getmtime(path) + 100))
    url = f"/workflows/{wid}/process_changed_job_inputs"
    assert ok(http.post(url, params={"dry_run": "true"})) == {"reinitialized_jobs": ["reads"]}
    assert ok(http.get(f"/jobs/{ids['reads']}"))["status"] == "completed"
    assert ok(http.post(url)) == {"reinitialized_jobs": ["reads"]}
    statuses = {name: ok(http.get(f"/jobs/{jid}"))["status"] for name, jid in ids.items()}
    assert statuses == {"reads": "uninitialized", "after": "uninitialized", "other": "completed"}
    refused(http.post(f"/workflows/{10**12}/process_changed_job_inputs"), 404, "workflow")
