"""One workflow: counts, progress and elapsed time, a job table that pages through the server, and actions.

The table never reads more than one page: `torc_client.watching.paging` plans which server
pages make it up from the counts alone, so it opens as fast on a million jobs as on ten.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from torc_client.console import actions
from torc_client.console.text import job_row, overview_text, query_label
from torc_client.console.widgets import Banner, ConfirmScreen, done_with, fill, wait_for
from torc_client.core import errors
from torc_client.watching import launch
from torc_client.watching.paging import SORT_KEYS, STATUS_ORDER, JobQuery, page_count
from torc_client.watching.reader import WorkflowReader
from torc_client.watching.snapshot import JobPage, Overview

#: Lines the screen keeps for other things than job rows: overview (3), query, table header, message, footer.
OTHER_LINES = 7
#: Fewest rows per page, however small the terminal.
MIN_PAGE_SIZE = 5
#: The job table's columns.
JOB_COLUMNS = ("id", "status", "name", "requires", "try")


def page_size_for(height: int) -> int:
    """Rows per page that fit a terminal `height` lines high (17 at 24 lines)."""
    return max(MIN_PAGE_SIZE, height - OTHER_LINES)


class WorkflowScreen(Screen):
    """A workflow's overview and job table; enter opens a job."""

    BINDINGS = [
        Binding("enter", "open_job", "open job", show=False),
        Binding("slash", "filter_name", "name filter", key_display="/"),
        Binding("s", "next_status", "status filter"),
        Binding("o", "next_sort", "sort (id, status, name)", show=False),
        Binding("d", "reverse", "reverse order", show=False),
        Binding("n", "page(1)", "next page", show=False),
        Binding("p", "page(-1)", "previous page", show=False),
        Binding("e", "events", "events (live)", show=False),
        Binding("g", "graph", "graph", show=False),
        Binding("u", "user_data", "user data", show=False),
        Binding("m", "usage", "resources: used against requested", show=False),
        *(Binding(a.key, f"act('{a.key}')", a.name, show=False) for a in actions.ACTIONS),
        Binding("space", "mark", "mark or unmark the job for X", show=False),
        Binding("X", "reset_chosen", "reset marked or this job", show=False),
        Binding("R", "reset_by", "reset by status or code", show=False),
    ]
    DEFAULT_CSS = """
    WorkflowScreen #overview { height: auto; padding: 0 1; }
    WorkflowScreen #query { height: 1; padding: 0 1; color: $text-muted; }
    WorkflowScreen #jobs { height: 1fr; }
    WorkflowScreen Input { display: none; }
    WorkflowScreen Input.-shown { display: block; }
    """

    def __init__(self, workflow_id: int) -> None:
        super().__init__()
        self.workflow_id = workflow_id
        self.job_query = JobQuery()
        self.overview: Overview | None = None
        self.page: JobPage | None = None
        self.reader: WorkflowReader | None = None
        self.target: actions.Target | None = None
        #: Jobs marked with space for X (reset), by id; kept across pages and filters.
        self.marked: set[int] = set()
        self._lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Banner()
        yield Static(f"workflow {self.workflow_id}", id="overview")
        yield Static("", id="query")
        yield Input(placeholder="part of a name, or a glob (* ?); enter filters, empty clears", id="name", disabled=True)
        yield Input(placeholder="reset jobs with this status (e.g. canceled) or return code (e.g. 2); esc leaves",
                    id="reset_by", disabled=True)  # fmt: skip
        table: DataTable = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        table.add_columns(*JOB_COLUMNS)
        yield table
        yield Static("", id="message")
        yield Footer()

    def on_mount(self) -> None:
        self.job_query = replace(self.job_query, page_size=page_size_for(self.app.size.height))
        self.query_one(DataTable).focus()
        wait_for(self, self.query_one(DataTable))
        self.app.read(self.poll, group=f"workflow-{self.workflow_id}")

    def on_resize(self) -> None:
        size = page_size_for(self.app.size.height)
        if size != self.job_query.page_size:
            first = self.job_query.page * self.job_query.page_size
            self._requery(replace(self.job_query, page_size=size, page=first // size))

    def on_screen_resume(self) -> None:
        self.app.read(self.poll, group=f"workflow-{self.workflow_id}")

    # --- reading -------------------------------------------------------------------

    def poll(self) -> None:
        """Read the overview and the table's page (in a thread), then show them."""
        with self._lock:
            if self.reader is None:
                try:
                    self.reader = WorkflowReader(self.app.client, self.workflow_id, self.app.output_dir)
                except errors.ApiError as error:
                    if error.status_code not in (403, 404):
                        raise
                    self.app.deliver(self.refused, error.message)
                    return
                self.target = actions.Target(self.app.client, self.workflow_id, self.app.output_dir)
            query = self.job_query
            overview = self.reader.overview(launch.describe(self.target.runner if self.target else None))
            page = self.reader.page(query)
        self.app.deliver(self.show, overview, page, query)

    def refused(self, message: str) -> None:
        """The server will not show this workflow to this user (or it is gone): say so instead of waiting."""
        done_with(self.query_one(DataTable))
        self.query_one("#overview", Static).update(f"Workflow {self.workflow_id} cannot be opened: {message}")

    def show(self, overview: Overview, page: JobPage, asked: JobQuery) -> None:
        self.overview = overview
        self.query_one("#overview", Static).update(overview_text(overview))
        if asked != self.job_query:
            return  # read before the filter, order or page changed: its rows are not the ones asked for now
        self.job_query = page.query  # moved back to the last page if the rows it pointed at are gone
        self.query_one("#query", Static).update(query_label(page))
        table = self.query_one(DataTable)
        done_with(table)
        # Column widths are set when the rows are (`fill`); the table still works out its scrollable size only once its
        # own queue is idle, and a prompt each read makes sure that happens even if the one it gave itself was lost.
        table.check_idle()
        if self.page is not None and page.rows == self.page.rows and page.query == self.page.query:
            return
        self.page = page
        self._fill(table, page)

    def _fill(self, table: DataTable, page: JobPage) -> None:
        """Show `page`'s rows, the cursor kept on its row (on the last, if the page is now shorter)."""
        cursor = table.cursor_row
        rows = [(self._marked_row(job_row(job, page.requirement_names), job.id), str(job.id)) for job in page.rows]
        fill(table, JOB_COLUMNS, rows)
        table.move_cursor(row=min(cursor, max(len(page.rows) - 1, 0)))

    def _requery(self, query: JobQuery) -> None:
        self.job_query = query
        wait_for(self, self.query_one(DataTable))
        self.app.read(self.poll, group=f"workflow-{self.workflow_id}")

    # --- keys ------------------------------------------------------------------------

    def selected_job_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open_job(int(event.row_key.value))

    def action_open_job(self) -> None:
        job_id = self.selected_job_id()
        if job_id is not None:
            self._open_job(job_id)

    def _open_job(self, job_id: int) -> None:
        from torc_client.console.job import JobScreen

        if self.reader is not None:
            self.app.open(JobScreen(self.reader, job_id))

    def action_filter_name(self) -> None:
        self._open_box("#name")

    def action_reset_by(self) -> None:
        self._open_box("#reset_by")

    def _open_box(self, box: str) -> None:
        found = self.query_one(box, Input)
        found.disabled = False
        found.add_class("-shown")
        found.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._close(event.input)
        if event.input.id == "reset_by":
            event.input.value = ""
            if event.value.strip():
                try:
                    self._act(actions.reset_chosen(actions.parse_choice(event.value)))
                except ValueError as error:
                    self.say(str(error))
            return
        self._requery(replace(self.job_query, name=event.value.strip() or None, page=0))

    def _close(self, box: Input) -> None:
        box.remove_class("-shown")
        box.disabled = True
        self.query_one(DataTable).focus()

    def back(self) -> bool:
        """Escape while typing in a box (name, reset by) closes it (True: handled here)."""
        shown = [box for box in self.query(Input) if box.has_class("-shown")]
        for box in shown:
            self._close(box)
        return bool(shown)

    def action_next_status(self) -> None:
        counts = self.overview.status.job_counts if self.overview else {}
        cycle = [None, *(s for s in STATUS_ORDER if counts.get(s))]
        current = cycle.index(self.job_query.status) if self.job_query.status in cycle else 0
        self._requery(replace(self.job_query, status=cycle[(current + 1) % len(cycle)], page=0))

    def action_next_sort(self) -> None:
        sort = SORT_KEYS[(SORT_KEYS.index(self.job_query.sort) + 1) % len(SORT_KEYS)]
        self._requery(replace(self.job_query, sort=sort, page=0))

    def action_reverse(self) -> None:
        self._requery(replace(self.job_query, descending=not self.job_query.descending, page=0))

    def action_page(self, step: int) -> None:
        pages = page_count(self.page.total, self.job_query.page_size) if self.page else None
        target = self.job_query.page + step
        if target < 0 or (pages is not None and target >= pages) or (pages is None and step > 0 and self.page
                                                                      and len(self.page.rows) < self.job_query.page_size):  # fmt: skip
            return
        self._requery(replace(self.job_query, page=target))

    def action_events(self) -> None:
        from torc_client.console.panels import EventsScreen

        if self.reader is not None:
            self.app.open(EventsScreen(self.reader))

    def action_graph(self) -> None:
        from torc_client.console.panels import GraphScreen

        self.app.open(GraphScreen(self.workflow_id))

    def action_user_data(self) -> None:
        from torc_client.console.panels import UserDataScreen

        self.app.open(UserDataScreen(self.workflow_id))

    def action_usage(self) -> None:
        from torc_client.console.usage import UsageScreen

        self.app.open(UsageScreen(self.workflow_id))

    # --- actions -----------------------------------------------------------------------

    def _marked_row(self, cells: tuple | list, job_id: int) -> list:
        cells = list(cells)
        cells[0] = f"*{cells[0]}" if job_id in self.marked else cells[0]
        return cells

    def action_mark(self) -> None:
        job_id = self.selected_job_id()
        if job_id is None or self.page is None:
            return
        self.marked ^= {job_id}
        self._fill(self.query_one(DataTable), self.page)  # a mark can widen the id column
        marked = ", ".join(map(str, sorted(self.marked)))
        self.say(f"Marked: {marked}; X resets them." if self.marked else "No job marked.")

    def action_reset_chosen(self) -> None:
        chosen = sorted(self.marked) or ([] if self.selected_job_id() is None else [self.selected_job_id()])
        if chosen:
            self._act(actions.reset_chosen(actions.Choice(job_ids=tuple(chosen))))

    def action_act(self, key: str) -> None:
        self._act(next(a for a in actions.ACTIONS if a.key == key))

    def _act(self, action: actions.Action) -> None:
        if self.target is None:
            return
        target = self.target
        self.say(f"{action.name}: reading what it would change…")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.say(f"{action.name}…")
                self.app.read(lambda: action.carry_out(target), self._done, group="action")
            else:
                self.say(f"{action.name}: nothing changed.")

        self.app.read(lambda: action.preview(target), lambda p: self.app.push_screen(ConfirmScreen(p), confirmed),
                      group="action")  # fmt: skip

    def _done(self, message: str) -> None:
        self.marked.clear()
        self.page = None  # show the rows again, without marks
        self.say(message)
        self.app.read(self.poll, group=f"workflow-{self.workflow_id}")

    def say(self, message: str) -> None:
        self.query_one("#message", Static).update(message)
