"""10. The console opens on a million jobs (opt-in: `python -m bench --only console`; a few minutes).

A fresh stack gets one `parameters: i: "1:N"` workflow of `million_jobs` no-op jobs, created
and initialised through the client. Then `torc tui WORKFLOW_ID` is opened headless at 80×24
(Textual's own test driver, the same app a terminal runs) and timed from the app's start
until its workflow screen shows the first page of the job table, read through the server:
the overview (status, the first pages of events) and one page of jobs, never all of them.
Then the table's name filter is timed: one page of the jobs whose name contains `77777`.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from bench import harness, specs
from bench.config import Config
from bench.harness import Figure
from bench.stack import Stack

NAME = "console"
#: Opens timed per workflow (the first one cold: the server reads the workflow for the first time).
OPENS = 3


def open_console(client, workflow_id: int) -> float:
    """Milliseconds from starting `torc tui WORKFLOW_ID` until its job table shows the first page."""
    from torc_client.console.app import TorcConsole
    from torc_client.console.workflow import WorkflowScreen

    async def opened() -> float:
        started = time.perf_counter()
        app = TorcConsole(client, workflow_id)
        async with app.run_test(size=(80, 24)) as pilot:
            while not (isinstance(app.screen, WorkflowScreen) and app.screen.page is not None):
                await pilot.pause(0.01)
            return (time.perf_counter() - started) * 1000

    return asyncio.run(opened())


def one_run(n: int) -> dict[str, float]:
    with Stack(f"console{n}") as stack:
        client = stack.client
        wf = client.create_workflow_from_spec(specs.noop(n), working_dir=str(stack.dir), progress=lambda _: None)
        client.initialize_workflow(wf.id)
        opens = [open_console(client, wf.id) for _ in range(OPENS)]
        filters = [filtered_page(client, wf.id) for _ in range(OPENS)]
    return {"first": opens[0], "open": statistics.median(opens), "filter": statistics.median(filters)}


def filtered_page(client, workflow_id: int) -> float:
    """Milliseconds for the first page of the jobs whose name contains `77777` (what the table's `/` reads)."""
    started = time.perf_counter()
    client.jobs_page(workflow_id, name_pattern="77777", limit=50)
    return (time.perf_counter() - started) * 1000


def run(cfg: Config) -> list[Figure]:
    n = cfg.million_jobs
    runs = harness.repeat(cfg.repeat, f"console on {n:,}", lambda _: one_run(n), cfg.log)
    params = {"jobs": n, "terminal": "80x24"}
    return [
        Figure("console.first", f"Open `torc tui` on {n:,} jobs, first time (to the first page)", "ms",
               [r["first"] for r in runs], higher_is_better=False, params=params),
        Figure("console.open", f"Open `torc tui` on {n:,} jobs (to the first page; median of {OPENS})", "ms",
               [r["open"] for r in runs], higher_is_better=False, params=params),
        Figure("console.filter", f"Name filter on {n:,} jobs (a part of a name; first page; median of {OPENS})", "ms",
               [r["filter"] for r in runs], higher_is_better=False, params=params),
    ]
