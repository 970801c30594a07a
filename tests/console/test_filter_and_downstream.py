"""The console's name filter (a part of names, or a glob) and a wide job's downstream jobs, paged by the server."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.console.conftest import run, until
from tests.console.test_console import SIZE, rows
from torc_client.console.app import TorcConsole
from torc_client.console.job import JobScreen
from torc_client.console.workflow import WorkflowScreen
from torc_client.core.errors import ApiError

N_CHILDREN = 45


def fan_out(make_workflow) -> int:
    jobs = [{"name": "root", "command": "true"}]
    jobs += [{"name": f"child_{i}", "command": "true", "depends_on": ["root"]} for i in range(N_CHILDREN)]
    return make_workflow({"name": "fan_out", "jobs": jobs}, initialize=True).id


def neighbours(app: TorcConsole) -> str:
    return str(app.screen.query_one("#neighbours", Static).content)


async def showing_a_page(pilot, app: TorcConsole) -> None:
    await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                "the workflow screen shows a page")  # fmt: skip


def test_console_filters_by_part_of_a_name_and_by_glob(client, make_workflow, tmp_path) -> None:
    workflow_id = fan_out(make_workflow)
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await showing_a_page(pilot, app)
            await pilot.press("slash", *"ild_3", "enter")
            await until(pilot, lambda: [n for _, n in rows(app)] == ["child_3"] + [f"child_{i}" for i in range(30, 40)],
                        "the jobs whose names contain ild_3")  # fmt: skip
            assert app.screen.page.total == 11
            await pilot.press("slash", *["backspace"] * 5, *"child_?", "enter")
            await until(pilot, lambda: [n for _, n in rows(app)] == [f"child_{i}" for i in range(10)],
                        "the jobs the glob child_? selects")  # fmt: skip

    run(scenario)


def test_console_pages_through_the_downstream_jobs_of_a_wide_job(client, make_workflow, tmp_path) -> None:
    workflow_id = fan_out(make_workflow)
    ids = {job.name: job.id for job in client.list_jobs(workflow_id)}
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await showing_a_page(pilot, app)
            await pilot.press("slash", *"root", "enter")
            await until(pilot, lambda: [n for _, n in rows(app)] == ["root"], "only the root job listed")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobScreen) and "downstream 1–20 of 45" in neighbours(app),
                        "the first page of downstream jobs")  # fmt: skip
            assert f"{ids['child_0']} child_0" in neighbours(app) and "child_20" not in neighbours(app)
            await pilot.press("right_square_bracket")
            await until(pilot, lambda: "downstream 21–40 of 45" in neighbours(app), "the second page")
            assert f"{ids['child_20']} child_20" in neighbours(app)
            await pilot.press("right_square_bracket")
            await until(pilot, lambda: "downstream 41–45 of 45" in neighbours(app), "the last page")
            await pilot.press("right_square_bracket", "left_square_bracket")
            await until(pilot, lambda: "downstream 21–40 of 45" in neighbours(app), "back a page, not past the end")

    run(scenario)


def test_downstream_listing_pages_a_jobs_own_list_and_refuses_other_filters(client, make_workflow) -> None:
    workflow_id = fan_out(make_workflow)
    ids = {job.name: job.id for job in client.list_jobs(workflow_id)}
    seen: list[str] = []
    offset = 0
    while True:
        page = client.jobs_page(workflow_id, downstream_of=ids["root"], offset=offset, limit=7)
        assert page.total_count == N_CHILDREN
        seen += [job.name for job in page.items]
        if not page.has_more:
            break
        offset += 7
    assert seen == [f"child_{i}" for i in range(N_CHILDREN)]
    assert client.jobs_page(workflow_id, downstream_of=ids["child_3"]).total_count == 0
    with pytest.raises(ApiError, match=r"downstream_of .* takes no other filter \(status\)"):
        client.jobs_page(workflow_id, downstream_of=ids["root"], status="ready")
    with pytest.raises(ApiError) as error:
        client.jobs_page(workflow_id, downstream_of=10**9)
    assert error.value.status_code == 404
