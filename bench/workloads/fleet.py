"""A cluster's worth of runners: one server feeding fleets of 50, 250 and 1,000 runners x 4 slots.

Simulated runners in one process (`bench.agents.fleet`) speak the runner protocol as
`runner/` does: a compute node with 4 CPUs, one request in flight, each request
reporting starts and outcomes and claiming more, paced by the server's hint; each job
takes 5 s of wall time and no process. Demand is runners x 4 / 5 jobs a second. After
the fleet is up (nine in ten runners answered) and a warm-up, a window counts the completions the server accepted, the exchanges'
latencies, errors, lease losses, and jobs handed out while another runner held them
or completed twice (also counted from the stored results). Each fleet size runs on a
fresh stack with `--workers 1` and `--workers 2`. The single-runner end-to-end rate
(`e2e.one_run`, 2 jobs in flight) is measured in the same run, before the fleets, so
the fleet's rate can be read as a share of it.
"""

from __future__ import annotations

import os
import time

from pymongo import MongoClient

from bench import harness, specs
from bench.agents.fleet import CPUS, run_fleet
from bench.config import Config
from bench.harness import Figure
from bench.stack import Stack
from bench.workloads import e2e

NAME = "fleet"
JOB_SECONDS = 5.0
#: Jobs a paced runner may keep claimed beyond its slots, for sizing the workflow, and the most a workflow is given.
BACKLOG_JOBS = 40
MAX_JOBS = 150_000


def _sizes(cfg: Config) -> list[int]:
    return [50, 250] if cfg.quick else [50, 250, 1000]


def _seconds(cfg: Config, runners: int) -> tuple[float, float]:
    """(warm-up, window) of each fleet run: a fleet the server cannot serve in full is paced at tens of seconds (its
    runners get their shares: `api.shares`), so it needs a few paces before what it does can be measured, and a window
    of a few paces (each runner reports once a pace)."""
    if cfg.quick:
        return (5.0, 15.0)
    return (60.0, 60.0) if runners >= 250 else (15.0, 30.0)


def one_run(cfg: Config, runners: int, workers: int) -> dict[str, float]:
    warmup, window = _seconds(cfg, runners)
    demand = runners * CPUS / JOB_SECONDS
    # Enough for the demand, and for what paced runners keep claimed in their backlogs meanwhile.
    jobs = int(min(MAX_JOBS, demand * (warmup + window) * 1.3 + runners * BACKLOG_JOBS + 2_000))
    with Stack(f"fleet{runners}", server_env={"TORC_WORKERS": str(workers)}) as stack:
        wf = stack.client.create_workflow_from_spec(specs.noop(jobs, "fleet"), working_dir=str(stack.dir))
        stack.client.initialize_workflow(wf.id)
        cmds0 = stack.db_commands()
        readings = [(time.monotonic(), _cpu(stack))]
        stats = run_fleet(stack.url, wf.id, runners, window, warmup, JOB_SECONDS,
                          on_window=lambda: readings.append((time.monotonic(), _cpu(stack))))  # fmt: skip
        readings.append((time.monotonic(), _cpu(stack)))
        cmds = stack.db_commands() - cmds0
        twice_stored = _completed_twice(stack, wf.id)
    lat = stats.latencies or [0.0]
    return {"rate": stats.completed / window, "demand": demand, "jobs": jobs,
            "p50": harness.percentile(lat, 50), "p99": harness.percentile(lat, 99),
            "exchanges": stats.exchanges, "errors": len(stats.errors), "error_examples": stats.errors[:3],
            "lease_losses": stats.lease_losses, "rejected": stats.rejected,
            "handed_twice": stats.handed_twice, "completed_twice": stats.completed_twice + twice_stored,
            "jobs_per_exchange": stats.completed_total / max(stats.exchanges, 1),
            "granted_per_exchange": stats.granted / max(len(stats.latencies), 1),
            "starved_share": stats.starved / max(len(stats.latencies), 1),
            "db_cmds_per_exchange": cmds / max(stats.exchanges, 1),
            "hint_p50": harness.percentile(stats.hints, 50) if stats.hints else None,
            **{f"cpu {k}": v for k, v in _cores(readings[0], readings[-1]).items()},
            **{f"window cpu {k}": v for k, v in (_cores(*readings[1:3]) if len(readings) == 4 else {}).items()}}  # fmt: skip


def _cpu(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by the database, the API server and the simulated runners."""
    return {"database": harness.cpu_of(stack.db_pid), "api server": _server_cpu(stack),
            "simulated runners": harness.cpu_of(os.getpid())}  # fmt: skip


def _cores(start: tuple[float, dict[str, float]], end: tuple[float, dict[str, float]]) -> dict[str, float]:
    """Cores each process kept busy between two readings (time, CPU seconds)."""
    seconds = max(end[0] - start[0], 1e-9)
    return {k: (end[1][k] - start[1][k]) / seconds for k in start[1]}


def _server_cpu(stack: Stack) -> float:
    """CPU seconds of the API server and its worker processes."""
    import psutil

    try:
        proc = psutil.Process(stack.server_pid)
        return sum(harness.cpu_of(p.pid) for p in [proc, *proc.children(recursive=True)])
    except psutil.Error:
        return 0.0


def _completed_twice(stack: Stack, wid: int) -> int:
    """Jobs with more than one stored result of the same run and attempt (the database's own account)."""
    seen: set[tuple] = set()
    twice = 0
    with MongoClient(stack.db.uri, directConnection=True) as mongo:
        for doc in mongo["bench"].results.find({"workflow_id": wid}, {"job_id": 1, "run_id": 1, "attempt_id": 1}):
            key = (doc["job_id"], doc["run_id"], doc.get("attempt_id", 1))
            twice += key in seen
            seen.add(key)
    return twice


def run(cfg: Config) -> list[Figure]:
    out = []
    single = [e2e.one_run(cfg, 1, cfg.parallelism)["rate"] for _ in range(cfg.repeat)]
    cfg.log(f"  single runner end to end: {[round(r) for r in single]} jobs/s")
    out.append(Figure("fleet.single_runner", f"End to end, {cfg.noop_jobs:,} no-op jobs, one runner x "
                      f"{cfg.parallelism} slots (the same run as the fleets)", "jobs/s", single,
                      params={"jobs": cfg.noop_jobs}))  # fmt: skip
    for workers in (1, 2):
        for runners in _sizes(cfg):
            runs = []
            for i in range(cfg.repeat):
                t0 = time.perf_counter()
                r = one_run(cfg, runners, workers)
                runs.append(r)
                cfg.log(f"  {runners} runners x {CPUS}, --workers {workers}: {r['rate']:.0f} jobs/s (demand "
                        f"{r['demand']:.0f}), exchange p50 {r['p50'] * 1000:.0f} ms p99 {r['p99'] * 1000:.0f} ms, "
                        f"{r['errors']} errors, {r['lease_losses']} lease losses, {r['completed_twice']} completed "
                        f"twice, {r['handed_twice']} handed out twice, {r['jobs_per_exchange']:.1f} jobs and "
                        f"{r['db_cmds_per_exchange']:.1f} db commands per exchange, {r['granted_per_exchange']:.1f} jobs handed "
                        f"out per exchange in the window, {r['starved_share']:.0%} of answers found a slot idle with "
                        f"nothing waiting, pace hint p50 {r['hint_p50']}, cores busy in the window: "
                        f"{', '.join(f'{k[11:]} {v:.2f}' for k, v in r.items() if k.startswith('window cpu '))} "
                        f"({time.perf_counter() - t0:.0f} s) {r['error_examples']}")  # fmt: skip
            key = f"fleet.w{workers}.r{runners}"
            params = {"runners": runners, "slots_per_runner": CPUS, "job_seconds": JOB_SECONDS, "workers": workers,
                      "demand_jobs_per_s": runners * CPUS / JOB_SECONDS, "jobs": runs[0]["jobs"],
                      "window_s": _seconds(cfg, runners)[1], "warmup_s": _seconds(cfg, runners)[0],
                      "single_runner_jobs_per_s": sorted(single)[len(single) // 2]}  # fmt: skip
            for name in ("p50", "p99"):
                params[f"exchange_{name}_s"] = [round(r[name], 3) for r in runs]
            for name in ("errors", "lease_losses", "completed_twice", "handed_twice", "rejected", "exchanges"):
                params[name] = [r[name] for r in runs]
            params["jobs_per_exchange"] = [round(r["jobs_per_exchange"], 2) for r in runs]
            params["granted_per_exchange"] = [round(r["granted_per_exchange"], 2) for r in runs]
            params["starved_share"] = [round(r["starved_share"], 3) for r in runs]
            params["db_cmds_per_exchange"] = [round(r["db_cmds_per_exchange"], 1) for r in runs]
            params["pace_hint_p50_s"] = [r["hint_p50"] for r in runs]
            params["cores_used_by"] = {k[4:]: round(sum(r[k] for r in runs) / len(runs), 2)
                                       for k in runs[0] if k.startswith("cpu ")}  # fmt: skip
            # The whole run's figure above counts the warm-up too, when a big fleet's first claims arrive at once.
            params["cores_used_in_window_by"] = {k[11:]: round(sum(r.get(k, 0.0) for r in runs) / len(runs), 2)
                                                 for k in runs[0] if k.startswith("window cpu ")}  # fmt: skip
            out.append(Figure(key, f"Fleet: {runners:,} runners x {CPUS} slots, {JOB_SECONDS:g} s jobs, --workers "
                              f"{workers}: completions", "jobs/s", [r["rate"] for r in runs], params=params))  # fmt: skip
            out.append(Figure(f"{key}.p99", f"Fleet: {runners:,} runners x {CPUS}, --workers {workers}: exchange p99",
                              "s", [r["p99"] for r in runs], higher_is_better=False))  # fmt: skip
    return out
