"""Exactly-once claims under real races: many claimers, two API processes, releases and forced queue repairs.

Every round is a fresh workflow with small queues (two resource requirements) whose
dependents are released while claimers race for the last jobs, and the servers repair
their queues on every claim that comes back empty-handed, so claims, releases and
repairs interleave as much as they can. Each round must hand every job out once,
keep the counts equal to the jobs, and complete.
"""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pymongo
import pytest

from bench import specs
from bench.agents.racer import drain
from tests.conftest import start_server, stop_server
from torc_client import Client

ROUNDS = 12
#: A bound on the whole test: rounds stop early past it (each round is asserted in full).
BUDGET_SECONDS = 100.0
THREADS_PER_SERVER = 4


@pytest.fixture()
def racing_servers(mongo_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Two API processes on one database that repair their queues whenever a claim finds nothing."""
    monkeypatch.setenv("TORC_QUEUE_REPAIR_SECONDS", "0")
    database = f"torc_race_{tmp_path.name[-8:]}"
    first = start_server(mongo_uri, database, tmp_path)
    second = start_server(mongo_uri, database, tmp_path)
    yield first, second
    stop_server(first)
    stop_server(second)


def test_claims_hand_each_job_out_once_while_releases_and_repairs_race(racing_servers, tmp_path: Path) -> None:
    urls = [server.url for server in racing_servers]
    agents = [subprocess.Popen([sys.executable, "-m", "bench.agents.racer"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True) for _ in urls]  # fmt: skip
    start = time.monotonic()
    rounds = 0
    try:
        with Client(urls[0]) as client, concurrent.futures.ThreadPoolExecutor(THREADS_PER_SERVER * 2) as pool:
            while rounds < ROUNDS and time.monotonic() - start < BUDGET_SECONDS:
                wf = client.create_workflow_from_spec(specs.race(40), working_dir=str(tmp_path))
                client.initialize_workflow(wf.id)
                for k, (agent, url) in enumerate(zip(agents, urls)):
                    agent.stdin.write(f"{url} {wf.id} {rounds * 100 + k}\n")
                    agent.stdin.flush()
                threads = [pool.submit(drain, urls[k % 2], wf.id, rounds * 100 + 10 + k)
                           for k in range(THREADS_PER_SERVER * 2)]  # fmt: skip
                handed = [jid for t in threads for jid in t.result()]
                handed += [jid for agent in agents for jid in json.loads(agent.stdout.readline())]
                _assert_round(client, wf.id, handed, rounds)
                rounds += 1
    finally:
        for agent in agents:
            agent.stdin.close()
            agent.wait(30)
            agent.stdout.close()
    assert rounds >= 3, f"only {rounds} rounds ran within {BUDGET_SECONDS:.0f} s"
    assert repairs_run(racing_servers[0]) > 0, "no queue repair ran: the race this test is for was not exercised"


def repairs_run(server) -> int:
    """Queue repairs run across every workflow of the servers' database (each workflow counts its duties)."""
    with pymongo.MongoClient(server.mongo_uri) as mongo:
        return sum(doc.get("turns", {}).get("repair_at", 0) for doc in mongo[server.database].workflows.find())


def _assert_round(client: Client, workflow_id: int, handed: list[int], round_no: int) -> None:
    jobs = client.list_jobs(workflow_id)
    twice = sorted(jid for jid, n in Counter(handed).items() if n > 1)
    assert twice == [], f"round {round_no}: jobs handed out more than once: {twice}"
    assert sorted(handed) == sorted(job.id for job in jobs), f"round {round_no}: not every job was handed out"
    status = client.workflow_status(workflow_id)
    assert status.job_counts == dict(Counter(job.status for job in jobs)), f"round {round_no}: counts drifted"
    assert status.job_counts == {"completed": len(jobs)} and status.is_complete, f"round {round_no}: {status}"
