"""Jobs a runner stops at its allocation's end: recorded `terminated`, then ready again as their next attempt."""

from __future__ import annotations

from tests.claims.test_http_claims import claim, independent, register
from torc_client import Client
from torc_client import contract as c


def stop_at_the_end(client: Client, wid: int, node: int, jobs: list[c.ClaimedJob], code: int) -> None:
    client.report_start(wid, c.StartReport(compute_node_id=node, jobs=[
        c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in jobs]))  # fmt: skip
    client.report_complete(wid, c.CompleteReport(compute_node_id=node, outcomes=[], returned=[
        c.JobStart(job_id=j.id, claim_token=j.claim_token, return_code=code, exec_time_minutes=0.5) for j in jobs]))


def test_running_jobs_returned_at_the_end_are_recorded_terminated_and_requeued(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(2), initialize=True)
    node = register(client, wf.id)
    jobs = claim(client, wf.id, node, limit=2)
    stop_at_the_end(client, wf.id, node, jobs, -9)
    assert client.workflow_status(wf.id).job_counts == {"ready": 2}
    results = client.list_results(wf.id, all_runs=True)
    assert sorted((r.job_id, r.status, r.return_code, r.attempt_id) for r in results) == sorted(
        (j.id, "terminated", -9, 1) for j in jobs)
    again = claim(client, wf.id, register(client, wf.id), limit=2)
    assert sorted((j.id, j.attempt_id) for j in again) == sorted((j.id, 2) for j in jobs)
    messages = [e.message for e in client.list_events(wf.id).items]
    assert any(m.startswith("2 jobs terminated: ") and "at its allocation's end" in m for m in messages)
    assert any(m.startswith("2 jobs requeued: ") for m in messages)


def test_a_repeated_return_stores_nothing_twice(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(1), initialize=True)
    node = register(client, wf.id)
    jobs = claim(client, wf.id, node, limit=1)
    stop_at_the_end(client, wf.id, node, jobs, 143)
    client.report_complete(wf.id, c.CompleteReport(compute_node_id=node, outcomes=[], returned=[
        c.JobStart(job_id=jobs[0].id, claim_token=jobs[0].claim_token, return_code=143)]))  # fmt: skip
    assert [r.status for r in client.list_results(wf.id, all_runs=True)] == ["terminated"]
    assert client.workflow_status(wf.id).job_counts == {"ready": 1}


def test_unstarted_jobs_returned_store_no_result(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(1), initialize=True)
    node = register(client, wf.id)
    (job,) = claim(client, wf.id, node, limit=1)
    client.report_complete(wf.id, c.CompleteReport(compute_node_id=node, outcomes=[], returned=[
        c.JobStart(job_id=job.id, claim_token=job.claim_token)]))  # fmt: skip
    assert client.list_results(wf.id, all_runs=True) == []
    assert [j.attempt_id for j in claim(client, wf.id, node, limit=1)] == [1]


def test_a_claim_ignoring_resources_still_takes_only_jobs_that_fit_the_time_left(client: Client,
                                                                                 make_workflow) -> None:  # fmt: skip
    spec = {"name": "time", "jobs": [{"name": "long", "command": "true", "resource_requirements": "long"},
                                     {"name": "short", "command": "true", "resource_requirements": "short"}],
            "resource_requirements": [{"name": "long", "num_cpus": 1, "memory": "1m", "runtime": "PT25S"},
                                      {"name": "short", "num_cpus": 1, "memory": "1m", "runtime": "PT5S"}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    for backlog in (0, 5):  # jobs to run now, and jobs to keep waiting (`--max-parallel-jobs` runners)
        answer = client.claim(wf.id, c.ClaimRequest(compute_node_id=node, limit=0 if backlog else 5, backlog=backlog,
                                                    num_cpus=1, memory_gb=1, ignore_resources=True,
                                                    time_limit_seconds=10))  # fmt: skip
        assert [j.name for j in answer.jobs] == ([] if backlog else ["short"])
    assert client.workflow_status(wf.id).job_counts == {"ready": 1, "pending": 1}
