"""A racing claimer that completes what it claims, as a runner does: used in threads and as a process.

    python -m bench.agents.racer

reads lines `URL WORKFLOW_ID SEED` on stdin, drains that workflow, and prints one JSON
line per workflow: the ids of every job it was handed, in order (a job handed out
twice, even within one claim, appears twice).
"""

from __future__ import annotations

import json
import os
import random
import socket
import sys
import time

from torc_client import Client
from torc_client import contract as c

#: A round that has not completed by then has lost a job: give up and let the test say so.
DRAIN_TIMEOUT_SECONDS = 20.0


def drain(url: str, workflow_id: int, seed: int) -> list[int]:
    """Claim small random batches and report each batch completed with the next claim, until the workflow completes."""
    rng = random.Random(seed)
    handed: list[int] = []
    with Client(url, timeout=30) as client:
        node = client.register_compute_node(c.ComputeNodeCreate(
            workflow_id=workflow_id, hostname=socket.gethostname(), pid=os.getpid(), num_cpus=64,
            memory_gb=64.0))  # fmt: skip
        outcomes: list[c.JobOutcome] = []
        deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            answer = client.claim(workflow_id, c.ClaimRequest(
                compute_node_id=node.id, limit=rng.randint(1, 12), num_cpus=64, memory_gb=64.0,
                outcomes=outcomes))  # fmt: skip
            handed += [job.id for job in answer.jobs]
            outcomes = [c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status="completed", return_code=0,
                                     exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z")
                        for job in answer.jobs]  # fmt: skip
            if answer.is_complete and not outcomes:
                break
            if not answer.jobs:
                time.sleep(rng.uniform(0.0, 0.003))
        client.deactivate_compute_node(node.id)
    return handed


def main() -> None:
    for line in sys.stdin:
        url, workflow_id, seed = line.split()
        print(json.dumps(drain(url, int(workflow_id), int(seed))), flush=True)


if __name__ == "__main__":
    main()
