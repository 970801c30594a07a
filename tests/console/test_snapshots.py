"""SVG snapshots of the console's main screens at 80×24, kept under tests/console/snapshots.

Each screen is drawn from a finished workflow, so what it shows does not depend on timing;
numbers (ids, times) are masked when a new drawing is compared with the kept one, row by row.
TORC_UPDATE_SNAPSHOTS=1 rewrites the kept drawings; TORC_SAVE_SCREENSHOTS=1 also copies them to
the docs.
"""

from __future__ import annotations

import os
import time

from textual.widgets import DataTable

from tests.console.conftest import WAIT, run, until
from tests.console.screens import keep, kept, screen_text, structure
from tests.console.test_console import SIZE, finished, sweep
from torc_client.console.app import TorcConsole
from torc_client.console.job import JobScreen
from torc_client.console.panels import GraphScreen, UserDataScreen
from torc_client.console.usage import UsageScreen
from torc_client.console.widgets import HelpScreen
from torc_client.console.workflow import WorkflowScreen

#: How long a screen is left to finish drawing before it is kept with TORC_UPDATE_SNAPSHOTS=1.
SETTLE_SECONDS = 5.0


async def same_structure(pilot, app: TorcConsole, name: str) -> None:
    await until(pilot, lambda: "palette" in screen_text(app), "the footer drawn")
    if os.environ.get("TORC_UPDATE_SNAPSHOTS"):
        await pilot.pause(SETTLE_SECONDS)  # what is kept is the finished drawing
        keep(app, name)
    expected = structure(kept(name))
    # Column widths follow new rows only when the table is idle: on a loaded host that came after
    # five seconds once, so a drawing may take as long as anything else the tests wait for.
    deadline = time.monotonic() + WAIT
    drawn = keep(app, name)
    while structure(drawn) != expected and time.monotonic() < deadline:  # still drawing: look again
        await pilot.pause(0.1)
        drawn = keep(app, name)
    assert structure(drawn) == expected, f"the {name} screen changed (TORC_UPDATE_SNAPSHOTS=1 keeps it)"


def test_main_screens_match_their_kept_snapshots(client, tmp_path) -> None:
    builder = sweep(40, failing=True)
    builder.add_user_data("settings", data={"learning_rate": 0.1, "layers": [64, 32]})
    workflow_id = finished(client, builder, tmp_path)
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None
                        and app.screen.query_one(DataTable).row_count == 17, "the workflow screen")  # fmt: skip
            await same_structure(pilot, app, "workflow")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.detail is not None
                        and "hello 1" in screen_text(app), "the job screen")  # fmt: skip
            await same_structure(pilot, app, "job")
            await pilot.press("escape", "g")
            await until(pilot, lambda: isinstance(app.screen, GraphScreen) and "work_{n}" in screen_text(app),
                        "the graph, its sweep collapsed")  # fmt: skip
            await same_structure(pilot, app, "graph")
            await pilot.press("escape", "u")
            await until(pilot, lambda: isinstance(app.screen, UserDataScreen) and "learning_rate" in screen_text(app),
                        "the user_data")  # fmt: skip
            await pilot.press("enter", "end", "backspace")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "Invalid JSON" in screen_text(app), "the JSON error")
            assert "Invalid JSON: Extra data at line 2, column 11" in screen_text(app)
            await same_structure(pilot, app, "user-data")
            await pilot.press("escape", "escape", "m")
            await until(pilot, lambda: isinstance(app.screen, UsageScreen) and "small  41 jobs" in screen_text(app),
                        "the resources, used against requested")  # fmt: skip
            await pilot.press("escape", "question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
            await same_structure(pilot, app, "help")

    run(scenario)


def test_the_job_tables_columns_are_sized_by_the_console_to_their_widest_cells(client, tmp_path) -> None:
    """A table left to size its own columns measures new rows only once its message queue is idle, and twice a full
    run of this suite showed the workflow screen with its columns at their headers' widths ("comp" for "completed")
    for a minute. The console sets each column's width to its widest cell: nothing is left to measure later."""
    workflow_id = finished(client, sweep(3), tmp_path)
    app = TorcConsole(client, workflow_id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None
                        and app.screen.query_one(DataTable).row_count == 3, "the workflow screen")  # fmt: skip
            columns = list(app.screen.query_one(DataTable).columns.values())
            assert [c.auto_width for c in columns] == [False] * 5
            ids = max(len(str(job.id)) for job in app.screen.page.rows)  # job ids are the server's, not 1 to 3
            assert [c.width for c in columns] == [max(2, ids), len("✔ completed"), len("work_1"), len("requires"), 3]
            assert "✔ completed" in screen_text(app)

    run(scenario)
