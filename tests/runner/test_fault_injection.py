"""Fault injection with real processes: kill -9 a runner, the API process and the database in the middle of a run.

One workflow of a few hundred short jobs runs on two runners while, one after the
other, a runner, the API server and the embedded database are killed with SIGKILL and
the last two are started again on the same port (and data directory). Every job logs
each execution it begins and ends, with its compute node, so the test can see what
ran where and when, not only what the server recorded.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from api.embedded import EmbeddedDatabase, free_port
from tests.conftest import start_server, stop_server
from tests.runner.conftest import wait_until
from torc_client import Client

JOBS = 240
LEASE_SECONDS = 8.0
COMMAND = ('echo "start {i} $TORC_COMPUTE_NODE_ID $(date +%s.%N)" >> runs.log; sleep 0.15; '
           'echo "end {i} $TORC_COMPUTE_NODE_ID $(date +%s.%N)" >> runs.log')  # fmt: skip


class Execution(NamedTuple):
    node: int
    start: float
    end: float | None


def test_nothing_acknowledged_is_lost_and_no_job_runs_twice_at_once(tmp_path, start_runner) -> None:
    data, db_port, api_port = tmp_path / "db", free_port(), free_port()
    database = EmbeddedDatabase(data, port=db_port).__enter__()
    server = start_server(database.uri, "torc", tmp_path, LEASE_SECONDS, port=api_port)
    client = Client(server.url, timeout=10)
    try:
        spec = {"name": "faults", "jobs": [{"name": "j{i}", "command": COMMAND, "parameters": {"i": f"1:{JOBS}"}}]}
        wf = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
        client.initialize_workflow(wf.id)
        doomed = start_runner(server.url, wf.id, "--max-parallel-jobs", "2")
        doomed_node = wait_until(lambda: [n.id for n in client.list_compute_nodes(wf.id)], what="a runner")[0]
        survivor = start_runner(server.url, wf.id, "--max-parallel-jobs", "2")

        completed_at_least(client, wf.id, JOBS // 5)
        doomed.kill()
        killed_at = time.time()
        rescuer = start_runner(server.url, wf.id, "--max-parallel-jobs", "2")

        completed_at_least(client, wf.id, 2 * JOBS // 5)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        server = start_server(database.uri, "torc", tmp_path, LEASE_SECONDS, port=api_port)

        completed_at_least(client, wf.id, 3 * JOBS // 5)
        acknowledged = {(r.job_id, r.run_id, r.attempt_id, r.status) for r in client.list_results(wf.id, all_runs=True)}
        database.process.send_signal(signal.SIGKILL)
        database.process.wait()
        time.sleep(1.0)  # runners meet a server whose database is gone
        database = EmbeddedDatabase(data, port=db_port).__enter__()

        for runner in (survivor, rescuer):
            assert runner.wait(240) == 0, runner.output()
        status = client.workflow_status(wf.id)
        assert status.is_complete
        assert status.job_counts == {"completed": JOBS}
        jobs = client.list_jobs(wf.id, limit=JOBS)
        assert Counter(j.status for j in jobs) == {"completed": JOBS}
        results = client.list_results(wf.id, all_runs=True)
        assert acknowledged <= {(r.job_id, r.run_id, r.attempt_id, r.status) for r in results}
        assert sorted(r.job_id for r in results) == sorted(j.id for j in jobs)  # one result per job
        assert {r.status for r in results} == {"completed"}
        check_executions(executions(tmp_path / "runs.log"), doomed_node, killed_at)
    finally:
        client.close()
        stop_server(server)
        database.stop()


def completed_at_least(client: Client, wid: int, n: int) -> None:
    wait_until(lambda: client.workflow_status(wid).job_counts.get("completed", 0) >= n, timeout=120,
               what=f"{n} completed jobs")  # fmt: skip


def executions(log: Path) -> dict[str, list[Execution]]:
    """Each job's executions, in the order they began, from the lines the jobs themselves wrote."""
    started: dict[tuple[str, int], list[float]] = {}
    ended: dict[tuple[str, int], list[float]] = {}
    for line in log.read_text().splitlines():
        kind, job, node, stamp = line.split()
        (started if kind == "start" else ended).setdefault((job, int(node)), []).append(float(stamp))
    runs: dict[str, list[Execution]] = {}
    for (job, node), starts in started.items():
        ends = ended.get((job, node), [])
        for k, start in enumerate(sorted(starts)):
            runs.setdefault(job, []).append(Execution(node, start, sorted(ends)[k] if k < len(ends) else None))
    return {job: sorted(runs[job], key=lambda e: e.start) for job in runs}


def check_executions(runs: dict[str, list[Execution]], doomed_node: int, killed_at: float) -> None:
    """Every job ran; only a job of the killed runner ran again, and only after that runner (and its jobs) died."""
    assert len(runs) == JOBS
    for job, done in runs.items():
        assert len(done) <= 2, (job, done)
        elsewhere = [e for e in done if e.node != doomed_node]
        assert len(elsewhere) <= 1, (job, done)
        if len(done) == 2:
            first, second = done
            assert first.node == doomed_node, (job, done)
            assert second.start >= killed_at > first.start, (job, done)  # never two copies at once
