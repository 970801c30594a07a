"""The console driven with Textual's pilot, at 80×24, against a real server and real runners."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import CancelledError
from pathlib import Path

from textual.widgets import DataTable, TextArea

from api.embedded import free_port
from tests.conftest import start_server, stop_server
from tests.console.conftest import run, until
from tests.console.screens import screen_text
from torc_client import Client
from torc_client.console.app import TorcConsole
from torc_client.console.job import JobScreen
from torc_client.console.panels import UserDataScreen
from torc_client.console.widgets import ConfirmScreen, HelpScreen
from torc_client.console.workflow import WorkflowScreen
from torc_client.console.workflows import WorkflowsScreen
from torc_client.operations.builder import WorkflowBuilder, run_workflow

SIZE = (80, 24)


def sweep(n: int, failing: bool = False) -> WorkflowBuilder:
    builder = WorkflowBuilder("console_sweep")
    builder.set_parameters(i=f"1:{n}")
    builder.add_resource_requirements("small", num_cpus=1, memory="100m", runtime="PT5M")
    builder.add_job("work_{i}", "echo hello {i}; echo oops {i} >&2", resource_requirements="small",
                    use_parameters=["i"])  # fmt: skip
    if failing:
        # Fails on its first attempt only: the marker file is there for the second.
        builder.add_job("flaky", "test -f flaky.marker || { touch flaky.marker; echo first try >&2; exit 3; }",
                        resource_requirements="small")  # fmt: skip
    return builder


def finished(client: Client, builder: WorkflowBuilder, tmp_path: Path) -> int:
    workflow = builder.create(client, working_dir=tmp_path)
    run_workflow(client, workflow.id, output_dir=str(tmp_path / "output"), num_cpus=2, memory_gb=2, cwd=tmp_path)
    return workflow.id


def rows(app: TorcConsole) -> list[tuple[str, str]]:
    """(id, name) of every row of the job table, as the console holds them."""
    table = app.screen.query_one("#jobs", DataTable)
    return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[2])) for i in range(table.row_count)]


def test_console_opens_a_workflow_filters_and_reads_a_job_log_tail(client, tmp_path) -> None:
    workflow_id = finished(client, sweep(20), tmp_path)
    server_first = [(str(j.id), j.name) for j in client.list_jobs(workflow_id, limit=17)]  # the rows 24 lines hold
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                        "the workflow screen shows a page")  # fmt: skip
            await until(pilot, lambda: rows(app) == server_first, "the first page is the server's first 17 jobs")
            # The counts come in their own read, which a loaded host may answer after the page.
            await until(pilot, lambda: "20/20 done" in screen_text(app), "the workflow's counts")
            await pilot.press("n")
            await until(pilot, lambda: app.screen.page.query.page == 1 and len(rows(app)) == 3, "the second page")
            await pilot.press("slash", *"work_7", "enter")
            await until(pilot, lambda: [name for _, name in rows(app)] == ["work_7"], "the name filter")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.detail is not None,
                        "the job screen")  # fmt: skip
            assert app.screen.detail.job.name == "work_7"
            await until(pilot, lambda: "hello 7" in screen_text(app), "the stdout tail on screen")
            await pilot.press("E")
            await until(pilot, lambda: "oops 7" in screen_text(app), "the stderr tail on screen")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen), "back to the workflow")
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
            text = screen_text(app)
            for key, what in (("/", "name filter"), ("s", "status filter"), ("m", "resources"), ("x", "reset failed"),
                              ("space", "mark or unmark"), ("X", "reset marked or this job"),
                              ("R", "reset by status or code")):  # fmt: skip
                assert re.search(rf"█{re.escape(key)} +{what}", text), what
            assert re.search(r"everywhere:.*\n.*\? +this help", text)
            await pilot.press("escape", "e")
            await until(pilot, lambda: "job_completed" in screen_text(app) or "✔ completed" in screen_text(app),
                        "the events screen lists the jobs' events")  # fmt: skip

    run(scenario)


def test_console_resets_a_failed_job_and_a_runner_started_there_reruns_it(client, tmp_path) -> None:
    workflow_id = finished(client, sweep(3, failing=True), tmp_path)
    assert client.workflow_status(workflow_id).job_counts == {"completed": 3, "failed": 1}
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                        "the workflow screen")  # fmt: skip
            await pilot.press("s")
            await until(pilot, lambda: [name for _, name in rows(app)] == ["flaky"], "only the failed job listed")
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the reset confirmation")
            said = "\n".join(app.screen.proposal.lines)
            assert "1 failed job(s), and every job downstream" in said
            await pilot.press("y")
            await until(pilot, lambda: client.workflow_status(workflow_id).run_id == 2, "a new run")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the run confirmation")
            await pilot.press("y")
            await until(pilot, lambda: client.workflow_status(workflow_id).is_complete, "the rerun")
            screen = app.screen
            assert isinstance(screen, WorkflowScreen)
            screen.target.runner.wait(60)
            await until(pilot, lambda: "4/4 done" in screen_text(app), "the console shows the rerun")

    run(scenario)
    assert client.workflow_status(workflow_id).job_counts == {"completed": 4}


def test_console_saves_edited_user_data_and_refuses_invalid_json(client, tmp_path) -> None:
    builder = sweep(2)
    builder.add_user_data("settings", data={"learning_rate": 0.1})
    workflow_id = finished(client, builder, tmp_path)
    record = client.list_user_data(workflow_id)[0]
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                        "the workflow screen")  # fmt: skip
            await pilot.press("u")
            await until(pilot, lambda: isinstance(app.screen, UserDataScreen) and app.screen.records, "the records")
            await pilot.press("enter")
            # The record is loaded into the editor when the selection is handled: typing before then is overwritten.
            await until(pilot, lambda: app.screen.editing is not None, "the record in the editor")
            editor = app.screen.query_one(TextArea)
            editor.text = '{"learning_rate": 0.2,\n "layers": [64, 32],}'
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "Invalid JSON" in screen_text(app), "the JSON error")
            assert re.search(r"at line 2,\s+column 21", screen_text(app))
            assert client.get_user_data(record.id).data == {"learning_rate": 0.1}
            editor.text = '{"learning_rate": 0.2,\n "layers": [64, 32]}'
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "saved settings" in screen_text(app), "the save")

    run(scenario)
    assert client.get_user_data(record.id).data == {"learning_rate": 0.2, "layers": [64, 32]}


def test_console_says_when_the_server_is_lost_and_recovers_when_it_is_back(mongo_uri, tmp_path) -> None:
    port = free_port()
    own = start_server(mongo_uri, f"torc_console_{uuid.uuid4().hex[:8]}", tmp_path, port=port)
    try:
        with Client(own.url, timeout=5) as client:
            workflow_id = finished(client, sweep(2), tmp_path)
            app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

            async def scenario() -> None:
                nonlocal own
                async with app.run_test(size=SIZE) as pilot:
                    await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                                "the workflow screen")  # fmt: skip
                    assert app.lost is None
                    stop_server(own)
                    await until(pilot, lambda: "Server lost" in screen_text(app), "the lost-server banner")
                    own = start_server(mongo_uri, own.database, tmp_path, port=port)
                    await until(pilot, lambda: app.lost is None and "Server lost" not in screen_text(app),
                                "the banner cleared once the server answers again")  # fmt: skip
                    assert "2/2 done" in screen_text(app)

            run(scenario)
    finally:
        stop_server(own)


def test_console_lists_the_workflows_with_their_counts_and_opens_one(client, tmp_path) -> None:
    workflow_id = finished(client, sweep(3, failing=True), tmp_path)
    app = TorcConsole(client, output_dir=tmp_path / "output", poll_interval=0.2)

    def listed() -> list[str]:
        table = app.screen.query_one("#workflows", DataTable)
        return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowsScreen) and str(workflow_id) in listed(),
                        "the new workflow listed")  # fmt: skip
            await until(pilot, lambda: re.search(rf"{workflow_id} +console_sweep .*✘ failed 1 +✔ completed 3",
                                                 screen_text(app)), "its row with its counts")  # fmt: skip
            app.screen.query_one("#workflows", DataTable).move_cursor(row=listed().index(str(workflow_id)))
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                        "the workflow opened")  # fmt: skip
            assert app.screen.workflow_id == workflow_id
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, WorkflowsScreen), "back to the list")

    run(scenario)


def test_job_screen_follows_a_running_jobs_output(client, tmp_path) -> None:
    builder = WorkflowBuilder("console_follow")
    builder.add_resource_requirements("small", num_cpus=1, memory="100m", runtime="PT5M")
    # Writes `line-1`, then waits for the test's signal before writing `line-2` (words its command does not hold).
    builder.add_job("talker", "echo line-$((0+1)); while [ ! -f go ]; do sleep 0.1; done; echo line-$((1+1))",
                    resource_requirements="small")  # fmt: skip
    workflow = builder.create(client, working_dir=tmp_path)
    client.initialize_workflow(workflow.id)
    runner = run_workflow(client, workflow.id, wait=False, output_dir=str(tmp_path / "output"), num_cpus=1,
                          memory_gb=1, cwd=tmp_path)  # fmt: skip
    app = TorcConsole(client, workflow.id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None
                        and "▶ running" in screen_text(app), "the job running")  # fmt: skip
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobScreen) and "line-1" in screen_text(app),
                        "the first line of the running job's stdout")  # fmt: skip
            assert "line-2" not in screen_text(app)
            (tmp_path / "go").touch()
            await until(pilot, lambda: "line-2" in screen_text(app), "the tail following the job")
            await until(pilot, lambda: "✔ completed" in screen_text(app), "the job shown completed")

    try:
        run(scenario)
    finally:
        (tmp_path / "go").touch()
        runner.wait(60)


def test_an_unknown_workflow_is_said_in_a_notice_not_as_a_lost_server(client, tmp_path) -> None:
    missing = 987_654_321
    app = TorcConsole(client, missing, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: str(missing) in screen_text(app), "a notice naming the workflow")
            assert app.lost is None
            assert "Server lost" not in screen_text(app)

    run(scenario)


def test_a_reading_delivered_while_the_console_closes_is_dropped_not_raised(client, tmp_path) -> None:
    """The poller's thread hands each reading to the event loop and waits; when the console closes meanwhile, the loop
    cancels that wait. The reading is dropped: nothing escapes into the thread (a full suite run once failed there)."""
    app = TorcConsole(client, None, output_dir=tmp_path)
    shown: list[str] = []

    def closing(function, *args):
        raise CancelledError()

    app.call_from_thread = closing  # type: ignore[method-assign]
    app.deliver(shown.append, "late")
    assert shown == []
