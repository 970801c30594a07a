"""Torc's calls beyond records: bulk job creation, the workflow questions, and a run through Torc's own claim,
start and complete calls, each made with torc-client and checked in what it returns."""

from __future__ import annotations



def test_create_jobs_adds_jobs_in_bulk(drive) -> None:
    jobs = drive("bulk_jobs")["jobs"]
    assert [job["name"] for job in jobs] == ["j0", "j1", "j2"]
    assert {job["status"] for job in jobs} == {"uninitialized"}


def test_workflow_queries_answer(drive) -> None:
    found = drive("workflow_queries")
    assert found["is_uninitialized"]["is_uninitialized"] is True
    assert len(found["job_ids"]["job_ids"]) == 2
    assert len(found["job_dependencies"]["items"]) == 1
    assert found["is_complete"]["is_complete"] is False


def test_a_workflow_runs_through_torcs_claim_start_and_complete(drive) -> None:
    found = drive("run")
    assert [job["name"] for job in found["claimed"]["jobs"]] == ["only"]
    assert found["completed"]["status"] == "completed"
    assert found["is_complete"]["is_complete"] is True
    assert [r["return_code"] for r in found["results"]] == [0]
    assert found["event"]["data"] == {"category": "compat"} and found["events"]
    assert found["node_updated"]["is_active"] is False
