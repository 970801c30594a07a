"""A few hundred simulated runners on one real server (`bench.agents.fleet`: the runner protocol as `runner/` speaks
it, with the server's pace obeyed and a backlog kept): every job is handed to one runner at a time and completes
exactly once. Nothing here is timed: the fleet's speed is measured by `python -m bench --only fleet`."""

from __future__ import annotations

import asyncio
import time

from bench.agents.fleet import Fleet

RUNNERS = 300
JOBS = 1500


def test_a_fleet_of_hundreds_of_runners_runs_every_job_once(server, client, make_workflow) -> None:
    wf = make_workflow({"name": "fleet", "jobs": [{"name": "j{i}", "command": "true",
                                                   "parameters": {"i": f"1:{JOBS}"}}]}, initialize=True)  # fmt: skip
    fleet = Fleet(server.url, wf.id, RUNNERS, job_seconds=0.2)
    stats = asyncio.run(fleet.run(until=time.monotonic() + 600))

    assert stats.errors == [] and stats.lease_losses == 0 and stats.rejected == 0
    assert stats.handed_twice == 0 and stats.completed_twice == 0
    assert stats.completed_total == JOBS and len(fleet.done) == JOBS
    status = client.workflow_status(wf.id)
    assert status.is_complete and status.job_counts == {"completed": JOBS}
    results = client.list_results(wf.id)
    assert sorted(r.job_id for r in results) == sorted(j.id for j in client.list_jobs(wf.id))
