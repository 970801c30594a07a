"""Resetting chosen jobs from the console (X, space marks), at 80×24, against a real server and runners."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from tests.console.conftest import run, until
from tests.console.screens import screen_text
from tests.console.test_console import SIZE, finished, rows
from torc_client import Client
from torc_client.console.app import TorcConsole
from torc_client.console.widgets import ConfirmScreen
from torc_client.console.workflow import WorkflowScreen
from torc_client.operations.builder import WorkflowBuilder


def two_failures() -> WorkflowBuilder:
    """`flaky` fails on its first attempt only, `broken` always; each has one job downstream of it."""
    builder = WorkflowBuilder("console_reset")
    builder.add_resource_requirements("small", num_cpus=1, memory="100m", runtime="PT5M")
    builder.add_job("flaky", "test -f flaky.marker || { touch flaky.marker; exit 3; }", resource_requirements="small")
    builder.add_job("after_flaky", "echo after", resource_requirements="small", depends_on=["flaky"])
    builder.add_job("broken", "exit 4", resource_requirements="small")
    builder.add_job("after_broken", "echo after", resource_requirements="small", depends_on=["broken"])
    return builder


def statuses(client: Client, workflow_id: int) -> dict[str, str]:
    return {j.name: j.status for j in client.list_jobs(workflow_id)}


def test_console_resets_the_marked_failed_job_and_its_downstream_job_only(client, tmp_path: Path) -> None:
    workflow_id = finished(client, two_failures(), tmp_path)
    before = statuses(client, workflow_id)
    assert before["flaky"] == before["broken"] == "failed"
    assert before["after_flaky"] == before["after_broken"] != "completed"
    ids = {j.name: j.id for j in client.list_jobs(workflow_id)}
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                        "the workflow screen")  # fmt: skip
            await pilot.press("s")
            await until(pilot, lambda: [name for _, name in rows(app)] == ["flaky", "broken"], "the failed jobs")
            await pilot.press("space")  # marks flaky, the first row
            await until(pilot, lambda: rows(app)[0][0] == f"*{ids['flaky']}", "flaky marked in the table")
            await pilot.press("down")  # the cursor on broken: X resets what is marked, not what is under the cursor
            assert app.screen.query_one(DataTable).cursor_row == 1
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the reset confirmation")
            said = "\n".join(app.screen.proposal.lines)
            assert f"  {ids['flaky']} flaky (failed)" in said
            assert f"downstream of them, reset too:\n  {ids['after_flaky']} after_flaky" in said
            assert "broken" not in said.replace("after_broken", "")
            assert "after_broken" not in said
            assert f"reset-status {workflow_id} {ids['flaky']} -r" in said and "only these jobs run again" in said
            assert statuses(client, workflow_id) == before, "the preview changed nothing"
            await pilot.press("y")
            await until(pilot, lambda: client.workflow_status(workflow_id).run_id == 2, "a new run")
            await until(pilot, lambda: not app.screen.marked and "Reset 2 jobs" in screen_text(app), "the outcome")
            await pilot.press("r")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the run confirmation")
            await pilot.press("y")
            screen = app.screen
            await until(pilot, lambda: screen.target is not None and screen.target.runner is not None, "a runner")
            screen.target.runner.wait(60)  # exits 1: broken is still failed
            await until(pilot, lambda: [name for _, name in rows(app)] == ["broken"], "only broken left failed")

    run(scenario)
    after = statuses(client, workflow_id)
    assert after == {**before, "flaky": "completed", "after_flaky": "completed"}
    reran = {r.job_id for r in client.list_results(workflow_id, run_id=2)}
    assert reran == {ids["flaky"], ids["after_flaky"]}


def test_x_resets_nothing_in_a_workflow_that_has_not_run(client, tmp_path: Path) -> None:
    workflow = two_failures().create(client, working_dir=tmp_path)
    before = statuses(client, workflow.id)
    app = TorcConsole(client, workflow.id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and len(rows(app)) == 4, "the jobs")
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the reset confirmation")
            assert not app.screen.proposal.possible
            assert "has not run yet" in "\n".join(app.screen.proposal.lines)
            await pilot.press("y")  # refused: nothing to do
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen), "back to the workflow")

    run(scenario)
    assert statuses(client, workflow.id) == before


def test_r_resets_the_jobs_with_a_return_code_and_refuses_an_unknown_status(client, tmp_path: Path) -> None:
    workflow_id = finished(client, two_failures(), tmp_path)
    before = statuses(client, workflow_id)
    ids = {j.name: j.id for j in client.list_jobs(workflow_id)}
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and len(rows(app)) == 4, "the jobs")
            await pilot.press("R", *"broke", "enter")
            await until(pilot, lambda: "unknown job status 'broke'" in screen_text(app), "the refusal")
            await pilot.press("R", "4", "enter")  # broken exits 4, flaky exited 3
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the reset confirmation")
            assert app.screen.proposal.title == "Reset jobs with return code 4"
            said = "\n".join(app.screen.proposal.lines)
            assert f"  {ids['broken']} broken (failed)" in said and f"  {ids['after_broken']} after_broken" in said
            assert "flaky" not in said
            assert f"reset-status {workflow_id} --return-code 4 -r" in said
            await pilot.press("y")
            await until(pilot, lambda: client.workflow_status(workflow_id).run_id == 2, "a new run")

    run(scenario)
    after = statuses(client, workflow_id)
    assert (after["flaky"], after["after_flaky"]) == (before["flaky"], before["after_flaky"])
    assert after["broken"] == "ready" and after["after_broken"] == "blocked"
