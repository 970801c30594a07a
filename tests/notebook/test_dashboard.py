"""The dashboard's widgets against a real server and real runners, without a kernel or a browser."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from torc_client import Client
from torc_client.notebook import WorkflowDashboard
from torc_client.operations.builder import WorkflowBuilder

BIN = str(Path(sys.executable).parent)
WAIT = 120.0


@pytest.fixture()
def make_dashboard(client: Client, tmp_path: Path) -> Iterator[Callable[..., WorkflowDashboard]]:
    made: list[WorkflowDashboard] = []

    def make(workflow_id: int, **options) -> WorkflowDashboard:
        options.setdefault("client", client)
        dash = WorkflowDashboard(workflow_id, output_dir=tmp_path / "output", poll_interval=0.2, **options)
        made.append(dash)
        return dash

    yield make
    for dash in made:
        dash.close()


def sweep(n: int, command: str = "echo hello {i} > ${files.output.out_{i}}") -> WorkflowBuilder:
    builder = WorkflowBuilder("sweep")
    builder.set_parameters(i=f"1:{n}")
    builder.add_resource_requirements("small", num_cpus=1, memory="100m", runtime="PT5M")
    builder.add_file("out_{i}", "out/{i}.txt", use_parameters=["i"])
    builder.add_job("work_{i}", command, resource_requirements="small", use_parameters=["i"])
    builder.add_job("collect", "cat out/*.txt", input_file_regexes=["^out_"], resource_requirements="small")
    return builder


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_dashboard_runs_a_workflow_and_shows_its_final_state(client, make_dashboard, tmp_path) -> None:
    workflow = sweep(6).create(client, working_dir=tmp_path)
    dash = make_dashboard(workflow.id, runner_options={"num_cpus": 2, "memory_gb": 2})
    assert 'data-state="not initialized"' in dash.overview_view.header.value
    dash.start()
    status = dash.wait(WAIT)
    assert status.job_counts == {"completed": 7}
    assert not dash.poller.running
    assert 'data-state="complete"' in dash.overview_view.header.value
    assert "runner: exited with code 0" in dash.overview_view.header.value
    assert (dash.overview_view.bar.value, dash.overview_view.bar.max) == (7, 7)
    assert [job.name for job in dash.page.rows] == [*(f"work_{i}" for i in range(1, 7)), "collect"]
    assert dash.table_view.table.value.count('data-status="completed"') == 7


def test_detail_pane_shows_command_results_and_stdout(client, make_dashboard, tmp_path) -> None:
    workflow = sweep(2, "echo out {i}; echo err {i} >&2; echo {i} > ${files.output.out_{i}}").create(
        client, working_dir=tmp_path)  # fmt: skip
    dash = make_dashboard(workflow.id, runner_options={"num_cpus": 2, "memory_gb": 2})
    dash.start()
    dash.wait(WAIT)
    job = next(j for j in dash.page.rows if j.name == "work_2")
    dash.table_view.picker.value = job.id
    detail = dash.detail
    assert detail is not None and detail.job.id == job.id
    assert [(r.run_id, r.attempt_id, r.return_code) for r in detail.results] == [(1, 1, 0)]
    assert detail.stdout is not None and detail.stdout.text == "out 2"
    assert detail.stderr is not None and detail.stderr.text == "err 2"
    assert "echo out 2" in dash.detail_view.html.value and "small" in dash.detail_view.html.value


def test_job_table_reads_one_page_however_large_the_workflow(server, make_dashboard, tmp_path) -> None:
    requests: list[httpx.Request] = []
    with Client(server.url, http=httpx.Client(timeout=120, event_hooks={"request": [requests.append]})) as client:
        workflow = sweep(2500).create(client, working_dir=tmp_path)
        client.initialize_workflow(workflow.id)
        requests.clear()
        dash = make_dashboard(workflow.id, client=client, watch=False)
        assert "page 1 of 51 · 1–50 of 2,501 jobs" in dash.table_view.label.value
        dash.table_view.next_button.click()
        eventually(lambda: dash.page.query.page == 1, "page 2 shown")
        assert [j.name for j in dash.page.rows][:2] == ["work_51", "work_52"]
        dash.table_view.descending.value = True
        eventually(lambda: dash.page.query.descending, "descending order shown")
        assert [j.name for j in dash.page.rows][:2] == ["collect", "work_2500"]
        dash.table_view.name.value = "work_777"
        eventually(lambda: dash.page.query.name == "work_777", "name filter applied")
        assert [j.name for j in dash.page.rows] == ["work_777"]
        dash.table_view.name.value = ""
        dash.table_view.status.value = "blocked"
        eventually(lambda: dash.page.query.status == "blocked", "status filter applied")
        assert [j.name for j in dash.page.rows] == ["collect"]
    listings = [r for r in requests if r.url.path.endswith("/jobs")]
    assert len(listings) >= 5
    assert max(int(r.url.params["limit"]) for r in listings) <= 50


def test_user_data_editor_refuses_invalid_json_and_saves_valid_json(client, make_dashboard, tmp_path) -> None:
    builder = WorkflowBuilder("data")
    builder.add_user_data("config", data={"lr": 0.1})
    builder.add_job("use", "torc user-data get ${user_data.input.config}")
    workflow = builder.create(client, working_dir=tmp_path)
    (record,) = client.list_user_data(workflow.id)
    dash = make_dashboard(workflow.id, watch=False)
    dash.show_tab("user data")
    view = dash.user_data_view
    view.picker.value = record.id
    assert view.editor.value == '{\n  "lr": 0.1\n}'
    view.editor.value = '{"lr": 0.2,}'
    assert not view.save()
    assert "Invalid JSON" in view.message.value and "torc-error" in view.message.value
    assert client.get_user_data(record.id).data == {"lr": 0.1}
    view.editor.value = '{"lr": 0.2, "epochs": [1, 2]}'
    assert view.save()
    assert client.get_user_data(record.id).data == {"lr": 0.2, "epochs": [1, 2]}
    eventually(lambda: "&quot;epochs&quot;:[1,2]" in view.table.value, "the table shows the saved data")


def test_closing_the_dashboard_stops_its_poller(client, make_dashboard, tmp_path) -> None:
    workflow = sweep(1).create(client, working_dir=tmp_path)
    dash = make_dashboard(workflow.id)
    assert dash.poller.running  # not initialised: it would poll until someone runs it
    dash.close()
    assert not dash.poller.running


def test_cancel_button_cancels_and_errors_show_in_the_dashboard(client, make_dashboard, tmp_path) -> None:
    workflow = sweep(3).create(client, working_dir=tmp_path)
    dash = make_dashboard(workflow.id)
    dash.overview_view.cancel_button.click()
    message = dash.overview_view.message.value
    assert "torc-error" in message and "not been initialised" in message
    client.initialize_workflow(workflow.id)
    dash.overview_view.cancel_button.click()
    assert client.workflow_status(workflow.id).is_canceled
    dash.poller.join(WAIT)
    assert not dash.poller.running
    assert 'data-state="canceled"' in dash.overview_view.header.value


def test_graph_panel_collapses_a_large_sweep(client, make_dashboard, tmp_path) -> None:
    workflow = sweep(80).create(client, working_dir=tmp_path)
    client.initialize_workflow(workflow.id)
    dash = make_dashboard(workflow.id, watch=False)
    dash.panel("graph")
    svg = dash.graph_view.svg.value
    assert 'data-key="group:work_{n}"' in svg and "work_{n} ×80" in svg and 'data-jobs="81"' in svg


def test_reinitialize_reruns_what_an_input_change_touches(client, make_dashboard, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    (tmp_path / "raw.txt").write_text("1\n")
    builder = WorkflowBuilder("rerun")
    builder.add_file("raw", "raw.txt")
    builder.add_file("clean", "clean.txt")
    builder.add_job("clean", "sort -n ${files.input.raw} > ${files.output.clean}")
    builder.add_job("other", "echo other")
    workflow = builder.create(client, working_dir=tmp_path)
    dash = make_dashboard(workflow.id, runner_options={"num_cpus": 2, "memory_gb": 2})
    dash.start()
    dash.wait(WAIT)
    time.sleep(0.05)
    (tmp_path / "raw.txt").write_text("2\n1\n")
    preview = dash.preview_rerun()
    assert [r.job_name for r in preview.jobs] == ["clean"]
    assert dash.overview_view.preview_box.layout.display is None and "clean" in dash.overview_view.preview.value
    dash.overview_view.confirm_button.click()
    assert dash.overview_view.preview_box.layout.display == "none"
    assert client.workflow_status(workflow.id).run_id == 2
    dash.start()
    dash.wait(WAIT)
    reran = {r.job_id for r in client.list_results(workflow.id, all_runs=True) if r.run_id == 2}
    assert reran == {preview.jobs[0].job_id}
    assert (tmp_path / "clean.txt").read_text() == "1\n2\n"


def test_recover_shows_its_plan_first_then_reruns_with_more_runtime(client, make_dashboard, tmp_path) -> None:
    builder = WorkflowBuilder("recover")
    builder.add_resource_requirements("quick", num_cpus=1, memory="100m", runtime="PT4S")
    builder.add_job("slow", "sleep 5", resource_requirements="quick")
    builder.add_job("after", "echo after", depends_on=["slow"])
    workflow = builder.create(client, working_dir=tmp_path)
    dash = make_dashboard(workflow.id, runner_options={"num_cpus": 1})
    assert dash.overview_view.recover_button.disabled  # nothing has failed
    dash.start()
    assert dash.wait(WAIT).job_counts == {"terminated": 1, "canceled": 1}
    dash.refresh()
    assert not dash.overview_view.recover_button.disabled
    dash.overview_view.recover_button.click()  # the plan first: nothing changes yet
    shown = dash.overview_view.recovery.value
    assert 'data-job-id="' in shown and "quick_timeout1: runtime PT4S -&gt; PT6S" in shown
    assert "1 canceled job downstream rerun with them." in shown
    assert "quick_timeout1" not in [rr.name for rr in client.list_resource_requirements(workflow.id)]
    dash.overview_view.recover_confirm_button.click()
    assert "Recovered: 2 jobs will run again; press Start" in dash.overview_view.message.value
    rr = {r.name: r for r in client.list_resource_requirements(workflow.id)}["quick_timeout1"]
    assert rr.runtime == "PT6S"
    dash.start()
    assert dash.wait(WAIT).job_counts == {"completed": 2}
    assert dash.overview_view.recover_button.disabled


def test_resources_tab_shows_time_series_per_resource_group(client, make_dashboard, tmp_path) -> None:
    hold = "python3 -c \"import time; x = bytearray(20 * 2**20); time.sleep(0.6)\""
    builder = sweep(2, command=hold + " && echo {i} > ${files.output.out_{i}}")
    builder.spec["resource_monitor"] = {"granularity": "time_series", "sample_interval_seconds": 0.1}
    workflow = builder.create(client, working_dir=tmp_path)
    dash = make_dashboard(workflow.id, runner_options={"num_cpus": 2, "memory_gb": 2})
    dash.start()
    assert dash.wait(WAIT).job_counts == {"completed": 3}
    dash.show_tab("resources")
    eventually(lambda: len(dash.resources_view.series.children) == 2, "a time series plot of the group")
    title, image = dash.resources_view.series.children
    assert "resource group small" in title.value
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n"
