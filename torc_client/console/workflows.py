"""The first screen: the workflows the user may see (the server lists only those), with status and counts."""

from __future__ import annotations

import threading
import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from torc_client import contract as c
from torc_client.console.text import counts_text
from torc_client.console.widgets import Banner, done_with, wait_for

#: The most recent workflows listed (their counts are one request each).
MAX_WORKFLOWS = 100
#: Fewest seconds between two automatic rereads of the list (each reads every listed workflow's counts).
EVERY_SECONDS = 5.0


class WorkflowsScreen(Screen):
    """A table of workflows, newest first; enter opens one."""

    BINDINGS = [Binding("enter", "open", "open workflow", show=False), Binding("a", "toggle_archived", "archived on/off")]

    def __init__(self) -> None:
        super().__init__()
        self.archived = False
        self.rows: list[tuple[c.Workflow, c.WorkflowStatus]] = []
        self._lock = threading.Lock()
        self._read_at = float("-inf")

    def compose(self) -> ComposeResult:
        yield Banner()
        yield Static("Workflows you may see · enter opens one", id="heading")
        table: DataTable = DataTable(id="workflows", cursor_type="row", zebra_stripes=True)
        table.add_columns("id", "name", "user", "status", "jobs", "counts")
        yield table
        yield Footer()

    def on_screen_resume(self) -> None:
        wait_for(self, self.query_one(DataTable))
        self.app.read(lambda: self.poll(force=True), group="workflows")

    def poll(self, force: bool = False) -> None:
        """Read the list and every listed workflow's counts (in a thread, at most every few seconds), then show them."""
        with self._lock:
            if not force and time.monotonic() - self._read_at < EVERY_SECONDS:
                return
            self._read_at = time.monotonic()
            client = self.app.client
            listed = client.list_workflows(is_archived=self.archived)
            listed = sorted(listed, key=lambda w: w.id, reverse=True)[:MAX_WORKFLOWS]
            rows = [(w, client.workflow_status(w.id)) for w in listed]
        self.app.deliver(self.show, rows)

    def show(self, rows: list[tuple[c.Workflow, c.WorkflowStatus]]) -> None:
        table = self.query_one(DataTable)
        done_with(table)
        if rows == self.rows:
            return
        self.rows = rows
        cursor = table.cursor_row
        table.clear()
        for workflow, status in rows:
            table.add_row(str(workflow.id), workflow.name, workflow.user, workflow.status, f"{status.num_jobs:,}",
                          counts_text(status.job_counts), key=str(workflow.id))  # fmt: skip
        table.move_cursor(row=min(cursor, max(len(rows) - 1, 0)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(event.row_key.value)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            self._open(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _open(self, key: str | None) -> None:
        from torc_client.console.workflow import WorkflowScreen

        if key is not None:
            self.app.open(WorkflowScreen(int(key)))

    def action_toggle_archived(self) -> None:
        self.archived = not self.archived
        self.query_one("#heading", Static).update(
            f"{'Archived workflows' if self.archived else 'Workflows'} you may see · enter opens one")
        self.app.read(lambda: self.poll(force=True), group="workflows")
