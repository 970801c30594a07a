"""9. A million jobs (opt-in: `python -m bench --only million`; about 15 minutes on a 2-core machine).

Each size (100,000 and then `million_jobs`) gets a fresh stack: create + initialise one
`parameters: i: "1:N"` workflow through the client (progress on, no time limit), then ask its
status and the first page of its ready jobs, open the notebook dashboard, run one runner (2
jobs in flight, as `e2e`) for `WINDOW` seconds, then delete it (the answer, and the background
removal of its documents). The API server's RSS is sampled throughout. The ratio of the two
create + initialise times shows whether the cost grows linearly; the runner's rate is compared
with the same window on 10,000 jobs and with the raw spawn limit measured in the same run.
"""

from __future__ import annotations

import signal
import statistics
import time

import pymongo

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure
from bench.stack import Stack, start_runner
from bench.workloads import limit

NAME = "million"
MB = 1024 * 1024
BASE_JOBS = 100_000
#: The jobs of the workflow whose runner rate the big workflow's is compared with.
SMALL_JOBS = 10_000
#: Seconds one runner runs on each workflow (less if the jobs run out first).
WINDOW = 60.0


def _ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def one_run(n: int, window: float = WINDOW, parallel: int = 2) -> dict[str, float]:
    with Stack(f"million{n}") as stack:
        client = stack.client
        sampler = harness.Sampler(interval=0.2)
        sampler.watch("api", stack.server_pid)
        with sampler:
            t0 = time.perf_counter()
            wf = client.create_workflow_from_spec(specs.noop(n), working_dir=str(stack.dir), progress=lambda _: None)
            t1 = time.perf_counter()
            client.initialize_workflow(wf.id)
            t2 = time.perf_counter()
            status = statistics.median(_ms(lambda: client.workflow_status(wf.id)) for _ in range(5))
            page = statistics.median(_ms(lambda: client.jobs_page(wf.id, status="ready", limit=100)) for _ in range(5))
            dashboard = statistics.median(_ms(lambda: _open_dashboard(client, wf.id)) for _ in range(3))
            rate = _runner_rate(stack, wf.id, window, parallel)
            t3 = time.perf_counter()
            client.request("DELETE", f"/workflows/{wf.id}", timeout=None)
            deleted = time.perf_counter() - t3
            purged = _purged(stack, wf.id) - t3
    return {"create": t1 - t0, "init": t2 - t1, "total": t2 - t0, "status": status, "page": page, "dashboard": dashboard, "delete": deleted,
            "purge": purged, "rate": rate, "rss": sampler.peak.get("api", 0) / MB}  # fmt: skip


def _runner_rate(stack: Stack, wid: int, window: float, parallel: int) -> float:
    """Jobs per second one runner completes, from its start until `window` s pass or the jobs run out."""
    started = time.perf_counter()
    runner = start_runner(stack, wid, parallel)
    while runner.poll() is None and time.perf_counter() - started < window:
        time.sleep(0.2)
    if runner.poll() is None:
        runner.send_signal(signal.SIGTERM)  # the runner stops its jobs and reports them
    elapsed = time.perf_counter() - started
    runner.wait()
    return stack.client.workflow_status(wid).job_counts.get("completed", 0) / elapsed


def _open_dashboard(client, wid: int) -> None:
    """What a notebook cell showing the dashboard does before it draws: the first refresh of every view."""
    from torc_client.notebook import WorkflowDashboard

    WorkflowDashboard(wid, client=client, watch=False).close()


def _purged(stack: Stack, wid: int) -> float:
    """When the deleted workflow's documents are all gone (the server removes a big workflow's in the background)."""
    with pymongo.MongoClient(stack.mongo_uri) as mongo:
        purges = mongo["bench"].purges
        while purges.find_one({"_id": wid}) is not None:
            time.sleep(0.5)
    return time.perf_counter()


def run(cfg: Config) -> list[Figure]:
    n = cfg.million_jobs
    spawn = harness.repeat(cfg.repeat, "spawn limit", lambda _: limit.xargs_spawner(cfg.noop_jobs, 2), cfg.log)
    small = harness.repeat(cfg.repeat, f"create {SMALL_JOBS:,}", lambda _: one_run(SMALL_JOBS), cfg.log)
    base = harness.repeat(cfg.repeat, f"create {BASE_JOBS:,}", lambda _: one_run(BASE_JOBS), cfg.log)
    big = harness.repeat(cfg.repeat, f"create {n:,}", lambda _: one_run(n), cfg.log)
    params = {"jobs": n}

    def fig(key: str, field: str, title: str, unit: str, higher_is_better: bool = False) -> Figure:
        return Figure(f"million.{key}", title, unit, [r[field] for r in big], higher_is_better, params=params)

    return [
        fig("create", "total", f"Create + initialise {n:,} no-op jobs", "s"),
        Figure("million.ratio", f"Time ratio, {n:,} / {BASE_JOBS:,} jobs (jobs ratio {n // BASE_JOBS}x)", "x",
               [b["total"] / s["total"] for s, b in zip(base, big)], higher_is_better=False, params=params),
        fig("rss", "rss", f"API server peak RSS, creating {n:,} jobs", "MB"),
        fig("status", "status", f"Status of a {n:,}-job workflow", "ms"),
        fig("page", "page", f"First page (100) of the ready jobs of {n:,}", "ms"),
        fig("dashboard", "dashboard", f"Open the notebook dashboard on {n:,} jobs (first refresh)", "ms"),
        fig("rate", "rate", f"One runner (2 in flight) on {n:,} jobs, first {WINDOW:.0f} s", "jobs/s", True),
        Figure("million.rate_ratio", f"Runner rate on {n:,} jobs / on {SMALL_JOBS:,} jobs", "ratio",
               [b["rate"] / s["rate"] for s, b in zip(small, big)], params=params),
        Figure("million.spawn_share", f"Runner rate on {n:,} jobs / raw spawn limit (xargs -P 2), same run", "ratio",
               [b["rate"] / limit_rate for b, limit_rate in zip(big, spawn)], params=params),
        fig("delete", "delete", f"Delete a {n:,}-job workflow (until the answer)", "s"),
        fig("purge", "purge", f"Delete a {n:,}-job workflow (until its documents are gone, in the background)", "s"),
    ]
