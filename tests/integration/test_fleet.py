"""A few hundred simulated runners on one real server (`bench.agents.fleet`: the runner protocol as `runner/` speaks
it, with the server's pace obeyed and a backlog kept): every job is handed to one runner at a time and completes
exactly once. Nothing here is timed: the fleet's speed is measured by `python -m bench --only fleet`."""

from __future__ import annotations

import asyncio
import time
import uuid

from bench.agents.fleet import Fleet
from tests.conftest import start_server, stop_server
from torc_client import Client

RUNNERS = 300
JOBS = 1500


SPEC = {"name": "fleet", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{JOBS}"}}]}


def test_a_fleet_of_hundreds_of_runners_runs_every_job_once(server, client, make_workflow) -> None:
    wf = make_workflow(SPEC, initialize=True)
    runs_every_job_once(server.url, client, wf.id)


def test_a_fleet_shared_by_two_server_processes_runs_every_job_once(mongo_uri, tmp_path) -> None:
    """`--workers 2`: each exchange reaches either process, each with a pace and shares of its own (a smaller fleet
    than above: the two processes' own tails of paced reports add up)."""
    server = start_server(mongo_uri, f"torc_fleet_{uuid.uuid4().hex[:8]}", tmp_path, env={"TORC_WORKERS": "2"})
    try:
        with Client(server.url) as client:
            wf = client.create_workflow_from_spec(SPEC, working_dir=str(tmp_path))
            client.initialize_workflow(wf.id)
            runs_every_job_once(server.url, client, wf.id, runners=100)
    finally:
        stop_server(server)


def runs_every_job_once(url: str, client: Client, workflow_id: int, runners: int = RUNNERS) -> None:
    fleet = Fleet(url, workflow_id, runners, job_seconds=0.2)
    stats = asyncio.run(fleet.run(until=time.monotonic() + 600))

    assert stats.errors == [] and stats.lease_losses == 0 and stats.rejected == 0
    assert stats.handed_twice == 0 and stats.completed_twice == 0
    assert stats.completed_total == JOBS and len(fleet.done) == JOBS
    status = client.workflow_status(workflow_id)
    assert status.is_complete and status.job_counts == {"completed": JOBS}
    results = client.list_results(workflow_id)
    assert sorted(r.job_id for r in results) == sorted(j.id for j in client.list_jobs(workflow_id))
