"""Central guarantees, each held by a test of its own: a cycle built through the API is refused when the graph is
rebuilt, and a job whose runners keep dying fails once its lease losses are used up instead of cycling forever."""

from __future__ import annotations

import time

import pytest

from tests.claims.test_http_claims import claim, independent, register
from tests.conftest import SHORT_LEASE_SECONDS
from torc_client import Client
from torc_client import contract as c
from torc_client.core.errors import ValidationError
from torc_client.core.settings import DEFAULT_MAX_LEASE_RETRIES


def test_a_cycle_made_of_files_through_the_api_is_refused_at_initialisation(client: Client) -> None:
    wf = client.create_workflow_from_spec({"name": "loop", "jobs": [{"name": "seed", "command": "true"}]})
    one, two = client.create_file(wf.id, "one", "one.txt"), client.create_file(wf.id, "two", "two.txt")
    client.create_job(wf.id, "a", "true", input_file_ids=[two.id], output_file_ids=[one.id])
    client.create_job(wf.id, "b", "true", input_file_ids=[one.id], output_file_ids=[two.id])
    with pytest.raises(ValidationError, match="dependency cycle: (a -> b -> a|b -> a -> b)"):
        client.initialize_workflow(wf.id)
    assert not client.get_workflow(wf.id).is_initialized



def test_a_cycle_made_of_depends_on_and_user_data_edits_is_refused_at_initialisation(client: Client) -> None:
    # x reads u, y depends on x, z depends on y and writes u: each edit is valid, together they loop.
    wf = client.create_workflow_from_spec({"name": "loop", "jobs": [{"name": "seed", "command": "true"}]})
    u = client.create_user_data(wf.id, "u")
    x = client.create_job(wf.id, "x", "true", input_user_data_ids=[u.id])
    y = client.create_job(wf.id, "y", "true", depends_on_job_ids=[x.id])
    client.create_job(wf.id, "z", "true", depends_on_job_ids=[y.id], output_user_data_ids=[u.id])
    # The cycle is named along the upstream edges (each job, then what it waits on).
    with pytest.raises(ValidationError, match=r"dependency cycle: (x -> z -> y -> x|z -> y -> x -> z|y -> x -> z -> y)$"):
        client.initialize_workflow(wf.id)
    assert not client.get_workflow(wf.id).is_initialized
    assert {j.name: j.status for j in client.list_jobs(wf.id)} == dict.fromkeys(["seed", "x", "y", "z"], "uninitialized")

def test_a_job_whose_runners_keep_dying_fails_after_its_lease_losses(short_lease_server) -> None:
    with Client(short_lease_server.url) as client:
        wf = client.create_workflow_from_spec(independent(1))
        client.initialize_workflow(wf.id)
        (job_id,) = [j.id for j in client.list_jobs(wf.id)]
        for loss in range(DEFAULT_MAX_LEASE_RETRIES + 1):
            node = register(client, wf.id)
            (job,) = claim(client, wf.id, node, limit=1)
            client.report_start(wf.id, c.StartReport(compute_node_id=node, jobs=[
                c.JobStart(job_id=job.id, claim_token=job.claim_token)]))  # fmt: skip
            # The runner dies: nothing more from this node. A bystander's requests let the lease check run.
            watcher = register(client, wf.id)
            deadline = time.monotonic() + 10 * SHORT_LEASE_SECONDS
            while client.get_job(job_id).status == "running" and time.monotonic() < deadline:
                client.heartbeat(watcher)
                time.sleep(0.3)
            client.deactivate_compute_node(watcher)
            expected = "ready" if loss < DEFAULT_MAX_LEASE_RETRIES else "failed"
            assert client.get_job(job_id).status == expected, f"after lease loss {loss + 1}"
        (result,) = client.list_results(wf.id)
        assert result.return_code == -128 and client.workflow_status(wf.id).is_complete
