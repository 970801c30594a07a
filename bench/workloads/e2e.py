"""2. End to end: 10,000 independent no-op jobs, one runner and then 4 runner processes.

The workflow is created and initialised first (not timed). The clock starts when the
runners are launched (`torc run ID --max-parallel-jobs N`, real processes) and stops
at the server's timestamp of the workflow's completion event, written in the request
that stores the last result. A run still going after `cfg.e2e_time_limit` seconds is
stopped there and rated on the jobs completed by then (said in the output). CPU
seconds used by the database, the API server, the runners and the jobs, and the
database commands per job, show what limits the rate.
"""

from __future__ import annotations

import signal
import time

import psutil

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure
from bench.stack import Stack, start_runner

NAME = "e2e"


def one_run(cfg: Config, runners: int, slots: int, auth: bool = False) -> dict[str, float]:
    with Stack("e2e", auth=auth) as stack:
        client = stack.client
        wf = client.create_workflow_from_spec(specs.noop(cfg.noop_jobs), working_dir=str(stack.dir))
        client.initialize_workflow(wf.id)
        cmds0 = stack.db_commands()
        cpu0 = {"database": harness.cpu_of(stack.db_pid), "api server": harness.cpu_of(stack.server_pid)}
        t0 = time.time()
        procs = [start_runner(stack, wf.id, slots, name=f"runner{i}") for i in range(runners)]
        runner_cpu, stopped_at = _wait_for_runners(stack, procs, cfg.e2e_time_limit)
        cpu = {"database": harness.cpu_of(stack.db_pid) - cpu0["database"],
               "api server": harness.cpu_of(stack.server_pid) - cpu0["api server"],
               "runners": sum(own for own, _ in runner_cpu.values()),
               "jobs": sum(jobs for _, jobs in runner_cpu.values())}  # fmt: skip
        cmds = stack.db_commands() - cmds0
        done = client.workflow_status(wf.id).job_counts.get("completed", 0)
        if stopped_at is None and done != cfg.noop_jobs:
            raise RuntimeError(f"e2e: {done} of {cfg.noop_jobs} jobs completed")
        end = stopped_at or _completion_time(client, wf.id)
    seconds = end - t0
    return {"rate": done / seconds, "seconds": seconds, "done": done, "finished": stopped_at is None,
            "db_cmds_per_job": cmds / max(done, 1), **{f"cpu {k}": v / seconds for k, v in cpu.items()}}  # fmt: skip


def _wait_for_runners(stack: Stack, procs, limit: float) -> tuple[dict[int, tuple[float, float]], float | None]:
    """Wait for every runner to exit, or stop them after `limit` s (returns the stop time then).

    Also returns each runner's last-seen CPU seconds: its own, and its (reaped) jobs'.
    """
    last: dict[int, tuple[float, float]] = {}
    deadline, stopped_at = time.monotonic() + limit, None
    while any(p.poll() is None for p in procs):
        if stopped_at is None and time.monotonic() > deadline:
            stopped_at = time.time()
            for p in procs:
                p.send_signal(signal.SIGTERM)  # the runner stops its jobs and reports them
        for p in procs:
            try:
                t = psutil.Process(p.pid).cpu_times()
                last[p.pid] = (t.user + t.system, t.children_user + t.children_system)
            except psutil.Error:
                pass
        time.sleep(0.2)
    for i, p in enumerate(procs):
        if p.returncode != 0 and stopped_at is None:
            log = (stack.dir / f"runner{i}" / "runner.log").read_text(errors="replace")
            raise RuntimeError(f"e2e: runner {i} exited {p.returncode}; its log ends:\n{log[-3000:]}")
    return last, stopped_at


def _completion_time(client, workflow_id: int) -> float:
    """Server time (s since epoch) of the `workflow complete` event (among the last events; ids are sequential)."""
    total = client.list_events(workflow_id, after=0, limit=1).total_count
    tail = client.list_events(workflow_id, after=max(0, total - 50), limit=50).items
    complete = [e for e in tail if e.data.get("status") == "complete"]
    if not complete:
        raise RuntimeError("e2e: no workflow-complete event")
    return complete[-1].timestamp / 1000.0


def run(cfg: Config) -> list[Figure]:
    out = []
    p = cfg.parallelism
    many = cfg.runners_many
    variants = (("e2e.one_runner", 1, p, False), ("e2e.many_runners", many, max(1, p // many), False),
                ("e2e.one_runner_auth", 1, p, True))
    labels = {key: f"{runners} runner{'s' if runners > 1 else ''} x {slots} slot{'s' if slots > 1 else ''}" + (
        ", every request authenticated (--require-auth)" if auth else "") for key, runners, slots, auth in variants}
    # Repeats take turns across the variants, so that a ratio of two (with and without passwords) compares runs
    # made under the same conditions on a shared machine, not one variant's minutes with another's.
    results: dict[str, list[dict[str, float]]] = {key: [] for key, *_ in variants}
    for i in range(cfg.repeat):
        for key, runners, slots, auth in variants:
            t0 = time.perf_counter()
            results[key].append(one_run(cfg, runners, slots, auth))
            cfg.log(f"  {labels[key]}: repeat {i + 1}/{cfg.repeat} done in {time.perf_counter() - t0:.1f} s")
    for key, runners, slots, _ in variants:
        label, runs = labels[key], results[key]
        cpu = {k[4:]: round(sum(r[k] for r in runs) / len(runs), 2) for k in runs[0] if k.startswith("cpu ")}
        fig = Figure(key, f"End to end, {cfg.noop_jobs:,} no-op jobs, {label}", "jobs/s", [r["rate"] for r in runs],
                     params={"jobs": cfg.noop_jobs, "runners": runners, "slots_per_runner": slots,
                             "jobs_in_flight": runners * slots, "seconds": [round(r["seconds"], 1) for r in runs],
                             "cores_used_by": cpu,
                             "database_commands_per_job": [round(r["db_cmds_per_job"], 1) for r in runs]})  # fmt: skip
        stopped = [r for r in runs if not r["finished"]]
        if stopped:
            fig.params["jobs_done_when_stopped"] = [r["done"] for r in runs]
            fig.notes.append(f"{len(stopped)} of {len(runs)} runs stopped after {cfg.e2e_time_limit:.0f} s (the time "
                             f"limit) with {stopped[0]['done']:,} of {cfg.noop_jobs:,} jobs done; rated on the jobs "
                             "completed by then")  # fmt: skip
            cfg.notes.append(f"{key}: {fig.notes[-1]}")
        out.append(fig)
    return out
