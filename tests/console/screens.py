"""What the console shows, read back from its SVG screenshots; and the kept snapshots compared by structure."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from textual.app import App

SNAPSHOTS = Path(__file__).parent / "snapshots"
DOCS = Path(__file__).parents[2] / "docs" / "guides" / "console"


def svg_lines(svg: str) -> list[str]:
    """The screen's text, one string per terminal row (Textual draws each row as `<text>` runs at one y)."""
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, body in re.findall(r'<text[^>]*?x="([\d.]+)"[^>]*?y="([\d.]+)"[^>]*>(.*?)</text>', svg, re.S):
        rows.setdefault(float(y), []).append((float(x), html.unescape(re.sub(r"<[^>]+>", "", body))))
    return ["".join(t for _, t in sorted(parts)).replace("\xa0", " ").rstrip() for _, parts in sorted(rows.items())]


def screen_text(app: App) -> str:
    return "\n".join(svg_lines(app.export_screenshot()))


def structure(svg: str) -> list[str]:
    """The rows with what changes from run to run masked: numbers (ids, times), and the column widths they set."""
    return [re.sub(r" +", " ", re.sub(r"\d+", "#", line)) for line in svg_lines(svg) if line.strip()]


def keep(app: App, name: str) -> str:
    """Save the screen as SVG under tests (and for the docs with TORC_SAVE_SCREENSHOTS=1); return it."""
    svg = app.export_screenshot(title=f"torc tui: {name}")
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("TORC_UPDATE_SNAPSHOTS") or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg)
    if os.environ.get("TORC_SAVE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / f"{name}.svg").write_text(svg)
    return svg


def kept(name: str) -> str:
    return (SNAPSHOTS / f"{name}.svg").read_text()
