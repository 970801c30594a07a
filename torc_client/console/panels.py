"""The workflow's events (live), its dependency graph as text, and its user_data with an editor."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, RichLog, Static, TextArea

from torc_client import contract as c
from torc_client.console.text import event_line, graph_text
from torc_client.console.widgets import Banner, done_with, wait_for
from torc_client.watching import fetch
from torc_client.watching.layout import layout_graph
from torc_client.watching.reader import WorkflowReader
from torc_client.watching.values import edit_text, parse_json

#: Jobs drawn one by one up to this many; past it, jobs whose names differ only in digits are one box.
GRAPH_MAX_NODES = 30
USER_DATA_LIMIT = 500


class EventsScreen(Screen):
    """The workflow's events as they happen (the newest at the bottom)."""

    BINDINGS = [Binding("end", "follow", "follow the newest")]

    def __init__(self, reader: WorkflowReader) -> None:
        super().__init__()
        self.reader = reader
        self.shown = 0

    def compose(self) -> ComposeResult:
        yield Banner()
        yield Static(f"Events of workflow {self.reader.workflow_id} (live)", classes="muted")
        yield RichLog(id="events", wrap=False, max_lines=2000)
        yield Footer()

    def on_mount(self) -> None:
        self.app.read(self.poll, group="events")

    def poll(self) -> None:
        self.reader.overview()
        self.app.deliver(self.show, list(self.reader.events))

    def show(self, events: list[c.Event]) -> None:
        log = self.query_one(RichLog)
        for event in events:
            if event.id > self.shown:
                log.write(event_line(event))
                self.shown = event.id

    def action_follow(self) -> None:
        self.query_one(RichLog).scroll_end(animate=False)


class GraphScreen(Screen):
    """Levels of the dependency graph, each box with what it feeds; parameterised groups are one box."""

    BINDINGS = [Binding("R", "redraw", "redraw (reads every job)")]

    def __init__(self, workflow_id: int) -> None:
        super().__init__()
        self.workflow_id = workflow_id

    def compose(self) -> ComposeResult:
        yield Banner()
        yield Static(f"Graph of workflow {self.workflow_id}: status, box, → what it feeds", classes="muted")
        with VerticalScroll(id="graph-box"):
            yield Static("", id="graph")
        yield Footer()

    def on_mount(self) -> None:
        self.action_redraw()

    def action_redraw(self) -> None:
        wait_for(self, self.query_one("#graph-box"))
        client = self.app.client
        self.app.read(lambda: graph_text(layout_graph(fetch.graph_jobs(client, self.workflow_id), GRAPH_MAX_NODES)),
                      self.show, group="graph")  # fmt: skip

    def show(self, drawn: object) -> None:
        done_with(self.query_one("#graph-box"))
        self.query_one("#graph", Static).update(drawn)


class UserDataScreen(Screen):
    """The user_data records; enter edits one, ctrl+s saves it (only valid JSON; errors give line and column)."""

    BINDINGS = [Binding("enter", "edit", "edit record", show=False), Binding("ctrl+s", "save", "save the edit"),
                Binding("ctrl+r", "revert", "revert the edit")]  # fmt: skip
    DEFAULT_CSS = """
    UserDataScreen #records { height: 1fr; }
    UserDataScreen #editor { height: 1fr; }
    UserDataScreen #message { height: auto; padding: 0 1; }
    """

    def __init__(self, workflow_id: int) -> None:
        super().__init__()
        self.workflow_id = workflow_id
        self.records: dict[int, c.UserData] = {}
        self.editing: int | None = None

    def compose(self) -> ComposeResult:
        yield Banner()
        table: DataTable = DataTable(id="records", cursor_type="row", zebra_stripes=True)
        table.add_columns("id", "name", "value")
        yield table
        yield TextArea("", id="editor", show_line_numbers=True, soft_wrap=False)
        yield Static("enter on a record edits it", id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        client = self.app.client
        self.app.read(lambda: client.list_user_data(self.workflow_id, limit=USER_DATA_LIMIT), self.show,
                      group="user-data")  # fmt: skip

    def show(self, records: list[c.UserData]) -> None:
        self.records = {r.id: r for r in records}
        table = self.query_one(DataTable)
        table.clear()
        for r in records:
            value = json.dumps(r.data, separators=(",", ":"), sort_keys=True)
            table.add_row(str(r.id), r.name, value[:60] + ("…" if len(value) > 60 else ""), key=str(r.id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._edit(int(event.row_key.value))

    def action_edit(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            self._edit(int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def _edit(self, record_id: int) -> None:
        self.editing = record_id
        editor = self.query_one(TextArea)
        editor.text = edit_text(self.records[record_id].data)
        editor.focus()
        self.say(f"editing {self.records[record_id].name}: ctrl+s saves, ctrl+r reverts, esc leaves")

    def action_revert(self) -> None:
        if self.editing is not None:
            self._edit(self.editing)

    def action_save(self) -> None:
        if self.editing is None:
            self.say("choose a record first (enter)")
            return
        editor = self.query_one(TextArea)
        parsed = parse_json(editor.text)
        if not parsed.ok:
            self.say(parsed.error or "", error=True)
            return
        client, record_id = self.app.client, self.editing
        self.app.read(lambda: client.update_user_data(record_id, data=parsed.value), self._saved, group="user-data")

    def _saved(self, record: c.UserData) -> None:
        self.say(f"saved {record.name}")
        self.load()

    def back(self) -> bool:
        """Escape in the editor goes back to the records (True: handled here)."""
        if not self.query_one(TextArea).has_focus:
            return False
        self.query_one(DataTable).focus()
        return True

    def say(self, message: str, error: bool = False) -> None:
        self.query_one("#message", Static).update(Text(message, style="bold #D55E00" if error else ""))
