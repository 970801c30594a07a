"""Torc's wire contract on this server's routes, over plain HTTP: codes, envelopes, kept inputs and refusals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

TORC_ERROR_FIELDS = {"error", "errorNum", "errorMessage", "code"}


@pytest.fixture()
def http(server) -> httpx.Client:
    with httpx.Client(base_url=server.url, timeout=30) as session:
        yield session


@pytest.fixture()
def workflow(http: httpx.Client) -> dict[str, Any]:
    made = http.post("/workflows", json={"name": "contract", "user": "ana"})
    assert made.status_code == 200
    yield made.json()
    http.delete(f"/workflows/{made.json()['id']}")


def refused(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error body, checked to carry both Torc's fields and the problem document's."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorNum"] == body["code"] == body["status"] == status
    assert body["errorMessage"] == body["detail"] == body["error"]["message"]
    assert body["error"]["error"] == body["title"]
    return body


def test_every_create_answers_200_with_its_record(http: httpx.Client, workflow: dict[str, Any]) -> None:
    wid = workflow["id"]
    creates = {"/files": {"workflow_id": wid, "name": "f", "path": "f.txt"},
               "/user_data": {"workflow_id": wid, "name": "u", "data": {"a": 1}},
               "/resource_requirements": {"workflow_id": wid, "name": "r", "num_cpus": 2},
               "/jobs": {"workflow_id": wid, "name": "j", "command": "true"},
               "/slurm_schedulers": {"workflow_id": wid, "name": "s", "account": "acct"},
               "/compute_nodes": {"workflow_id": wid, "hostname": "h", "pid": 1}}
    for path, body in creates.items():
        response = http.post(path, json=body)
        assert (response.status_code, response.json()["workflow_id"]) == (200, wid), path
        assert response.json()["id"] > 0


def test_list_pages_name_their_limit_max_limit(http: httpx.Client, workflow: dict[str, Any]) -> None:
    page = http.get("/resource_requirements", params={"workflow_id": workflow["id"], "limit": 7}).json()
    assert {k: v for k, v in page.items() if k != "items"} == {"offset": 0, "max_limit": 7, "count": 1,
                                                               "total_count": 1, "has_more": False}


def test_version_names_torcs_api_version(http: httpx.Client) -> None:
    assert http.get("/version").json()["api_version"] == "0.21.0"


def test_workflow_create_keeps_the_sort_method(http: httpx.Client) -> None:
    made = http.post("/workflows", json={"name": "sorted", "jobs_sort_method": "none", "use_pending_failed": True})
    assert (made.json()["jobs_sort_method"], made.json()["use_pending_failed"]) == ("none", True)
    http.delete(f"/workflows/{made.json()['id']}")


@pytest.mark.parametrize(("field", "value", "status", "says"), [
    ("jobs_sort_method", "fastest", 400, "$.jobs_sort_method"),
    ("compute_node_wait_for_healthy_database_minutes", "soon", 400, "$.compute_node_wait_for_healthy_database_minutes"),
    ("compute_node_expiration_buffer_seconds", -1, 422, "compute_node_expiration_buffer_seconds must be at least 0"),
    ("compute_node_wait_for_new_jobs_seconds", -5, 422, "compute_node_wait_for_new_jobs_seconds must be at least 0"),
])  # fmt: skip
def test_workflow_create_refuses_a_bad_setting_naming_it(http: httpx.Client, field: str, value: Any, status: int,
                                                         says: str) -> None:  # fmt: skip
    before = http.get("/workflows").json()["total_count"]
    body = refused(http.post("/workflows", json={"name": "bad", field: value}), status)
    assert says in body["detail"]
    assert http.get("/workflows").json()["total_count"] == before


def test_workflow_update_changes_runner_settings_and_refuses_a_negative_time(http: httpx.Client,
                                                                           workflow: dict[str, Any]) -> None:  # fmt: skip
    path = f"/workflows/{workflow['id']}"
    changed = http.put(path, json={**workflow, "use_pending_failed": True, "compute_node_wait_for_new_jobs_seconds": 7})
    assert (changed.json()["use_pending_failed"], changed.json()["compute_node_wait_for_new_jobs_seconds"]) == (True, 7)
    body = refused(http.put(path, json={"compute_node_expiration_buffer_seconds": -3}), 422)
    assert body["detail"] == "compute_node_expiration_buffer_seconds must be at least 0, got -3"
    assert http.get(path).json()["compute_node_expiration_buffer_seconds"] == workflow[
        "compute_node_expiration_buffer_seconds"]


def test_workflow_update_refuses_an_unknown_sort_method(http: httpx.Client, workflow: dict[str, Any]) -> None:
    body = refused(http.put(f"/workflows/{workflow['id']}", json={"jobs_sort_method": "fastest"}), 400)
    assert "$.jobs_sort_method" in body["detail"]


@pytest.mark.parametrize("path", ["/workflows", "/jobs", "/files", "/user_data", "/resource_requirements",
                                  "/compute_nodes"])
def test_list_refuses_an_unknown_sort_field_naming_the_choices(http: httpx.Client, workflow: dict[str, Any],
                                                               path: str) -> None:  # fmt: skip
    body = refused(http.get(path, params={"workflow_id": workflow["id"], "sort_by": "colour"}), 422)
    assert "cannot sort" in body["detail"] and "'colour'; use one of id" in body["detail"]


def test_user_data_for_a_job_of_another_workflow_is_refused(http: httpx.Client, workflow: dict[str, Any]) -> None:
    other = http.post("/workflows", json={"name": "other"}).json()
    stranger = http.post("/jobs", json={"workflow_id": other["id"], "name": "x", "command": "true"}).json()
    for param in ("consumer_job_id", "producer_job_id"):
        response = http.post("/user_data", params={param: stranger["id"]},
                             json={"workflow_id": workflow["id"], "name": "u"})  # fmt: skip
        assert "job" in refused(response, 404)["detail"]
    assert http.get("/user_data", params={"workflow_id": workflow["id"]}).json()["items"] == []
    http.delete(f"/workflows/{other['id']}")


def test_user_data_for_a_job_after_the_first_run_is_refused(http: httpx.Client, workflow: dict[str, Any]) -> None:
    wid = workflow["id"]
    job = http.post("/jobs", json={"workflow_id": wid, "name": "j", "command": "true"}).json()
    assert http.post(f"/workflows/{wid}/initialize").status_code == 200
    response = http.post("/user_data", params={"consumer_job_id": job["id"]}, json={"workflow_id": wid, "name": "u"})
    assert "initialised" in refused(response, 409)["detail"]
    assert http.get(f"/jobs/{job['id']}").json()["input_user_data_ids"] == []


def test_job_sent_back_whole_changes_only_what_differs(http: httpx.Client, workflow: dict[str, Any]) -> None:
    wid = workflow["id"]
    job = http.post("/jobs", json={"workflow_id": wid, "name": "j", "command": "true"}).json()
    assert http.put(f"/jobs/{job['id']}", json=job).json() == job
    changed = http.put(f"/jobs/{job['id']}", json={**job, "command": "echo hi"}).json()
    assert changed == {**job, "command": "echo hi"}
    body = refused(http.put(f"/jobs/{job['id']}", json={**job, "status": "completed"}), 422)
    assert "only be set to disabled" in body["detail"]


def test_job_scheduler_id_is_kept_and_must_be_the_workflows(http: httpx.Client, workflow: dict[str, Any]) -> None:
    wid = workflow["id"]
    sched = http.post("/slurm_schedulers", json={"workflow_id": wid, "name": "s", "account": "a"}).json()
    job = http.post("/jobs", json={"workflow_id": wid, "name": "j", "command": "true", "scheduler_id": sched["id"]})
    assert http.get(f"/jobs/{job.json()['id']}").json()["scheduler_id"] == sched["id"]
    response = http.post("/jobs", json={"workflow_id": wid, "name": "k", "command": "true", "scheduler_id": 987654})
    assert "slurm_schedulers 987654" in refused(response, 404)["detail"]


def test_unknown_route_and_method_answer_in_torcs_shape(http: httpx.Client) -> None:
    assert "no API endpoint" in refused(http.get("/nothing_here"), 404)["detail"]
    assert "not allowed" in refused(http.patch("/ping"), 405)["detail"]


@pytest.mark.parametrize(("path", "param"), [("/files", "produced_by_job_id"), ("/resource_requirements", "job_id")])
def test_list_filter_naming_a_job_of_another_workflow_is_refused(http: httpx.Client, workflow: dict[str, Any],
                                                                 path: str, param: str) -> None:  # fmt: skip
    other = http.post("/workflows", json={"name": "other"}).json()
    stranger = http.post("/jobs", json={"workflow_id": other["id"], "name": "x", "command": "true"}).json()
    body = refused(http.get(path, params={"workflow_id": workflow["id"], param: stranger["id"]}), 404)
    assert body["detail"] == f"job {stranger['id']} does not exist"
    http.delete(f"/workflows/{other['id']}")


def test_jobs_listed_by_the_job_they_wait_for(http: httpx.Client, workflow: dict[str, Any]) -> None:
    wid = workflow["id"]
    first = http.post("/jobs", json={"workflow_id": wid, "name": "first", "command": "true"}).json()
    http.post("/jobs", json={"workflow_id": wid, "name": "second", "command": "true",
                             "depends_on_job_ids": [first["id"]]})
    page = http.get("/jobs", params={"workflow_id": wid, "upstream_job_id": first["id"]}).json()
    assert [job["name"] for job in page["items"]] == ["second"] and page["total_count"] == 1


def test_job_lists_sent_as_null_are_empty(http: httpx.Client, workflow: dict[str, Any]) -> None:
    nulls = dict.fromkeys(("depends_on_job_ids", "input_file_ids", "output_file_ids", "input_user_data_ids",
                           "output_user_data_ids"))  # fmt: skip
    job = http.post("/jobs", json={"workflow_id": workflow["id"], "name": "j", "command": "true", **nulls})
    assert job.status_code == 200 and {key: job.json()[key] for key in nulls} == dict.fromkeys(nulls, [])


def test_the_projects_client_creates_a_workflow_with_torcs_settings(client) -> None:
    made = client.create_empty_workflow("settings", project="p", metadata={"k": [1]}, jobs_sort_method="none",
                                        compute_node_wait_for_new_jobs_seconds=4)  # fmt: skip
    read = client.get_workflow(made.id)
    assert (read.project, read.metadata, read.jobs_sort_method, read.compute_node_wait_for_new_jobs_seconds) == (
        "p", {"k": [1]}, "none", 4)
    client.delete_workflow(made.id)


def test_the_projects_client_raises_the_setting_it_refused(client) -> None:
    from torc_client.core.errors import ValidationError

    with pytest.raises(ValidationError, match="compute_node_expiration_buffer_seconds must be at least 0, got -1"):
        client.create_empty_workflow("bad", compute_node_expiration_buffer_seconds=-1)


def test_unfit_jobs_of_a_workflow_that_does_not_exist_is_404(http: httpx.Client) -> None:
    response = http.get("/workflows/987654321/unfit", params={"num_cpus": 1, "memory_gb": 1.0})
    assert refused(response, 404)["detail"] == "workflow 987654321 does not exist"
