"""Deciding allocations without Slurm: which queued ones no job can use, when ready jobs need new ones,
and how `slurm generate` shapes them (`--group-by`, `--single-allocation`, `--walltime-strategy`)."""

from __future__ import annotations

import pytest

from torc_client.hpc.allocation_plan import (
    Slot,
    Work,
    decide,
    idle_queued,
    scheduler_cpus,
    scheduler_gpus,
    takes,
)
from torc_client.hpc.generate import Shaping, generate_with_plan
from torc_client.hpc.profiles import profiles
from torc_client.spec import build_plan

GB = 1 << 30


def job(job_id: int = 1, runtime: float = 20, cpus: int = 1, memory: int = GB, gpus: int = 0, **rest) -> Work:
    return Work(job_id, f"j{job_id}", 1, cpus, memory, gpus, 1, runtime, **rest)


def queued(seconds: float = 55, **shape) -> Slot:
    return Slot("q1", False, seconds, **shape)


def test_a_slot_takes_a_job_only_when_its_runtime_fits_the_time_it_has() -> None:
    assert takes(queued(55), job(runtime=55)) and not takes(queued(54), job(runtime=55))
    assert not takes(Slot("r1", True, 10.0), job(runtime=25))  # a runner with 10 s left does not get a 25 s job


def test_a_slot_takes_a_job_only_when_its_shape_holds_it() -> None:
    assert not takes(queued(cpus=2), job(cpus=4)) and takes(queued(), job(cpus=64))  # unknown CPUs: taken to fit
    assert not takes(queued(memory_bytes=GB), job(memory=2 * GB))
    assert not takes(queued(gpus=0), job(gpus=1))


def test_queued_allocations_are_idle_once_the_workflow_is_finished() -> None:
    slots = [queued(), Slot("r1", True, 30.0)]
    assert idle_queued([job()], slots, finished=True) == [slots[0]]


def test_a_queued_allocation_no_remaining_job_fits_is_idle() -> None:
    short, long = Slot("q1", False, 30.0), Slot("q2", False, 300.0)
    assert idle_queued([job(runtime=100)], [short, long], finished=False) == [short]
    assert idle_queued([], [short, long], finished=False) == [short, long]


def test_ready_jobs_without_any_allocation_get_one_at_once() -> None:
    decision = decide([job(1), job(2)], [], since_last=10.0, cooldown=1800)
    assert [j.job_id for j in decision.jobs] == [1, 2] and "no allocation queued or running" in decision.reason
    assert decision.kind == "no-allocation"


def test_jobs_no_allocation_can_take_get_one_after_the_cooldown() -> None:
    slots = [Slot("r1", True, 10.0)]
    waiting = decide([job(runtime=25)], slots, since_last=100.0, cooldown=1800)
    assert not waiting.submit and "cooling down" in waiting.reason and waiting.kind == "cooldown"
    decision = decide([job(runtime=25)], slots, since_last=None)
    assert decision.submit and "no queued or running allocation can take" in decision.reason


def test_jobs_an_allocation_can_take_wait_for_it() -> None:
    decision = decide([job(runtime=25)], [queued(55)], since_last=None)
    assert not decision.submit and "can take" in decision.reason


def test_jobs_ready_past_the_stranded_timeout_are_stranded() -> None:
    slots = [queued(55)]
    assert not decide([job(ready_for=50)], slots, since_last=None, stranded_timeout=60).submit
    decision = decide([job(ready_for=61)], slots, since_last=None, stranded_timeout=60)
    assert decision.submit and "stranded" in decision.reason and decision.kind == "stranded"
    assert not decide([job(ready_for=10**6)], slots, since_last=None, stranded_timeout=0).submit  # 0: never


def test_retries_are_scheduled_once_the_threshold_is_reached() -> None:
    slots = [queued(55)]
    retries = [job(i, attempt_id=2) for i in range(1, 3)]
    assert not decide(retries, slots, since_last=None, threshold=3).submit
    decision = decide(retries + [job(3, attempt_id=2)], slots, since_last=None, threshold=3)
    assert len(decision.jobs) == 3 and "threshold 3" in decision.reason


def test_jobs_not_ready_are_never_scheduled() -> None:
    decision = decide([job(ready=False)], [], since_last=None)
    assert not decision.submit and decision.reason == "no job is ready"


def test_scheduler_shapes_parse_from_gres_and_extra() -> None:
    assert (scheduler_gpus("gpu:h100:4"), scheduler_gpus(None), scheduler_cpus("--cpus-per-task=8 --exclusive"),
            scheduler_cpus(None)) == (4, 0, 8, None)  # fmt: skip


def two_shapes() -> dict:
    """Six small jobs and two big ones, then one that needs them all: two requirements, two stages."""
    rr = {"num_cpus": 1, "memory": "100m", "runtime": "PT10M"}
    return {"name": "shapes", "resource_requirements": [{"name": "small", **rr}, {"name": "big", **rr, "num_cpus": 2}],
            "jobs": [{"name": "s{i}", "command": "true", "resource_requirements": "small", "parameters": {"i": "1:6"}},
                     {"name": "b{i}", "command": "true", "resource_requirements": "big", "parameters": {"i": "1:2"}},
                     {"name": "end", "command": "true", "resource_requirements": "small",
                      "depends_on_regexes": ["^s", "^b"]}]}  # fmt: skip


def plan(shaping: Shaping, profile: str = "local") -> tuple[dict, list[dict]]:
    doc = two_shapes()
    return generate_with_plan(doc, build_plan(doc), profiles()[profile], "proj", shaping)


def rows(found: list[dict]) -> list[tuple]:
    return [(r["scheduler"], r["trigger"], r["allocations"], r["nodes"], r["walltime"], r["jobs"]) for r in found]


def test_plan_grouped_by_partition_has_one_scheduler_for_every_requirement_on_it() -> None:
    generated, found = plan(Shaping(group_by="partition"))
    assert [s["name"] for s in generated["slurm_schedulers"]] == ["debug"]
    # 10 min x 1.5 + the 60 s end buffer. 6 small jobs, 2 per node, 1 run each: 3 allocations; 2 big ones, 1 per node: 2.
    assert rows(found) == [("debug", "on_workflow_start", 5, 1, "00:16:00", 8), ("debug", "on_jobs_ready", 1, 1,
                                                                                   "00:16:00", 1)]  # fmt: skip
    assert build_plan(generated).actions[1].jobs == ("end",)


def test_plan_grouped_by_resource_requirements_has_a_scheduler_each() -> None:
    generated, found = plan(Shaping(group_by="resource-requirements"))
    assert [s["name"] for s in generated["slurm_schedulers"]] == ["small_debug", "big_debug"]
    assert rows(found) == [("small_debug", "on_workflow_start", 3, 1, "00:16:00", 6),
                           ("small_debug", "on_jobs_ready", 1, 1, "00:16:00", 1),
                           ("big_debug", "on_workflow_start", 2, 1, "00:16:00", 2)]  # fmt: skip


def test_plan_with_a_single_allocation_asks_for_its_nodes_at_once() -> None:
    generated, found = plan(Shaping(single_allocation=True))
    assert rows(found) == [("debug", "on_workflow_start", 1, 5, "00:16:00", 8),
                           ("debug", "on_jobs_ready", 1, 5, "00:16:00", 1)]  # fmt: skip
    assert generated["actions"][0]["start_one_worker_per_node"] is True


@pytest.mark.parametrize(("strategy", "multiplier", "walltime"), [("max-job-runtime", 1.5, "00:16:00"),
                                                                   ("max-job-runtime", 3.0, "00:31:00"),
                                                                   ("max-partition-time", 1.5, "24:00:00")])
def test_plan_walltime_follows_the_strategy(strategy: str, multiplier: float, walltime: str) -> None:
    _, found = plan(Shaping(walltime_strategy=strategy, walltime_multiplier=multiplier))
    assert {r["walltime"] for r in found} == {walltime}


def test_plan_walltime_is_capped_by_the_partition() -> None:
    _, found = plan(Shaping(walltime_multiplier=1000.0))
    assert {r["walltime"] for r in found} == {"24:00:00"}
