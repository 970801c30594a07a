"""Snapshots without I/O: the run clock, resource-use rows, right-sizing, and where log files are."""

from __future__ import annotations

from pathlib import Path

from runner.process import log_paths
from torc_client import contract as c
from torc_client.notebook import fetch
from torc_client.notebook.sizing import GIB, MIB, Sizing, sizing
from torc_client.notebook.snapshot import RunClock, UsageRow, usage_rows


def event(id: int, ms: int, category: str, **data) -> c.Event:
    return c.Event(id=id, workflow_id=1, timestamp=ms, category=category, data=data)


def test_clock_times_a_run_from_its_first_job_start_to_completion() -> None:
    clock = RunClock().advance([
        event(1, 1_000, "workflow", status="initialized", run_id=1),
        event(2, 5_000, "job", status="running"),
        event(3, 9_000, "job", status="running"),
        event(4, 65_000, "workflow", status="complete", run_id=1),
    ])  # fmt: skip
    assert (clock.run_id, clock.first_start_ms, clock.ended_ms, clock.last_event_id) == (1, 5_000, 65_000, 4)
    assert clock.elapsed_seconds(now_ms=999_000) == 60.0


def test_clock_counts_up_while_a_run_goes_on() -> None:
    clock = RunClock().advance([event(1, 1_000, "workflow", status="initialized", run_id=1)])
    assert clock.elapsed_seconds(now_ms=3_500) == 2.5
    assert RunClock().elapsed_seconds(now_ms=3_500) is None


def test_clock_starts_over_at_a_reinitialisation() -> None:
    first = RunClock().advance([event(1, 0, "workflow", status="initialized", run_id=1),
                                event(2, 10, "job", status="running"),
                                event(3, 20, "workflow", status="complete")])  # fmt: skip
    second = first.advance([event(4, 30_000, "workflow", status="reinitialized", run_id=2)])
    assert (second.run_id, second.first_start_ms, second.ended_ms) == (2, None, None)
    assert second.elapsed_seconds(now_ms=31_000) == 1.0


def test_clock_stops_at_a_cancellation() -> None:
    clock = RunClock().advance([event(1, 0, "workflow", status="initialized", run_id=1),
                                event(2, 1_000, "workflow", status="canceled", run_id=1)])  # fmt: skip
    assert clock.elapsed_seconds(now_ms=50_000) == 1.0


def make_result(id: int, job_id: int, run_id: int, attempt_id: int, peak: int | None) -> c.Result:
    return c.Result(id=id, workflow_id=1, job_id=job_id, run_id=run_id, attempt_id=attempt_id, compute_node_id=1,
                    return_code=0, status="completed", exec_time_minutes=0.1, completion_time="",
                    peak_memory_bytes=peak, avg_memory_bytes=peak, peak_cpu_percent=50.0 if peak else None,
                    avg_cpu_percent=20.0 if peak else None)  # fmt: skip


def test_usage_rows_join_each_job_with_its_latest_attempt_and_request() -> None:
    rr = c.ResourceRequirements(id=9, workflow_id=1, name="small", num_cpus=2, memory="1g", memory_bytes=GIB)
    jobs = [c.Job(id=j, workflow_id=1, name=f"w{j}", command="", status="completed", resource_requirements_id=9)
            for j in (1, 2, 3)]  # fmt: skip
    results = [make_result(1, 1, 1, 1, 10), make_result(2, 1, 1, 2, 20), make_result(3, 2, 1, 1, None)]
    rows = usage_rows(jobs, results, {9: rr})
    assert rows == [UsageRow(1, "w1", "small", 2, GIB, 50.0, 20.0, 20, 20),
                    UsageRow(2, "w2", "small", 2, GIB, None, None, None, None)]  # fmt: skip
    assert [r.sampled for r in rows] == [True, False]


def usage(name: str, cpu: float | None, memory: int | None, asked_cpus: int = 4, asked: int = GIB) -> UsageRow:
    return UsageRow(1, "j", name, asked_cpus, asked, cpu, cpu, memory, memory)


def test_sizing_takes_the_largest_peak_of_each_group() -> None:
    groups = sizing([usage("a", 150.0, 300 * MIB), usage("a", 90.0, 600 * MIB), usage("b", None, None)])
    assert [(g.requirements_name, g.jobs, g.sampled, g.peak_cpus, g.peak_memory_bytes) for g in groups] == [
        ("a", 2, 2, 1.5, 600 * MIB), ("b", 1, 0, None, None)]  # fmt: skip


def test_sizing_verdicts_and_suggestions() -> None:
    def group(cpus: float | None, memory: int | None) -> Sizing:
        return Sizing("g", 1, 1, requested_cpus=4, requested_memory_bytes=GIB, peak_cpus=cpus, peak_memory_bytes=memory)

    assert group(5.0, 100 * MIB).verdict == "too small"
    assert group(1.0, 100 * MIB).verdict == "oversized"
    assert group(3.5, 900 * MIB).verdict == "about right"
    assert group(None, None).verdict == "no samples"
    assert (group(1.0, 100 * MIB).suggested_cpus, group(1.0, 100 * MIB).suggested_memory_bytes) == (2, 120 * MIB)
    assert group(0.0, 10).suggested_cpus == 1 and group(0.0, 10).suggested_memory_bytes == MIB
    assert group(3.5, 2 * GIB).suggested_memory_bytes == 2 * GIB + 512 * MIB


def test_log_stem_names_the_files_the_runner_writes() -> None:
    job = c.ClaimedJob(id=12, workflow_id=3, name="j", command="true", invocation_script=None, run_id=2,
                       attempt_id=4, claim_token="t", resource_requirements_id=1, num_cpus=1, num_gpus=0,
                       num_nodes=1, memory_bytes=1, runtime_s=1.0)  # fmt: skip
    stem = fetch.log_stem(Path("out"), 3, 12, 2, 4)
    assert (stem.with_suffix(".o"), stem.with_suffix(".e")) == log_paths(Path("out"), job)


def test_read_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    path = tmp_path / "job.o"
    path.write_text("".join(f"line {i}\n" for i in range(1000)))
    tail = fetch.read_tail(path, max_bytes=200, max_lines=5)
    assert tail.exists and tail.truncated
    assert tail.text.splitlines() == [f"line {i}" for i in range(995, 1000)]
    short = fetch.read_tail(path, max_bytes=1 << 20, max_lines=2000)
    assert not short.truncated and len(short.text.splitlines()) == 1000
    assert not fetch.read_tail(tmp_path / "missing.o").exists
