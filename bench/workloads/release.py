"""5. Release latency: a chain of 200 jobs; from a completion report to the next job being claimable.

One client plays the runner: it claims the ready job, reports it started, then reports
it completed and at once claims again (repeating while the claim comes back empty). The
latency of one link is from sending the completion report to receiving the claim that
hands out the next job, so it includes both round trips: an upper bound on the time
until the job is claimable. p50 and p99 over the chain's links, per repeat.
"""

from __future__ import annotations

import os
import socket
import time

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure, percentile
from bench.stack import Stack
from torc_client import contract as c

NAME = "release"


def one_run(cfg: Config) -> dict[str, float]:
    with Stack("release") as stack:
        client = stack.client
        wf = client.create_workflow_from_spec(specs.chain(cfg.chain_jobs), working_dir=str(stack.dir))
        client.initialize_workflow(wf.id)
        node = client.register_compute_node(c.ComputeNodeCreate(
            workflow_id=wf.id, hostname=socket.gethostname(), pid=os.getpid(), num_cpus=1,
            memory_gb=1.0)).id  # fmt: skip
        request = c.ClaimRequest(compute_node_id=node, limit=1, num_cpus=1, memory_gb=1.0)
        job = client.claim(wf.id, request).jobs[0]
        latencies, report_times, empty_claims = [], [], 0
        for _ in range(cfg.chain_jobs - 1):
            client.report_start(wf.id, c.StartReport(compute_node_id=node, jobs=[
                c.JobStart(job_id=job.id, claim_token=job.claim_token)]))  # fmt: skip
            outcome = c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status="completed", return_code=0,
                                   exec_time_minutes=0.0, completion_time="2026-01-01T00:00:00.000Z")  # fmt: skip
            t0 = time.perf_counter()
            client.report_complete(wf.id, c.CompleteReport(compute_node_id=node, outcomes=[outcome]))
            report_times.append(time.perf_counter() - t0)
            while True:
                jobs = client.claim(wf.id, request).jobs
                if jobs:
                    break
                empty_claims += 1
            latencies.append(time.perf_counter() - t0)
            job = jobs[0]
    ms = [x * 1000 for x in latencies]
    return {"p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms),
            "report_p50": percentile([x * 1000 for x in report_times], 50), "empty_claims": empty_claims}  # fmt: skip


def run(cfg: Config) -> list[Figure]:
    runs = harness.repeat(cfg.repeat, f"chain of {cfg.chain_jobs}", lambda _: one_run(cfg), cfg.log)
    params = {"chain_jobs": cfg.chain_jobs, "completion_report_p50_ms": [round(r["report_p50"], 1) for r in runs],
              "worst_link_ms": [round(r["max"], 1) for r in runs],
              "claims_that_came_back_empty": [r["empty_claims"] for r in runs]}  # fmt: skip
    title = f"Release latency, chain of {cfg.chain_jobs} (completion report -> next job claimed)"
    return [Figure("release.p50", f"{title}, p50", "ms", [r["p50"] for r in runs], higher_is_better=False,
                   params=params),
            Figure("release.p99", f"{title}, p99", "ms", [r["p99"] for r in runs], higher_is_better=False,
                   params=params)]  # fmt: skip
