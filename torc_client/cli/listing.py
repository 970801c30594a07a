"""How a listing is ordered and written besides a table or JSON: `--sort-by`, `--reverse-sort` and `-f csv`.

The list commands' `--sort-by FIELD` and `--reverse-sort` (Torc's) are kept in the click
context's `meta`, where the renderers read them, so every list command sorts the same way
without each handling the flags. Sorting is by a field of the records as `-f json` prints them;
records without the field go last. CSV has one column per field, nested values as JSON text.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import click
import msgspec

SORT_BY = "torc.sort_by"
REVERSE = "torc.reverse_sort"


def remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """An option callback that keeps the option's value in the context's meta under `key`."""

    def keep(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            ctx.meta[key] = value

    return keep


def options(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--sort-by FIELD` and `--reverse-sort`, for a list command (not passed to it: the renderers read them)."""
    func = click.option("--reverse-sort", is_flag=True, expose_value=False, callback=remember(REVERSE),
                        help="Reverse the order.")(func)  # fmt: skip
    return click.option("--sort-by", metavar="FIELD", default=None, expose_value=False, callback=remember(SORT_BY),
                        help="Sort by this field (as -f json names it), ascending.")(func)  # fmt: skip


def as_dicts(records: Sequence[Any]) -> list[dict[str, Any]]:
    return [r if isinstance(r, dict) else msgspec.to_builtins(r) for r in records]


def ordered(records: Sequence[Any]) -> list[Any]:
    """`records` in the order the command line asked for (as they are when it asked for none)."""
    ctx = click.get_current_context(silent=True)
    field = ctx.meta.get(SORT_BY) if ctx else None
    reverse = bool(ctx.meta.get(REVERSE)) if ctx else False
    if not field:
        return list(reversed(records)) if reverse else list(records)
    rows = as_dicts(records)
    if rows and not any(field in row for row in rows):
        raise click.BadParameter(f"no field {field!r}; the records have: {', '.join(rows[0])}", param_hint="--sort-by")
    present = sorted((i for i, row in enumerate(rows) if row.get(field) is not None),
                     key=lambda i: _key(rows[i][field]), reverse=reverse)  # fmt: skip
    absent = [i for i, row in enumerate(rows) if row.get(field) is None]
    return [records[i] for i in present + absent]


def _key(value: Any) -> tuple:
    if isinstance(value, bool | int | float):
        return (0, value, "")
    return (1, 0, json.dumps(value) if isinstance(value, dict | list) else str(value))


def write_csv(records: Sequence[Any], stream: TextIO | None = None) -> None:
    """The records as CSV: a header of every field, then a row each (nested values as JSON)."""
    rows = as_dicts(records)
    fields: list[str] = []
    for row in rows:
        fields += [key for key in row if key not in fields]
    writer = csv.writer(stream or sys.stdout, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in fields])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
