"""A request cut short by the database is all or nothing: jobs, counts, results and releases agree afterwards.

The embedded database's `failCommand` failpoint drops the connection at one chosen
command in the middle of a request, exactly as a database dying there would.
"""

from __future__ import annotations

from collections import Counter

import pytest
from pymongo import MongoClient

from tests.claims.test_http_claims import claim, register
from torc_client import Client
from torc_client import contract as c
from torc_client.core.errors import ServerUnavailable


@pytest.fixture()
def fail_once(server):
    """Make the database drop the connection at the next command(s) named."""
    admin = MongoClient(server.mongo_uri).admin
    if not admin.command("getParameter", "*").get("enableTestCommands", True):
        admin.client.close()
        pytest.skip("this MongoDB runs without test commands (mongod --setParameter enableTestCommands=1)")

    def arm(command: str, times: int = 1) -> None:
        admin.command("configureFailPoint", "failCommand", mode={"times": times},
                      data={"failCommands": [command], "closeConnection": True})  # fmt: skip

    yield arm
    admin.command("configureFailPoint", "failCommand", mode="off")
    admin.client.close()


def counts_match_jobs(client: Client, wid: int) -> dict[str, int]:
    counts = client.workflow_status(wid).job_counts
    assert counts == dict(Counter(j.status for j in client.list_jobs(wid)))
    return counts


def outcome(job: c.ClaimedJob) -> c.JobOutcome:
    return c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status="completed", return_code=0,
                        exec_time_minutes=0.01, completion_time="2026-01-01T00:00:00.000Z")  # fmt: skip


def test_a_completion_cut_short_stores_nothing_and_its_retry_stores_everything(client, make_workflow, fail_once):
    spec = {"name": "cut", "jobs": [{"name": "up", "command": "true"},
                                    {"name": "down", "command": "true", "depends_on": ["up"]}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)
    node = register(client, wf.id)
    [job] = claim(client, wf.id, node)
    client.report_start(wf.id, c.StartReport(compute_node_id=node, jobs=[c.JobStart(job_id=job.id,
                                                                                     claim_token=job.claim_token)]))
    report = c.CompleteReport(compute_node_id=node, outcomes=[outcome(job)])
    fail_once("insert")  # the result's insert: after the job's status changed, before the counts and the release
    with pytest.raises(ServerUnavailable):
        client.report_complete(wf.id, report)
    assert counts_match_jobs(client, wf.id) == {"running": 1, "blocked": 1}
    assert client.list_results(wf.id) == []

    assert client.report_complete(wf.id, report).accepted == [job.id]  # the runner's retry
    assert counts_match_jobs(client, wf.id) == {"completed": 1, "ready": 1}
    assert [(r.job_id, r.status) for r in client.list_results(wf.id)] == [(job.id, "completed")]
    assert [j.name for j in claim(client, wf.id, node)] == ["down"]


def test_a_claim_cut_short_hands_out_nothing_and_loses_no_job(client, make_workflow, fail_once):
    wf = make_workflow({"name": "cut", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": "1:6"}}]},
                       initialize=True)  # fmt: skip
    node = register(client, wf.id)
    claim(client, wf.id, node, limit=0)  # takes this lease period's turn at checking leases (a transaction)
    # The claim's own commit (the driver tries a commit twice): the queue's head has moved, jobs and counts are written.
    fail_once("commitTransaction", times=2)
    with pytest.raises(ServerUnavailable):
        claim(client, wf.id, node, limit=3)
    assert counts_match_jobs(client, wf.id) == {"ready": 6}
    handed: list[str] = []
    for _ in range(10):  # the positions the cut claim took are found again by the queue's repair
        handed += [j.name for j in claim(client, wf.id, node, limit=3)]
        if len(handed) == 6:
            break
    assert sorted(handed) == sorted(f"j{i}" for i in range(1, 7))
    assert counts_match_jobs(client, wf.id) == {"pending": 6}
