"""One job: its command and resources, every attempt's result, its log tails, why it waits, its neighbours.

The poller rereads the job while the screen is open, so a running job's log tails follow
what it writes.
"""

from __future__ import annotations

import threading

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from torc_client import contract as c
from torc_client.console import text
from torc_client.console.widgets import Banner, done_with, wait_for
from torc_client.watching.reader import WorkflowReader
from torc_client.watching.snapshot import JobDetail

SECTIONS = ("header", "resources", "results", "why", "neighbours", "stdout", "stderr")


class JobScreen(Screen):
    """Everything about one job, refreshed while open."""

    BINDINGS = [Binding("j", "scroll(1)", "scroll down"), Binding("k", "scroll(-1)", "scroll up"),
                Binding("o", "jump('stdout')", "go to stdout"), Binding("E", "jump('stderr')", "go to stderr"),
                Binding("w", "jump('why')", "go to why it waits"),
                Binding("right_square_bracket", "downstream(1)", "next downstream jobs", key_display="]"),
                Binding("left_square_bracket", "downstream(-1)", "previous downstream jobs", key_display="[")]  # fmt: skip
    DEFAULT_CSS = """
    JobScreen Static.section { height: auto; padding: 0 1; }
    JobScreen Static.title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    """

    def __init__(self, reader: WorkflowReader, job_id: int) -> None:
        super().__init__()
        self.reader = reader
        self.job_id = job_id
        self.detail: JobDetail | None = None
        self._downstream: c.Page[c.Job] | None = None
        self._downstream_page = 0
        self._downstream_read = False
        self._lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Banner()
        with VerticalScroll(id="job"):
            for name in SECTIONS:
                if name != "header":
                    yield Static(name, classes="title", id=f"title-{name}")
                yield Static("…", classes="section", id=name)
        yield Footer()

    def on_mount(self) -> None:
        wait_for(self, self.query_one("#job"))
        self.app.read(self.poll, group=f"job-{self.job_id}")

    def poll(self) -> None:
        """Read the job, its results, tails, why and neighbours (in a thread), then show them."""
        with self._lock:
            detail = self.reader.detail(self.job_id)
            why = self.reader.client.job_why(self.job_id) if detail.job.status != "completed" else None
            if not self._downstream_read:  # the graph does not change while the screen is open
                page = self.reader.downstream(self.job_id, self._downstream_page)
                self._downstream, self._downstream_read = page, True
            downstream = self._downstream
        self.app.deliver(self.show, detail, why, downstream)

    def show(self, detail: JobDetail, why: c.JobWhy | None, downstream: c.Page[c.Job] | None) -> None:
        done_with(self.query_one("#job"))
        self.detail = detail
        parts = {
            "header": text.job_header(detail),
            "resources": text.requirements_text(detail.requirements),
            "results": text.results_text(detail.results),
            "why": text.why_text(why) if why is not None else "completed: it waits for nothing",
            "neighbours": text.neighbours_text(detail.job.depends_on_job_ids, downstream),
            "stdout": text.tail_text(detail.stdout, self.reader.output_dir),
            "stderr": text.tail_text(detail.stderr, self.reader.output_dir),
        }
        for name, content in parts.items():
            self.query_one(f"#{name}", Static).update(content)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#job", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_jump(self, section: str) -> None:
        self.query_one(f"#title-{section}").scroll_visible(top=True, animate=False)

    def action_downstream(self, step: int) -> None:
        """Show the next (or previous) page of the downstream jobs, when there is one."""
        shown = self._downstream
        if shown is None or (step > 0 and not shown.has_more) or (step < 0 and self._downstream_page == 0):
            return
        with self._lock:
            self._downstream_page += step
            self._downstream_read = False
        self.app.read(self.poll, group=f"job-{self.job_id}")
