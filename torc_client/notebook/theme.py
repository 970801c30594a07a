"""Colours and CSS shared by every view: one colour per job status, the same in tables, graph and legend."""

from __future__ import annotations

STATUS_COLORS: dict[str, str] = {
    "uninitialized": "#d9d9d9",
    "blocked": "#b3b3b3",
    "ready": "#9ecae1",
    "pending": "#fdd49e",
    "running": "#3182bd",
    "completed": "#31a354",
    "failed": "#de2d26",
    "canceled": "#756bb1",
    "terminated": "#e6550d",
    "disabled": "#636363",
    "pending_failed": "#fb6a4a",
}
_DARK = frozenset({"running", "completed", "failed", "canceled", "terminated", "disabled", "pending_failed"})
UNKNOWN_COLOR = "#ffffff"


def status_color(status: str) -> str:
    return STATUS_COLORS.get(status, UNKNOWN_COLOR)


def text_color(status: str) -> str:
    """Black or white, whichever reads on the status colour."""
    return "#ffffff" if status in _DARK else "#000000"


#: Styles for the HTML the views render (scoped by the `torc-` class prefix).
CSS = """
<style>
.torc-table { border-collapse: collapse; font-size: 12px; margin: 2px 0; }
.torc-table th, .torc-table td { border-bottom: 1px solid #e0e0e0; padding: 2px 8px; text-align: left;
  vertical-align: top; }
.torc-table th { background: #f5f5f5; }
.torc-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.torc-status { display: inline-block; padding: 0 6px; border-radius: 3px; }
.torc-muted { color: #757575; }
.torc-error { color: #b71c1c; }
.torc-pre { max-height: 16em; overflow: auto; background: #fafafa; border: 1px solid #e0e0e0; padding: 4px;
  font-size: 11px; white-space: pre-wrap; margin: 2px 0; }
.torc-graph-box { max-height: 640px; overflow: auto; }
</style>
"""
