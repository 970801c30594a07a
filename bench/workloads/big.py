"""7 and 8. A 100,000-job workflow: status and job-list latency, and peak memory of every process.

One fresh stack per repeat. The RSS of the API server, the database server and the
runner is sampled (20 Hz) from before the workflow is created until the end: creating
and initialising it, asking its status and job pages, and one runner
(`torc run --max-parallel-jobs P`) working on it for a fixed time.
"""

from __future__ import annotations

import statistics
import time

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure, percentile
from bench.stack import Stack, start_runner

NAME = "big"
MB = 1024 * 1024


def _latencies(call, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def one_run(cfg: Config) -> dict[str, float]:
    with Stack("big") as stack:
        client = stack.client
        (stack.dir / "data").mkdir()
        sampler = harness.Sampler(include_children={"runner": False})
        sampler.watch("api server", stack.server_pid)
        sampler.watch("database", stack.db_pid)
        with sampler:
            wf = client.create_workflow_from_spec(specs.sweep(cfg.big_jobs, "big"), working_dir=str(stack.dir))
            client.initialize_workflow(wf.id)
            n = max(cfg.status_calls // 5, 3)
            lat = {
                "status": _latencies(lambda: client.workflow_status(wf.id), cfg.status_calls),
                "page100": _latencies(lambda: client.jobs_page(wf.id, limit=100), cfg.status_calls),
                "ready_page100": _latencies(lambda: client.jobs_page(wf.id, status="ready", limit=100), n),
                "default_page": _latencies(lambda: client.request("GET", "/jobs", params={"workflow_id": wf.id}), n),
            }
            runner = start_runner(stack, wf.id, cfg.parallelism, poll_interval=1.0)
            sampler.watch("runner", runner.pid)
            time.sleep(cfg.memory_run_seconds)
            done = client.workflow_status(wf.id).job_counts.get("completed", 0)
            harness.stop(runner)
        if runner.returncode not in (0, -15, 130, 143):
            raise RuntimeError(f"big: the runner exited {runner.returncode}")
    result = {f"{k}_p50": statistics.median(v) for k, v in lat.items()}
    result.update({f"{k}_p99": percentile(v, 99) for k, v in lat.items()})
    result.update({f"rss {k}": v / MB for k, v in sampler.peak.items()})
    result["runner_completed"] = done
    return result


def run(cfg: Config) -> list[Figure]:
    runs = harness.repeat(cfg.repeat, f"{cfg.big_jobs:,}-job workflow", lambda _: one_run(cfg), cfg.log)
    n = f"{cfg.big_jobs:,}"

    def fig(key: str, field: str, title: str, unit: str, **params) -> Figure:
        return Figure(key, title, unit, [r[field] for r in runs], higher_is_better=False,
                      params={"jobs": cfg.big_jobs, **params})  # fmt: skip

    p99 = lambda f: [round(r[f], 1) for r in runs]  # noqa: E731
    return [
        fig("status.status", "status_p50", f"Status (counts by status) of a {n}-job workflow", "ms",
            calls=cfg.status_calls, p99_ms=p99("status_p99")),
        fig("status.page", "page100_p50", f"First page (100 jobs) of the job list, {n} jobs", "ms",
            calls=cfg.status_calls, p99_ms=p99("page100_p99")),
        fig("status.ready_page", "ready_page100_p50", f"First page (100 jobs) of the ready jobs (status filter), {n} "
            "jobs", "ms", p99_ms=p99("ready_page100_p99")),
        fig("status.default_page", "default_page_p50", f"First page at the API's default size (10,000 jobs), {n} jobs",
            "ms", p99_ms=p99("default_page_p99")),
        fig("memory.api", "rss api server", f"Peak RSS of the API server, {n}-job workflow", "MB"),
        fig("memory.database", "rss database", f"Peak RSS of the database server, {n}-job workflow", "MB"),
        fig("memory.runner", "rss runner", f"Peak RSS of the runner (excluding its jobs), {n}-job workflow", "MB",
            run_seconds=cfg.memory_run_seconds, jobs_completed_meanwhile=[r["runner_completed"] for r in runs]),
    ]  # fmt: skip
