"""Diagnosis without a server: why attempts failed, use against requests, and right-sizing per group."""

from __future__ import annotations

import pytest

from torc_client import contract as c
from torc_client.analysis.diagnosis import (
    GIB,
    MIB,
    JobUsage,
    Sizing,
    classify,
    group_usage,
    job_usage,
    latest_results,
    requested_runtime_seconds,
)


def make_rr(memory: str = "1g", runtime: str = "PT10M", num_cpus: int = 1, id: int = 9,
            name: str = "small") -> c.ResourceRequirements:  # fmt: skip
    return c.ResourceRequirements(id=id, workflow_id=1, name=name, num_cpus=num_cpus, memory=memory, runtime=runtime)


def make_result(*, status: str = "failed", return_code: int = 1, minutes: float = 1.0, peak: int | None = None,
                job_id: int = 1, run_id: int = 1, attempt_id: int = 1, id: int = 1,
                cpu: float | None = None) -> c.Result:  # fmt: skip
    return c.Result(id=id, workflow_id=1, job_id=job_id, run_id=run_id, attempt_id=attempt_id, compute_node_id=1,
                    return_code=return_code, status=status, exec_time_minutes=minutes, completion_time="",
                    peak_memory_bytes=peak, avg_memory_bytes=peak, peak_cpu_percent=cpu,
                    avg_cpu_percent=None if cpu is None else cpu / 2)  # fmt: skip


def make_job(id: int, rr_id: int | None = 9, status: str = "completed") -> c.Job:
    return c.Job(id=id, workflow_id=1, name=f"w{id}", command="", status=status, resource_requirements_id=rr_id)


def make_usage(**fields) -> JobUsage:
    values = dict(job_id=1, job_name="j", status="completed", requirements_id=9, requirements_name="small",
                  requested_cpus=4, requested_memory_bytes=GIB, requested_runtime_seconds=600.0, return_code=0,
                  exec_seconds=60.0, peak_cpu_percent=None, avg_cpu_percent=None, peak_memory_bytes=None,
                  avg_memory_bytes=None, failure=None)  # fmt: skip
    return JobUsage(**{**values, **fields})


# --- classify -------------------------------------------------------------------------------


def test_classify_a_completed_attempt_is_not_a_failure() -> None:
    assert classify(make_result(status="completed", return_code=0, peak=2 * GIB, minutes=60), make_rr()) is None


def test_classify_a_peak_over_the_memory_request_is_oom() -> None:
    assert classify(make_result(peak=GIB + 1), make_rr(memory="1g")) == "oom"
    assert classify(make_result(peak=GIB), make_rr(memory="1g")) == "other"


def test_classify_137_early_in_the_runtime_is_oom_and_late_is_not() -> None:
    rr = make_rr(runtime="PT10M")
    assert classify(make_result(return_code=137, minutes=7.9), rr) == "oom"
    assert classify(make_result(return_code=-9, minutes=1.0), rr) == "oom"
    assert classify(make_result(return_code=137, minutes=8.5), rr) == "other"  # between 80 % and 90 %
    assert classify(make_result(return_code=137, minutes=9.5), rr) == "timeout"


def test_classify_137_with_an_unknown_runtime_is_oom() -> None:
    assert requested_runtime_seconds(make_rr(runtime="soon")) is None
    assert classify(make_result(return_code=137, minutes=500.0), make_rr(runtime="soon")) == "oom"
    assert classify(make_result(return_code=137, minutes=500.0), None) == "oom"


def test_classify_past_90_percent_of_the_runtime_is_timeout() -> None:
    rr = make_rr(runtime="P0DT1H")
    assert classify(make_result(minutes=54.1), rr) == "timeout"
    assert classify(make_result(minutes=53.9), rr) == "other"


def test_classify_a_job_stopped_at_its_runtime_is_timeout() -> None:
    stopped = make_result(status="terminated", return_code=-15, minutes=10.01)
    assert classify(stopped, make_rr(runtime="PT10M")) == "timeout"


def test_classify_152_is_timeout_whatever_the_runtime() -> None:
    assert classify(make_result(return_code=152, minutes=0.1), make_rr()) == "timeout"
    assert classify(make_result(return_code=152, minutes=0.1), None) == "timeout"


def test_classify_oom_wins_over_timeout() -> None:
    assert classify(make_result(peak=2 * GIB, minutes=9.9), make_rr(memory="1g", runtime="PT10M")) == "oom"


def test_classify_an_ordinary_failure_is_other() -> None:
    assert classify(make_result(return_code=1, minutes=0.01), make_rr()) == "other"
    assert classify(make_result(return_code=1, minutes=0.01, peak=None), None) == "other"


# --- job usage ------------------------------------------------------------------------------


def test_latest_results_order_by_run_then_attempt_then_id() -> None:
    results = [make_result(id=5, run_id=2, attempt_id=1), make_result(id=3, run_id=1, attempt_id=3),
               make_result(id=7, job_id=2), make_result(id=6, job_id=2)]  # fmt: skip
    assert {job: r.id for job, r in latest_results(results).items()} == {1: 5, 2: 7}


def test_job_usage_joins_each_job_with_its_latest_attempt_and_request() -> None:
    rr = make_rr(memory="1g", runtime="PT10M", num_cpus=2)
    results = [make_result(id=1, peak=10, cpu=50.0, status="completed", return_code=0),
               make_result(id=2, attempt_id=2, peak=20, cpu=50.0, minutes=2.0, status="completed", return_code=0),
               make_result(id=3, job_id=2, return_code=137, minutes=0.5)]  # fmt: skip
    rows = job_usage([make_job(1), make_job(2), make_job(3)], results, {9: rr})
    assert rows == [
        JobUsage(1, "w1", "completed", 9, "small", 2, GIB, 600.0, 0, 120.0, 50.0, 25.0, 20, 20, None, 1, 2),
        JobUsage(2, "w2", "failed", 9, "small", 2, GIB, 600.0, 137, 30.0, None, None, None, None, "oom", 1, 1),
    ]  # fmt: skip
    assert [r.sampled for r in rows] == [True, False]


def test_job_usage_without_requirements_knows_no_request() -> None:
    (row,) = job_usage([make_job(1, rr_id=None)], [make_result(status="completed", return_code=0, peak=5)], {})
    assert (row.requirements_id, row.requested_memory_bytes, row.requested_runtime_seconds) == (None, None, None)
    assert row.violations == [] and row.memory_over_percent is None


def test_usage_over_and_under_the_request() -> None:
    row = make_usage(peak_memory_bytes=GIB + GIB // 4, peak_cpu_percent=100.0, exec_seconds=660.0)
    assert row.memory_over_percent == pytest.approx(25.0)
    assert row.cpu_over_percent == pytest.approx(-75.0)
    assert row.runtime_over_percent == pytest.approx(10.0)
    assert row.violations == ["memory", "runtime"]
    assert row.underused == ["cpu"]


def test_usage_to_dict_has_the_fields_and_the_figures() -> None:
    record = make_usage(peak_memory_bytes=3 * GIB // 2, exec_seconds=100.0).to_dict()
    assert record["job_id"] == 1 and record["failure"] is None
    assert (record["memory_over_percent"], record["cpu_over_percent"]) == (50.0, None)
    assert record["runtime_over_percent"] == -83.3
    assert (record["violations"], record["underused"]) == (["memory"], ["runtime"])


# --- groups ---------------------------------------------------------------------------------


def test_group_usage_takes_the_largest_peak_of_each_group() -> None:
    rows = [make_usage(peak_cpu_percent=150.0, peak_memory_bytes=300 * MIB, exec_seconds=30.0),
            make_usage(peak_cpu_percent=90.0, peak_memory_bytes=600 * MIB, exec_seconds=90.0),
            make_usage(requirements_id=10, requirements_name="b")]  # fmt: skip
    groups = group_usage(rows)
    assert [(g.requirements_id, g.requirements_name, g.jobs, g.sampled, g.peak_cpus, g.peak_memory_bytes,
             g.peak_exec_seconds) for g in groups] == [(9, "small", 2, 2, 1.5, 600 * MIB, 90.0),
                                                       (10, "b", 1, 0, None, None, 60.0)]  # fmt: skip


def test_sizing_verdicts_and_suggestions() -> None:
    def group(cpus: float | None, memory: int | None, longest: float | None = None) -> Sizing:
        return Sizing("g", 1, 1, requested_cpus=4, requested_memory_bytes=GIB, peak_cpus=cpus,
                      peak_memory_bytes=memory, requested_runtime_seconds=600.0, peak_exec_seconds=longest)  # fmt: skip

    assert group(5.0, 100 * MIB).verdict == "too small"
    assert group(3.5, 900 * MIB, longest=601.0).verdict == "too small"
    assert group(1.0, 100 * MIB).verdict == "oversized"
    assert group(3.5, 900 * MIB).verdict == "about right"
    assert group(None, None).verdict == "no samples"
    assert (group(1.0, 100 * MIB).suggested_cpus, group(1.0, 100 * MIB).suggested_memory_bytes) == (2, 120 * MIB)
    assert group(0.0, 10).suggested_cpus == 1 and group(0.0, 10).suggested_memory_bytes == MIB
    assert group(3.5, 2 * GIB).suggested_memory_bytes == 2 * GIB + 512 * MIB
    assert group(1.0, MIB, longest=601.0).suggested_runtime_seconds == 780.0
    assert group(1.0, MIB, longest=1.5).suggested_runtime_seconds == 60.0


def test_sizing_to_dict_writes_suggestions_in_spec_notation() -> None:
    record = Sizing("g", 2, 2, requested_cpus=1, requested_memory_bytes=50 * MIB, peak_cpus=0.5,
                    peak_memory_bytes=150 * MIB, peak_exec_seconds=101.0).to_dict()  # fmt: skip
    assert (record["verdict"], record["suggested_memory"], record["suggested_runtime"]) == ("too small", "180m", "PT3M")
    assert record["suggestion"] == "num_cpus: 1, memory: 180m, runtime: PT3M"
    assert Sizing("g", 1, 0, requested_cpus=1, requested_memory_bytes=None, peak_cpus=None,
                  peak_memory_bytes=None).suggestion == ""  # fmt: skip
