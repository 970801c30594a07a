"""Recovery plans (pure): what each failed job gets, and when recovery refuses."""

from __future__ import annotations

import pytest

from torc_client import contract as c
from torc_client.analysis.diagnosis import JobUsage
from torc_client.operations.recovery import plan_recovery

MIB = 1 << 20


def _rr(rid: int, name: str, memory_mib: int = 100, runtime_s: int = 60) -> c.ResourceRequirements:
    return c.ResourceRequirements(id=rid, workflow_id=1, name=name, memory=f"{memory_mib}m",
                                  memory_bytes=memory_mib * MIB, runtime=f"PT{runtime_s}S", runtime_s=runtime_s)


def _failed(jid: int, rr: c.ResourceRequirements, failure: str, peak_mib: int | None = None) -> JobUsage:
    return JobUsage(job_id=jid, job_name=f"job{jid}", status="failed", requirements_id=rr.id,
                    requirements_name=rr.name, requested_cpus=1, requested_memory_bytes=rr.memory_bytes,
                    requested_runtime_seconds=rr.runtime_s, return_code=137 if failure == "oom" else 1,
                    exec_seconds=1.0, peak_cpu_percent=None, avg_cpu_percent=None,
                    peak_memory_bytes=None if peak_mib is None else peak_mib * MIB, avg_memory_bytes=None,
                    failure=failure)  # type: ignore[arg-type]


def test_memory_grows_from_the_larger_of_request_and_peak_and_runtime_from_the_request() -> None:
    small, quick = _rr(1, "small", 100), _rr(2, "quick", runtime_s=3)
    plan = plan_recovery(1, [_failed(1, small, "oom", peak_mib=300), _failed(2, small, "oom"),
                             _failed(3, quick, "timeout")], {1: small, 2: quick})  # fmt: skip
    assert [(r.name, r.job_ids, r.memory, r.runtime) for r in plan.raises] == [
        ("small_oom1", (1, 2), "450m", "PT60S"), ("quick_timeout1", (3,), "100m", "PT5S")]
    assert plan.problem is None


def test_a_group_that_failed_both_ways_gets_one_new_group_per_cause() -> None:
    small = _rr(1, "small")
    plan = plan_recovery(1, [_failed(1, small, "oom"), _failed(2, small, "timeout")], {1: small})
    assert [(r.name, r.change) for r in plan.raises] == [("small_oom1", "memory 100m -> 150m"),
                                                         ("small_timeout1", "runtime PT60S -> PT1M24S")]


def test_a_second_round_counts_on_instead_of_stacking_suffixes() -> None:
    first = _rr(1, "small"), _rr(2, "small_oom1", 150)
    plan = plan_recovery(1, [_failed(1, first[1], "oom")], {1: first[0], 2: first[1]})
    assert [r.name for r in plan.raises] == ["small_oom2"]


def test_unknown_failures_stop_recovery_unless_retried_as_they_are() -> None:
    small = _rr(1, "small")
    failed = [_failed(1, small, "oom"), _failed(2, small, "other")]
    assert "1 job failed for a reason other than memory or time (job2)" in plan_recovery(1, failed, {1: small}).problem
    retried = plan_recovery(1, failed, {1: small}, retry_unknown=True)
    assert retried.problem is None and [u.job_id for u in retried.unknown] == [2]
    assert "nothing to recover" in plan_recovery(1, [], {1: small}).problem


def test_multipliers_must_raise_the_request() -> None:
    with pytest.raises(ValueError, match="greater than 1"):
        plan_recovery(1, [], {}, memory_multiplier=1.0)
