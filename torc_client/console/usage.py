"""Resources in the terminal: for each requirements group, what its jobs used against what they requested."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from torc_client.analysis.diagnosis import Sizing, group_usage
from torc_client.console.widgets import Banner, done_with, wait_for
from torc_client.watching import fetch
from torc_client.watching.values import format_elapsed, human_bytes

BAR_WIDTH = 24


def usage_bar(used: float | None, requested: float | None, width: int = BAR_WIDTH) -> Text:
    """`[███████░░░░░]` filled to used/requested; past the request the overflow is marked `!`."""
    if used is None or not requested:
        return Text(f"[{' ' * width}]", style="dim")
    share = used / requested
    filled = min(width, round(share * width))
    bar = Text("[")
    bar.append("█" * filled, style="#D55E00" if share > 1 else "#0072B2")
    bar.append("░" * (width - filled), style="dim")
    bar.append("]!" if share > 1 else "]")
    return bar


def usage_text(groups: Sequence[Sizing]) -> Text:
    """Peak CPUs, peak memory and the longest run of each group against its request."""
    if not groups:
        return Text("No job has a result in this run yet.", style="dim")
    text = Text()
    for g in groups:
        text.append(f"{g.requirements_name or '(no requirements)'}", style="bold")
        text.append(f"  {g.jobs:,} jobs, {g.sampled:,} sampled\n")
        rows = (("CPUs", g.peak_cpus, g.requested_cpus, _cpus(g.peak_cpus), str(g.requested_cpus)),
                ("memory", g.peak_memory_bytes, g.requested_memory_bytes, _memory(g.peak_memory_bytes),
                 _memory(g.requested_memory_bytes)),
                ("run time", g.peak_exec_seconds, g.requested_runtime_seconds, format_elapsed(g.peak_exec_seconds),
                 format_elapsed(g.requested_runtime_seconds)))  # fmt: skip
        for label, used, requested, used_text, requested_text in rows:
            text.append(f"  {label:<9}")
            text.append_text(usage_bar(used, requested))
            text.append(f" {used_text} of {requested_text}\n")
    text.rstrip()
    return text


def _cpus(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _memory(value: int | None) -> str:
    return human_bytes(value)


class UsageScreen(Screen):
    """Requested against used, per requirements group (reads every job and result: drawn on opening, `R` redraws)."""

    BINDINGS = [Binding("R", "redraw", "redraw (reads every job)")]

    def __init__(self, workflow_id: int) -> None:
        super().__init__()
        self.workflow_id = workflow_id

    def compose(self) -> ComposeResult:
        yield Banner()
        yield Static(f"Resources of workflow {self.workflow_id}: the peak of its jobs against the request",
                     classes="muted")  # fmt: skip
        with VerticalScroll(id="usage-box"):
            yield Static("", id="usage")
        yield Footer()

    def on_mount(self) -> None:
        self.action_redraw()

    def action_redraw(self) -> None:
        wait_for(self, self.query_one("#usage-box"))
        client = self.app.client
        self.app.read(lambda: usage_text(group_usage(fetch.usage(client, self.workflow_id))), self.show,
                      group="usage")  # fmt: skip

    def show(self, drawn: Text) -> None:
        done_with(self.query_one("#usage-box"))
        self.query_one("#usage", Static).update(drawn)
