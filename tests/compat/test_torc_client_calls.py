"""Torc's published Python client (`torc-client` 0.35.0 from PyPI) makes its calls against this server.

Each test runs one scenario of `driver.py` in the client's own virtualenv and checks what
`torc.openapi_client` returned: a model for every create (an answer of 201 would make it None),
pages it can read (`max_limit`), and the settings it sent, kept.
"""

from __future__ import annotations

from typing import Any


def test_service_calls_answer_with_torc_models(drive) -> None:
    found = drive("service")
    assert found["ping"] == {"status": "ok"}
    assert found["version"]["api_version"] == "0.21.0" and found["version"]["version"]


def test_workflow_settings_are_kept_and_returned(drive) -> None:
    found = drive("workflows")
    created = found["created"]
    expected = {"name": "compat-settings", "description": "all settings", "project": "p1",
                "metadata": {"owner": "ana", "tags": ["a", "b"]}, "use_pending_failed": True,
                "compute_node_expiration_buffer_seconds": 120, "compute_node_wait_for_new_jobs_seconds": 30,
                "compute_node_ignore_workflow_completion": True, "compute_node_wait_for_healthy_database_minutes": 5}
    assert {key: created[key] for key in expected} == expected
    assert found["updated"] == {**created, "description": "changed by a read-modify-write"}
    assert found["deleted"]["id"] == created["id"]


def test_workflow_status_is_torcs_summary(drive) -> None:
    status = drive("workflows")["status"]
    assert status["workflow_name"] == "compat-settings" and status["total_jobs"] == 0
    assert status["active_compute_nodes"] == 0 and status["is_complete"] is False
    assert set(status["jobs_by_status"]) == {"uninitialized", "blocked", "ready", "pending", "running", "completed",
                                             "failed", "canceled", "terminated", "disabled", "pending_failed"}


def test_list_workflows_pages_and_sorts_as_asked(drive) -> None:
    found = drive("workflows")
    assert found["page"]["max_limit"] == 1000 and found["page"]["offset"] == 0
    assert found["sorted_names"] == ["compat-sort-c", "compat-sort-b", "compat-sort-a"]


def test_records_are_created_read_listed_updated_and_deleted(drive) -> None:
    found = drive("records")
    wid = found["workflow_id"]
    created = found["created"]
    work, reader = created["jobs"]
    assert [f["name"] for f in created["files"]] == ["inputs", "outputs"]
    assert work["scheduler_id"] == created["slurm_scheduler"]["id"]
    assert work["input_file_ids"] == [created["files"][0]["id"]]
    assert reader["status"] == "uninitialized" and reader["workflow_id"] == wid
    twin_a, twin_b = created["resource_requirements"]
    assert twin_a["name"] == twin_b["name"] == "twin" and twin_a["id"] != twin_b["id"]
    assert found["updated_job"] == {**work, "command": "echo changed",
                                    "output_user_data_ids": [created["user_data"]["id"]]}
    assert found["updated_user_data"]["data"] == {"x": 2}
    assert found["updated_resource_requirements"] == {**twin_b, "num_cpus": 8}
    assert found["updated_file"]["path"] == "moved.json"
    assert [ud["name"] for ud in found["consumed_by_reader"]] == ["params"]
    assert [ud["name"] for ud in found["produced_by_work"]] == ["params"]
    assert found["deleted"]["job"]["id"] == reader["id"]
    assert found["deleted"]["slurm_scheduler"]["id"] == created["slurm_scheduler"]["id"]


def test_list_filters_that_name_a_job_or_a_flag_are_applied(drive) -> None:
    found = drive("records")
    assert found["filtered"] == {"files_produced_by_work": ["outputs"], "jobs_needing_inputs": ["work"],
                                 "requirements_of_work": [found["created"]["resource_requirements"][0]["id"]],
                                 "lasting_user_data": ["params"], "ephemeral_user_data": []}


def test_list_pages_carry_max_limit_and_honour_sort_order(drive) -> None:
    pages: dict[str, Any] = drive("records")["pages"]
    assert {name: (page["max_limit"], page["has_more"]) for name, page in pages.items()} == {
        name: (10_000, False) for name in pages}
    assert pages["jobs"]["names"] == ["work", "read"]
    assert pages["files"]["names"] == ["outputs", "inputs"]
    assert pages["resource_requirements"]["names"] == ["twin", "twin"]


def test_a_slurm_allocations_record_is_made_read_updated_and_deleted_with_its_job_id_as_a_number(drive) -> None:
    found = drive("allocations")
    made = found["created"]
    assert (made["scheduler_id"], made["scheduler_config_id"], made["status"]) == (4242, found["scheduler_id"],
                                                                                   "pending")  # fmt: skip
    assert found["updated"] == {**made, "status": "active"}
    assert found["listed"] == [found["updated"]] and found["deleted"]["id"] == made["id"]


def test_compute_nodes_are_registered_read_and_counted(drive) -> None:
    found = drive("compute_nodes")
    node = found["created"]
    assert (node["hostname"], node["num_cpus"], node["memory_gb"], node["is_active"]) == ("node-a", 8, 16.0, True)
    assert found["read"] == node and found["listed"] == [node] and found["deleted"]["id"] == node["id"]
    assert found["status"]["active_compute_nodes"] == 1


def test_errors_reach_the_client_in_torcs_shape(drive) -> None:
    found = drive("errors")
    missing = found["missing_workflow"]
    assert missing["status"] == 404
    assert missing["body"]["errorNum"] == 404 and missing["body"]["code"] == 404
    assert missing["body"]["errorMessage"] == "workflow 987654321 does not exist"
    assert missing["body"]["error"] == {"error": "Not found", "message": "workflow 987654321 does not exist"}
    bad = found["bad_memory"]
    assert bad["status"] == 422
    assert bad["data"]["errorNum"] == 422 and "invalid memory 'lots'" in bad["data"]["errorMessage"]


def test_slurm_schedulers_resource_requirements_and_results_through_torcs_calls(drive) -> None:
    found = drive("more_records")
    assert found["scheduler_updated"] == {**found["scheduler"], "nodes": 2}
    assert found["rr_deleted"]["name"] == "gone" and found["rr_deleted"]["runtime"] == "PT1M"
    assert found["results_page"] == {"count": 0, "has_more": False, "max_limit": 10_000, "offset": 0,
                                     "total_count": 0}


def test_cancel_and_reset_an_initialised_workflow(drive, make_workflow, client) -> None:
    workflow = make_workflow({"name": "compat-cancel", "jobs": [{"name": "j", "command": "true"}]}, initialize=True)
    found = drive("cancel_and_reset", str(workflow.id))
    assert found["canceled"]["is_canceled"] is True
    assert found["status"]["is_canceled"] is True and found["status"]["jobs_by_status"]["canceled"] == 1
    assert (found["reset"]["updated_count"], found["reset"]["reset_type"]) == (1, "all")
    assert client.get_workflow(workflow.id).is_canceled is False
    client.delete_workflow(workflow.id)
