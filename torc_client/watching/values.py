"""Pure helpers every face uses to show and edit values: elapsed time, sizes, user_data as editable JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


def format_elapsed(seconds: float | None) -> str:
    """`1:02:03` (or `2:03` under an hour); an em dash when unknown."""
    if seconds is None:
        return "—"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def human_bytes(num: int | float | None) -> str:
    """`12.3 MiB`; an em dash when unknown."""
    if num is None:
        return "—"
    size = float(num)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


@dataclass(frozen=True)
class Parsed:
    """JSON text read for saving: the value, or why it cannot be saved."""

    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_json(text: str) -> Parsed:
    """Parse the editor's text; invalid JSON gives a message naming the line and column."""
    try:
        return Parsed(json.loads(text, parse_constant=_reject_constant))
    except json.JSONDecodeError as error:
        return Parsed(error=f"Invalid JSON: {error.msg} at line {error.lineno}, column {error.colno}")
    except ValueError as error:
        return Parsed(error=f"Invalid JSON: {error}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def edit_text(value: Any) -> str:
    """How a user_data value appears in the editor."""
    return json.dumps(value, indent=2, sort_keys=True)
