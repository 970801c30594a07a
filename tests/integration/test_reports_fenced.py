"""Reports reach only the jobs they may: of the workflow in the URL, leased to the reporting compute node."""

from __future__ import annotations

import pytest

from tests.claims.test_http_claims import claim, independent, register
from torc_client import Client
from torc_client import contract as c
from torc_client.core.errors import ConflictError, NotFoundError


def outcome(job: c.ClaimedJob) -> c.JobOutcome:
    return c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status="completed", return_code=0,
                        exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z")  # fmt: skip


@pytest.fixture()
def two(client: Client, make_workflow):
    """Two initialised workflows, each with a compute node that claimed one of its jobs."""
    made = []
    for _ in range(2):
        wf = make_workflow(independent(2), initialize=True)
        node = register(client, wf.id)
        made.append((wf.id, node, claim(client, wf.id, node, limit=1)[0]))
    return made


def counts(client: Client, wid: int) -> dict[str, int]:
    return client.workflow_status(wid).job_counts


def test_a_completion_sent_through_another_workflow_changes_neither(client: Client, two) -> None:
    (first, node_a, job_a), (second, _, _) = two
    before = counts(client, first), counts(client, second)
    with pytest.raises(ConflictError, match=f"belongs to workflow {first}, not {second}"):
        client.report_complete(second, c.CompleteReport(compute_node_id=node_a, outcomes=[outcome(job_a)]))
    with pytest.raises(ConflictError, match=f"belongs to workflow {first}, not {second}"):
        client.report_start(second, c.StartReport(compute_node_id=node_a, jobs=[
            c.JobStart(job_id=job_a.id, claim_token=job_a.claim_token)]))  # fmt: skip
    assert (counts(client, first), counts(client, second)) == before


def test_a_node_of_the_right_workflow_cannot_report_jobs_of_another(client: Client, two) -> None:
    (first, node_a, job_a), (second, node_b, _) = two
    answer = client.report_complete(second, c.CompleteReport(compute_node_id=node_b, outcomes=[outcome(job_a)]))
    assert answer.accepted == [] and f"belongs to workflow {first}" in answer.rejected[0].reason
    assert counts(client, first) == {"pending": 1, "ready": 1}


def test_a_completion_from_a_node_that_does_not_hold_the_lease_is_refused(client: Client, make_workflow) -> None:
    wf = make_workflow(independent(2), initialize=True)
    holder, other = register(client, wf.id), register(client, wf.id)
    (job,) = claim(client, wf.id, holder, limit=1)
    answer = client.report_complete(wf.id, c.CompleteReport(compute_node_id=other, outcomes=[outcome(job)]))
    assert answer.accepted == [] and f"held by compute node {holder}, not {other}" in answer.rejected[0].reason
    assert counts(client, wf.id) == {"pending": 1, "ready": 1}
    assert client.list_results(wf.id) == []


def test_a_report_from_a_compute_node_that_does_not_exist_is_refused(client: Client, two) -> None:
    (first, _, job_a), _ = two
    with pytest.raises(NotFoundError, match="compute_node 999999999 does not exist"):
        client.report_complete(first, c.CompleteReport(compute_node_id=999999999, outcomes=[outcome(job_a)]))
    assert counts(client, first) == {"pending": 1, "ready": 1}


def test_a_claim_through_another_workflow_processes_none_of_its_report(client: Client, two) -> None:
    (first, node_a, job_a), (second, _, _) = two
    with pytest.raises(ConflictError):
        client.claim(second, c.ClaimRequest(compute_node_id=node_a, limit=1, outcomes=[outcome(job_a)]))
    assert counts(client, first) == {"pending": 1, "ready": 1}
