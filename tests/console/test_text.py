"""The console's pure drawing functions, without a terminal or a server."""

from __future__ import annotations

from pathlib import Path

from torc_client import contract as c
from torc_client.analysis.diagnosis import Sizing
from torc_client.console import text
from torc_client.console.usage import usage_text
from torc_client.watching.layout import GraphJob, layout_graph
from torc_client.watching.paging import JobQuery
from torc_client.watching.snapshot import JobPage, LogTail, Overview, RunClock

MIB = 1024 * 1024


def status(counts: dict[str, int], run_id: int = 1) -> c.WorkflowStatus:
    return c.WorkflowStatus(workflow_id=7, run_id=run_id, is_initialized=True, is_canceled=False, is_archived=False,
                            is_complete=False, num_jobs=sum(counts.values()), job_counts=counts)  # fmt: skip


def test_every_status_has_its_own_symbol_so_colour_is_never_the_only_cue() -> None:
    symbols = [symbol for symbol, _ in text.STATUS_STYLE.values()]
    assert len(set(symbols)) == len(symbols)
    assert set(text.STATUS_STYLE) >= {"completed", "failed", "running", "ready", "blocked", "canceled", "terminated"}


def test_counts_put_what_needs_attention_first_and_skip_empty_statuses() -> None:
    drawn = text.counts_text({"completed": 1000, "failed": 2, "ready": 0}).plain
    assert drawn == "✘ failed 2  ✔ completed 1,000"


def test_overview_shows_progress_elapsed_time_and_counts() -> None:
    clock = RunClock(run_id=1, opened_ms=0, first_start_ms=1000, ended_ms=None)
    overview = Overview(7, "sweep", status({"completed": 3, "running": 1}), clock)
    lines = text.overview_text(overview, now_ms=66_000).plain.splitlines()
    assert lines[0] == "sweep  workflow 7 · run 1 · running"
    assert lines[1].endswith("75% 3/4 done · elapsed 1:05")
    assert lines[2] == "▶ running 1  ✔ completed 3"


def test_query_label_names_filter_order_and_page_of_a_million() -> None:
    page = JobPage(JobQuery(status="ready", sort="id", descending=True, page=2, page_size=12), (), 1_000_000, {})
    assert text.query_label(page) == "status: ready · sort: id ↓ · page 3 of 83,334 · 1,000,000 jobs"
    unknown = JobPage(JobQuery(name="work_7"), (), None, {})
    assert text.query_label(unknown) == "status: all · name: work_7 · sort: id ↑ · page 1"


def test_tail_is_named_relative_to_the_output_directory(tmp_path: Path) -> None:
    tail = LogTail(str(tmp_path / "job_stdio" / "a.o"), "hello", exists=True, truncated=True)
    assert text.tail_text(tail, tmp_path).plain == "job_stdio/a.o (last lines)\nhello"
    missing = LogTail("/elsewhere/a.e")
    assert text.tail_text(missing, tmp_path).plain == "/elsewhere/a.e: not written (yet)"


def test_graph_text_collapses_a_parameterised_group_into_one_box() -> None:
    jobs = [GraphJob(i, f"work_{i}", "completed", ()) for i in range(1, 41)]
    jobs.append(GraphJob(41, "collect", "ready", tuple(range(1, 41))))
    drawn = text.graph_text(layout_graph(jobs, max_nodes=30)).plain.splitlines()
    assert drawn == ["level 0", "  ✔ completed 40  work_{n} ×40  → collect", "level 1", "  ○ ready  collect"]


def test_progress_bar_of_an_empty_workflow_is_empty_not_an_error() -> None:
    assert text.progress_bar(0, 0, width=4) == "[░░░░] 0%"
    assert text.progress_bar(1, 2, width=4) == "[██░░] 50%"


def test_usage_bars_compare_peaks_with_requests_and_mark_an_overrun() -> None:
    group = Sizing(requirements_name="small", jobs=40, sampled=38, requested_cpus=2, requested_memory_bytes=100 * MIB,
                   peak_cpus=1.0, peak_memory_bytes=150 * MIB, requested_runtime_seconds=300.0,
                   peak_exec_seconds=75.0)  # fmt: skip
    lines = usage_text([group]).plain.splitlines()
    assert lines[0] == "small  40 jobs, 38 sampled"
    assert lines[1] == "  CPUs     [" + "█" * 12 + "░" * 12 + "] 1.00 of 2"
    assert lines[2] == "  memory   [" + "█" * 24 + "]! 150.0 MiB of 100.0 MiB"
    assert lines[3] == "  run time [" + "█" * 6 + "░" * 18 + "] 1:15 of 5:00"
    assert usage_text([]).plain == "No job has a result in this run yet."
