"""Leases after silence: who lost them is decided by who went silent while the server listened, not by who
speaks first after a restart."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.claims.test_http_claims import claim, independent, register
from tests.conftest import SHORT_LEASE_SECONDS, start_server, stop_server
from torc_client import Client
from torc_client import contract as c
from torc_client.core.errors import LeaseExpiredError


def start(client: Client, wid: int, node: int) -> list[c.ClaimedJob]:
    jobs = claim(client, wid, node, limit=1)
    client.report_start(wid, c.StartReport(compute_node_id=node, jobs=[
        c.JobStart(job_id=j.id, claim_token=j.claim_token) for j in jobs]))  # fmt: skip
    return jobs


def test_after_a_server_outage_every_live_runner_keeps_its_jobs_whoever_speaks_first(mongo_uri, tmp_path) -> None:
    database = f"torc_outage_{uuid.uuid4().hex[:8]}"
    server = start_server(mongo_uri, database, tmp_path, SHORT_LEASE_SECONDS)
    with Client(server.url) as client:
        wf = client.create_workflow_from_spec(independent(4), working_dir=str(tmp_path))
        client.initialize_workflow(wf.id)
        first, second = register(client, wf.id), register(client, wf.id)
        start(client, wf.id, first)
        start(client, wf.id, second)
        client.workflow_status(wf.id)  # a lease check runs
    stop_server(server)
    time.sleep(3 * SHORT_LEASE_SECONDS)  # both leases run out while nobody can renew them
    server = start_server(mongo_uri, database, tmp_path, SHORT_LEASE_SECONDS)
    try:
        with Client(server.url) as client:
            client.heartbeat(first)  # the first to speak, and its request runs the overdue lease check
            client.heartbeat(second)  # the second still holds its job
            assert client.workflow_status(wf.id).job_counts == {"running": 2, "ready": 2}
            assert any("lease checks resume" in e.message for e in client.list_events(wf.id).items)
    finally:
        stop_server(server)


def test_a_runner_silent_past_its_lease_while_others_were_heard_cannot_renew(short_lease_server) -> None:
    with Client(short_lease_server.url) as client:
        wf = client.create_workflow_from_spec(independent(4))
        client.initialize_workflow(wf.id)
        silent, talking = register(client, wf.id), register(client, wf.id)
        (job,) = start(client, wf.id, silent)
        deadline = time.monotonic() + 2 * SHORT_LEASE_SECONDS
        while time.monotonic() < deadline:
            client.heartbeat(talking)  # the server listens all along
            time.sleep(0.2)
        with pytest.raises(LeaseExpiredError):
            client.heartbeat(silent)
        assert client.get_job(job.id).status == "ready"  # back in the queue, once
        assert client.workflow_status(wf.id).job_counts == {"ready": 4}
