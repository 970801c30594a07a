"""The dashboard's HTML, from snapshots, without Jupyter."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from torc_client import contract as c
from torc_client.analysis.diagnosis import Sizing
from torc_client.notebook import render
from torc_client.notebook.paging import JobQuery
from torc_client.notebook.snapshot import (
    JobDetail,
    JobPage,
    LogTail,
    Overview,
    RunClock,
)


def make_status(counts: dict[str, int], **flags: bool) -> c.WorkflowStatus:
    fields = {"is_initialized": True, "is_canceled": False, "is_archived": False, "is_complete": False, **flags}
    return c.WorkflowStatus(workflow_id=7, run_id=1, num_jobs=sum(counts.values()), job_counts=counts, **fields)


def make_job(id: int, name: str = "", status: str = "ready", **fields) -> c.Job:
    return c.Job(id=id, workflow_id=7, name=name or f"job_{id}", command=f"echo {id}", status=status, **fields)


def make_result(job_id: int, run_id: int = 1, attempt_id: int = 1, **fields) -> c.Result:
    base = {"id": job_id * 100 + run_id * 10 + attempt_id, "workflow_id": 7, "compute_node_id": 1, "return_code": 0,
            "status": "completed", "exec_time_minutes": 0.5, "completion_time": "2026-01-01T00:00:00Z"}
    return c.Result(job_id=job_id, run_id=run_id, attempt_id=attempt_id, **{**base, **fields})


class Cells(HTMLParser):
    """The text of every <td> in document order, per row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def cells(html: str) -> list[list[str]]:
    parser = Cells()
    parser.feed(html)
    return [row for row in parser.rows if row]


def test_counts_lists_only_statuses_with_jobs_and_a_total() -> None:
    html = render.counts_html({"completed": 3, "failed": 1, "ready": 0})
    assert cells(html) == [["failed", "1"], ["completed", "3"], ["total", "4"]]
    assert 'data-status="failed"' in html and 'data-status="ready"' not in html


def test_overview_shows_progress_state_and_elapsed_time() -> None:
    clock = RunClock(run_id=1, opened_ms=0, first_start_ms=1_000, ended_ms=None)
    overview = Overview(7, "sweep", make_status({"completed": 3, "running": 1}), clock, runner="running (pid 9)")
    html = render.overview_html(overview, now_ms=66_000)
    assert 'data-workflow-id="7"' in html and 'data-state="running"' in html
    assert re.search(r'torc-done">3</span> of <span class="torc-total">4<', html)
    assert 'torc-elapsed">1:05<' in html and "runner: running (pid 9)" in html
    assert render.progress(overview) == (3, 4)


def test_overview_state_names_each_phase() -> None:
    def state(counts: dict[str, int], **flags: bool) -> str:
        return Overview(7, "w", make_status(counts, **flags)).state

    assert state({"uninitialized": 2}, is_initialized=False) == "not initialized"
    assert state({"ready": 2}) == "waiting for a runner"
    assert state({"ready": 1, "pending": 1}) == "running"
    assert state({"completed": 2}, is_complete=True) == "complete"
    assert state({"canceled": 2}, is_canceled=True) == "canceled"


def test_format_elapsed_uses_hours_only_past_an_hour() -> None:
    assert [render.format_elapsed(s) for s in (None, 5, 65.9, 3600 + 62)] == ["—", "0:05", "1:05", "1:01:02"]


def test_jobs_table_has_one_row_per_job_with_escaped_names() -> None:
    rows = (make_job(1, "a<b>", "completed", resource_requirements_id=4), make_job(2, status="running",
                                                                                 active_compute_node_id=3))  # fmt: skip
    page = JobPage(JobQuery(), rows, 2, {4: "small"})
    html = render.jobs_table_html(page)
    assert cells(html) == [["1", "a<b>", "completed", "1", "small", ""], ["2", "job_2", "running", "1", "", "3"]]
    assert "a&lt;b&gt;" in html and 'data-job-id="2"' in html and 'data-total="2"' in html


def test_jobs_table_says_when_nothing_matches() -> None:
    page = JobPage(JobQuery(status="failed"), (), 0, {})
    assert "No jobs match" in render.jobs_table_html(page)
    assert render.page_label(page) == "page 1 of 1 · no jobs match"


def test_page_label_counts_rows_and_pages() -> None:
    rows = tuple(make_job(i) for i in range(51, 101))
    second = JobPage(JobQuery(page=1), rows, 2000, {})
    assert render.page_label(second) == "page 2 of 40 · 51–100 of 2,000 jobs"
    named = JobPage(JobQuery(name="x"), rows[:1], None, {})
    assert render.page_label(named) == "page 1 · rows 1–1"


def test_name_sorted_table_says_the_order_is_within_the_page() -> None:
    page = JobPage(JobQuery(sort="name"), (make_job(1),), 1, {})
    assert "sorted by name within this page" in render.jobs_table_html(page)


def test_job_detail_shows_command_resources_every_attempt_and_log_tails() -> None:
    rr = c.ResourceRequirements(id=4, workflow_id=7, name="gpu", num_cpus=8, num_gpus=2, memory="32g", runtime="PT4H")
    results = (make_result(3, attempt_id=1, status="failed", return_code=1, peak_memory_bytes=3 << 20),
               make_result(3, attempt_id=2))  # fmt: skip
    stdout = LogTail("/o/job.o", "epoch 1\nepoch 2", exists=True, truncated=True)
    detail = JobDetail(make_job(3, "train", "completed", attempt_id=2), rr, results, stdout, LogTail("/o/job.e"))
    html = render.job_detail_html(detail)
    assert '<pre class="torc-pre torc-command">echo 3</pre>' in html
    assert "8 CPUs, 2 GPUs" in html and "memory 32g" in html
    assert [row[:4] for row in cells(html)] == [["1", "1", "failed", "1"], ["1", "2", "completed", "0"]]
    assert "3.0 MiB" in html
    assert "stdout (last lines)" in html and "epoch 1\nepoch 2</pre>" in html
    assert "stderr: no file at /o/job.e" in html


def test_job_detail_without_results_or_requirements_says_so() -> None:
    html = render.job_detail_html(JobDetail(make_job(1), None, ()))
    assert "No results yet." in html and "No resource requirements" in html


def test_user_data_table_shows_compact_json() -> None:
    records = [c.UserData(id=1, workflow_id=7, name="cfg", data={"b": 1, "a": [1, 2]}),
               c.UserData(id=2, workflow_id=7, name="empty", data=None, is_ephemeral=True)]  # fmt: skip
    assert cells(render.user_data_html(records)) == [["1", "cfg", '{"a":[1,2],"b":1}', ""],
                                                     ["2", "empty", "null", "yes"]]  # fmt: skip
    assert "no user_data" in render.user_data_html([])


def test_parse_json_accepts_json_and_names_the_error_position() -> None:
    assert render.parse_json('{"lr": 0.1}') == render.Parsed({"lr": 0.1})
    bad = render.parse_json('{"lr": 0.1,\n "x": }')
    assert not bad.ok and bad.error is not None
    assert bad.error.startswith("Invalid JSON: Expecting value at line 2, column 7")
    assert not render.parse_json("NaN").ok
    assert not render.parse_json("").ok


def test_edit_text_round_trips_through_parse_json() -> None:
    value = {"b": [1, {"c": None}], "a": "x"}
    assert render.parse_json(render.edit_text(value)).value == value


def test_rerun_table_lists_each_job_with_its_reasons() -> None:
    reasons = [c.RerunReason(job_id=1, job_name="clean", status="completed", reasons=["input raw changed"]),
               c.RerunReason(job_id=2, job_name="report", status="completed", reasons=["a", "b"])]  # fmt: skip
    html = render.rerun_html(reasons)
    assert [row[:2] for row in cells(html)] == [["1", "clean"], ["2", "report"]]
    assert "a<br>b" in html
    assert "no job would run again" in render.rerun_html([])


def test_sizing_table_suggests_requests_that_fit_the_peaks() -> None:
    group = Sizing("small", jobs=3, sampled=3, requested_cpus=4, requested_memory_bytes=1 << 30, peak_cpus=0.9,
                   peak_memory_bytes=100 << 20)  # fmt: skip
    (row,) = cells(render.sizing_html([group]))
    assert row == ["small", "3", "3", "4", "0.90", "1g", "100.0 MiB", "oversized", "num_cpus: 1, memory: 120m"]


def test_message_marks_errors() -> None:
    assert 'class="torc-error torc-message">bad &amp; worse<' in render.message_html("bad & worse", error=True)
    assert render.message_html("") == ""
