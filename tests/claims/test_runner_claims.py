"""What a runner asks the server for, from its free resources and its backlog (no server needed)."""

from __future__ import annotations

from runner.loop import JobRunner, RunnerOptions
from runner.pace import wanted
from runner.process import shape_of
from torc_client import contract as c
from torc_client.core.resources import GIB, take


def claimed(job_id: int, cpus: int = 1, gpus: int = 0) -> c.ClaimedJob:
    return c.ClaimedJob(id=job_id, workflow_id=1, name=f"j{job_id}", command="true", invocation_script=None, run_id=1,
                        attempt_id=1, claim_token="t", resource_requirements_id=1, num_cpus=cpus, num_gpus=gpus,
                        num_nodes=1, memory_bytes=GIB, runtime_s=60.0)  # fmt: skip


def runner(**options) -> JobRunner:
    return JobRunner(None, 1, RunnerOptions(num_cpus=4, memory_gb=16, num_gpus=1, **options))  # type: ignore[arg-type]


def asks(r: JobRunner) -> tuple[int, int]:
    """What the runner would claim now: (fitting its free resources, extra for its backlog)."""
    return wanted(r.pace, r.opts.max_parallel_jobs, len(r.running), len(r.backlog), r.free)


def test_an_idle_runner_asks_for_what_fits_its_cpus() -> None:
    assert asks(runner()) == (4, 0)


def test_free_cpus_are_claimed_for_even_when_the_backlog_waits_for_a_gpu() -> None:
    r = runner()
    gpu_job = claimed(1, cpus=1, gpus=1)
    r.free = take(r.free, shape_of(gpu_job), 1)  # the one GPU is busy
    r.backlog.append(claimed(2, cpus=1, gpus=1))  # waits for it
    assert asks(r) == (3, 0)


def test_a_full_runner_of_short_jobs_asks_only_for_backlog() -> None:
    r = runner(max_parallel_jobs=2)
    r.running = {1: None, 2: None}  # type: ignore[dict-item]
    for _ in range(20):
        r.pace.finished(0.01)
    now, later = asks(r)
    assert now == 0 and later == r.pace.target(2) > 0
