"""One claimer: registers a compute node, waits for `go` on stdin, claims until nothing is left.

    python -m bench.agents.claimer URL WORKFLOW_ID BATCH OUT_JSON

Writes {"ids": [...], "first": t, "last": t, "calls": n} to OUT_JSON (times: epoch seconds,
start of the first claim and end of the last claim that returned jobs).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

from torc_client import Client
from torc_client import contract as c


def main(url: str, workflow_id: int, batch: int, out: str) -> None:
    with Client(url, timeout=600) as client:
        node = client.register_compute_node(c.ComputeNodeCreate(
            workflow_id=workflow_id, hostname=socket.gethostname(), pid=os.getpid(), num_cpus=batch,
            memory_gb=1024.0))  # fmt: skip
        request = c.ClaimRequest(compute_node_id=node.id, limit=batch, num_cpus=batch, memory_gb=1024.0)
        print("ready", flush=True)
        sys.stdin.readline()
        ids: list[int] = []
        calls, first, last = 0, time.time(), 0.0
        while True:
            jobs = client.claim(workflow_id, request).jobs
            calls += 1
            if not jobs:
                break
            ids.extend(j.id for j in jobs)
            last = time.time()
    with open(out, "w") as stream:
        json.dump({"ids": ids, "first": first, "last": last, "calls": calls}, stream)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
