"""Snapshots without I/O: the run clock and where log files are (resource use: tests/unit/test_diagnosis.py)."""

from __future__ import annotations

from pathlib import Path

from runner.process import log_paths
from torc_client import contract as c
from torc_client.notebook import fetch
from torc_client.notebook.snapshot import RunClock


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
