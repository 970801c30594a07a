"""The overview, the job table and the job detail pane: core ipywidgets showing snapshots.

A view owns its widgets, draws a snapshot with `show(...)` (HTML from `render`) and reports
what a person did through callbacks the dashboard sets. Views never call the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import ipywidgets as w

from torc_client import contract as c
from torc_client.notebook import render
from torc_client.operations.recovery import RecoveryPlan
from torc_client.watching.paging import SORT_KEYS, STATUS_ORDER, JobQuery, page_count
from torc_client.watching.snapshot import JobDetail, JobPage, Overview

PAGE_SIZES = (25, 50, 100, 200)


def _noop(*args: object) -> None:
    return None


def hidden(widget: w.Widget, hide: bool) -> None:
    widget.layout.display = "none" if hide else None


class OverviewView:
    """Title line, progress bar, counts by status, the start / cancel / reinitialize buttons and messages."""

    def __init__(self) -> None:
        self.header = w.HTML()
        self.bar = w.IntProgress(value=0, min=0, max=1, description="Progress", layout=w.Layout(width="60%"))
        self.counts = w.HTML()
        self.start_button = w.Button(description="Start", icon="play", tooltip="Initialise if needed and run here")
        self.cancel_button = w.Button(description="Cancel", icon="stop", button_style="warning")
        self.reinit_button = w.Button(description="Reinitialize", icon="refresh",
                                      tooltip="Preview which jobs would run again, then confirm")  # fmt: skip
        self.recover_button = w.Button(description="Recover", icon="medkit", tooltip=(
            "Preview the memory or runtime that jobs which ran out of it would get, then confirm"))  # fmt: skip
        self.message = w.HTML()
        self.preview = w.HTML()
        self.confirm_button = w.Button(description="Rerun these jobs", button_style="primary")
        self.dismiss_button = w.Button(description="Dismiss")
        self.preview_box = w.VBox([self.preview, w.HBox([self.confirm_button, self.dismiss_button])])
        hidden(self.preview_box, True)
        self.recovery = w.HTML()
        self.recover_confirm_button = w.Button(description="Recover these jobs", button_style="primary")
        self.recover_dismiss_button = w.Button(description="Dismiss")
        self.recovery_box = w.VBox([self.recovery, w.HBox([self.recover_confirm_button, self.recover_dismiss_button])])
        hidden(self.recovery_box, True)
        buttons = w.HBox([self.start_button, self.cancel_button, self.reinit_button, self.recover_button, self.message])
        self.box = w.VBox([self.header, self.bar, self.counts, buttons, self.preview_box, self.recovery_box])

    def on(self, start: Callable[[], None], cancel: Callable[[], None], preview: Callable[[], None],
           confirm: Callable[[], None], preview_recovery: Callable[[], None],
           recover: Callable[[], None]) -> None:  # fmt: skip
        self.start_button.on_click(lambda _: start())
        self.cancel_button.on_click(lambda _: cancel())
        self.reinit_button.on_click(lambda _: preview())
        self.confirm_button.on_click(lambda _: confirm())
        self.dismiss_button.on_click(lambda _: self.show_preview(None))
        self.recover_button.on_click(lambda _: preview_recovery())
        self.recover_confirm_button.on_click(lambda _: recover())
        self.recover_dismiss_button.on_click(lambda _: self.show_recovery(None))

    def show(self, overview: Overview, now_ms: int) -> None:
        done, total = render.progress(overview)
        self.header.value = render.overview_html(overview, now_ms)
        self.bar.max = max(total, 1)
        self.bar.value = done
        self.bar.bar_style = _bar_style(overview)
        self.counts.value = render.counts_html(overview.status.job_counts)
        s = overview.status
        active = s.job_counts.get("running", 0) + s.job_counts.get("pending", 0)
        self.cancel_button.disabled = not s.is_initialized or s.is_canceled or s.is_complete
        self.reinit_button.disabled = not s.is_initialized or bool(active)
        self.start_button.disabled = s.is_complete or s.is_canceled
        failed = sum(s.job_counts.get(status, 0) for status in ("failed", "terminated"))
        self.recover_button.disabled = not s.is_complete or s.is_canceled or not failed

    def say(self, text: str, error: bool = False) -> None:
        self.message.value = render.message_html(text, error)

    def show_preview(self, result: c.ReinitializeResult | None) -> None:
        """Show what a reinitialisation would rerun (None hides the preview)."""
        hidden(self.preview_box, result is None)
        if result is not None:
            self.preview.value = render.rerun_html(result.jobs)
            self.confirm_button.disabled = not result.jobs

    def show_recovery(self, plan: RecoveryPlan | None) -> None:
        """Show what a recovery would do (None hides it); it can be confirmed only if it can go ahead."""
        hidden(self.recovery_box, plan is None)
        if plan is not None:
            self.recovery.value = render.recovery_html(plan)
            self.recover_confirm_button.disabled = plan.problem is not None


def _bar_style(overview: Overview) -> str:
    bad = sum(overview.status.job_counts.get(s, 0) for s in ("failed", "terminated", "canceled", "pending_failed"))
    if bad:
        return "danger"
    return "success" if overview.status.is_complete else "info"


class JobTableView:
    """Filter, sort and page controls over an HTML table of one page of jobs, and a job picker for details."""

    def __init__(self, page_size: int) -> None:
        self.status = w.Dropdown(options=[("all", None), *[(s, s) for s in STATUS_ORDER]], description="Status",
                                 layout=w.Layout(width="220px"))  # fmt: skip
        self.name = w.Text(placeholder="part of a name, or a glob (* ?)", description="Name", continuous_update=False,
                           layout=w.Layout(width="260px"))  # fmt: skip
        self.sort = w.Dropdown(options=list(SORT_KEYS), description="Sort by", layout=w.Layout(width="200px"))
        self.descending = w.Checkbox(description="descending", indent=False, layout=w.Layout(width="110px"))
        sizes = sorted({*PAGE_SIZES, page_size})
        self.page_size = w.Dropdown(options=sizes, value=page_size, description="Rows", layout=w.Layout(width="150px"))
        self.prev_button = w.Button(description="◀", layout=w.Layout(width="40px"), tooltip="previous page")
        self.next_button = w.Button(description="▶", layout=w.Layout(width="40px"), tooltip="next page")
        self.label = w.HTML()
        self.table = w.HTML()
        self.picker = w.Dropdown(options=[("—", None)], description="Details", layout=w.Layout(width="360px"))
        self.query = JobQuery(page_size=page_size)
        self._total: int | None = None
        self._changed: Callable[[JobQuery], None] = _noop
        self._picked: Callable[[int | None], None] = _noop
        self._drawing = False
        for control in (self.status, self.name, self.sort, self.descending, self.page_size):
            control.observe(self._filter_changed, names="value")
        self.prev_button.on_click(lambda _: self._turn(-1))
        self.next_button.on_click(lambda _: self._turn(1))
        self.picker.observe(self._pick, names="value")
        controls = w.HBox([self.status, self.name, self.sort, self.descending])
        pager = w.HBox([self.page_size, self.prev_button, self.next_button, self.label])
        self.box = w.VBox([controls, pager, self.table, self.picker])

    def on(self, changed: Callable[[JobQuery], None], picked: Callable[[int | None], None]) -> None:
        self._changed, self._picked = changed, picked

    def show(self, page: JobPage) -> None:
        """Draw a page (its query may have been moved back to the last page)."""
        self._drawing = True
        try:
            self.query, self._total = page.query, page.total
            self.table.value = render.jobs_table_html(page)
            self.label.value = render.page_label(page)
            pages = page_count(page.total, page.query.page_size)
            self.prev_button.disabled = page.query.page == 0
            self.next_button.disabled = (page.query.page + 1 >= pages) if pages is not None else \
                len(page.rows) < page.query.page_size  # fmt: skip
            chosen = self.picker.value
            options = [("—", None), *[(f"{job.id}: {job.name}", job.id) for job in page.rows]]
            if chosen is not None and chosen not in {job.id for job in page.rows}:
                options.append((f"{chosen}", chosen))  # keep the open detail when its job leaves the page
            if options != list(self.picker.options):
                self.picker.options = options
                self.picker.value = chosen
        finally:
            self._drawing = False

    def _filter_changed(self, change: dict) -> None:
        if self._drawing:
            return
        name = self.name.value.strip() or None
        self.query = JobQuery(status=self.status.value, name=name, sort=self.sort.value,
                              descending=self.descending.value, page=0, page_size=self.page_size.value)  # fmt: skip
        self._ask()

    def _turn(self, step: int) -> None:
        self.query = replace(self.query, page=max(self.query.page + step, 0))
        self._ask()

    def _ask(self) -> None:
        self.label.value = '<span class="torc-muted">loading…</span>'
        self._changed(self.query)

    def _pick(self, change: dict) -> None:
        if not self._drawing:
            self._picked(change["new"])


class JobDetailView:
    """Command, resources, results of every attempt and the stdout / stderr tails of one job."""

    def __init__(self) -> None:
        self.html = w.HTML('<p class="torc-muted">Pick a job under the table to see its details.</p>')
        self.box = w.VBox([self.html])

    def show(self, detail: JobDetail | None) -> None:
        self.html.value = (render.job_detail_html(detail) if detail is not None
                           else '<p class="torc-muted">Pick a job under the table to see its details.</p>')  # fmt: skip
