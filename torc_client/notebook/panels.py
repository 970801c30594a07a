"""The graph, user_data and resources tabs: core ipywidgets showing snapshots."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from torc_client import contract as c
from torc_client.analysis.diagnosis import Sizing
from torc_client.notebook import render
from torc_client.notebook.svg import graph_svg
from torc_client.watching.layout import GraphLayout


def _noop(*args: object) -> None:
    return None


class GraphView:
    """The dependency graph as SVG, with a refresh button (large workflows refresh only on demand)."""

    def __init__(self) -> None:
        self.refresh_button = w.Button(description="Refresh graph", icon="refresh")
        self.note = w.HTML()
        self.svg = w.HTML('<p class="torc-muted">Open this tab to draw the graph.</p>')
        self.box = w.VBox([w.HBox([self.refresh_button, self.note]), self.svg])

    def on(self, refresh: Callable[[], None]) -> None:
        self.refresh_button.on_click(lambda _: refresh())

    def show(self, layout: GraphLayout, live: bool) -> None:
        self.svg.value = f'<div class="torc-graph-box">{graph_svg(layout)}</div>'
        collapsed = " Jobs whose names differ only in digits are drawn as one box." if layout.collapsed else ""
        updates = "Updates live." if live else "Large workflow: press Refresh graph to update."
        self.note.value = f'<span class="torc-muted">{layout.num_jobs} jobs. {updates}{collapsed}</span>'


class UserDataView:
    """The workflow's user_data records, and an editor that saves only valid JSON."""

    def __init__(self) -> None:
        self.table = w.HTML()
        self.picker = w.Dropdown(options=[("—", None)], description="Edit")
        self.editor = w.Textarea(layout=w.Layout(width="95%", height="160px"))
        self.save_button = w.Button(description="Save", icon="save", button_style="primary")
        self.revert_button = w.Button(description="Revert")
        self.message = w.HTML()
        self.records: dict[int, c.UserData] = {}
        self._loaded = ""
        self._save: Callable[[int, Any], None] = _noop
        self._drawing = False
        self.picker.observe(self._pick, names="value")
        self.save_button.on_click(lambda _: self.save())
        self.revert_button.on_click(lambda _: self._load(self.picker.value))
        actions = w.HBox([self.save_button, self.revert_button, self.message])
        self.box = w.VBox([self.table, self.picker, self.editor, actions])

    def on(self, save: Callable[[int, Any], None]) -> None:
        self._save = save

    @property
    def dirty(self) -> bool:
        """Whether the editor holds changes not yet saved."""
        return self.editor.value != self._loaded

    def show(self, records: Sequence[c.UserData]) -> None:
        """Draw the records; the editor is reloaded only if it holds no unsaved change."""
        self.records = {r.id: r for r in records}
        self.table.value = render.user_data_html(records)
        options = [("—", None), *[(f"{r.id}: {r.name}", r.id) for r in records]]
        if options != list(self.picker.options):
            chosen = self.picker.value if self.picker.value in self.records else None
            self._drawing = True
            try:
                self.picker.options = options
                self.picker.value = chosen
            finally:
                self._drawing = False
        if not self.dirty:
            self._load(self.picker.value)

    def save(self) -> bool:
        """Save the editor's JSON to the picked record; invalid JSON is refused with a message."""
        record_id = self.picker.value
        if record_id is None:
            self.say("Pick a record to edit first.", error=True)
            return False
        parsed = render.parse_json(self.editor.value)
        if not parsed.ok:
            self.say(parsed.error or "", error=True)
            return False
        self._save(record_id, parsed.value)
        self._loaded = self.editor.value
        self.say(f"Saved user_data {record_id}.")
        return True

    def say(self, text: str, error: bool = False) -> None:
        self.message.value = render.message_html(text, error)

    def _pick(self, change: dict) -> None:
        if not self._drawing:
            self._load(change["new"])

    def _load(self, record_id: int | None) -> None:
        record = self.records.get(record_id) if record_id is not None else None
        self._loaded = render.edit_text(record.data) if record is not None else ""
        self.editor.value = self._loaded
        self.editor.disabled = record is None
        self.say("")


class ResourcesView:
    """Peak and average CPU and memory per job against the request, a right-sizing table, and with
    `granularity: time_series` CPU and memory over time per resource group (as `torc plot-resources`)."""

    def __init__(self) -> None:
        self.refresh_button = w.Button(description="Refresh plots", icon="refresh")
        self.note = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.table = w.HTML('<p class="torc-muted">Open this tab to plot what jobs used.</p>')
        self.series = w.VBox()
        self.box = w.VBox([w.HBox([self.refresh_button, self.note]), self.table, self.image, self.series])

    def on(self, refresh: Callable[[], None]) -> None:
        self.refresh_button.on_click(lambda _: refresh())

    def show(self, png: bytes, groups: Sequence[Sizing], jobs: int) -> None:
        self.image.value = png
        self.table.value = render.sizing_html(groups)
        self.note.value = f'<span class="torc-muted">{jobs} jobs with results in this run.</span>'

    def show_series(self, plots: Sequence[tuple[str, bytes]]) -> None:
        """One titled PNG per resource group (none: the workflow keeps no time series)."""
        children = []
        for title, png in plots:
            children += [w.HTML(f"<h4>{html.escape(title)}</h4>"),
                         w.Image(value=png, format="png", layout=w.Layout(max_width="100%"))]  # fmt: skip
        self.series.children = children
