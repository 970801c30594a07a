"""What the create, update and delete commands share: which options were given, and how a change is reported."""

from __future__ import annotations

from typing import Any

import click

from torc_client.cli import render
from torc_client.cli.commands.common import State


def changes(**options: Any) -> dict[str, Any]:
    """The options that were given (not None) as an update's changes; a usage error when none was."""
    given = {key: value for key, value in options.items() if value is not None}
    if not given:
        ctx = click.get_current_context()
        flags = [max(p.opts, key=len) for p in ctx.command.params if isinstance(p, click.Option) and p.expose_value]
        raise click.UsageError(f"nothing to update: pass at least one of {', '.join(flags)}", ctx)
    return given


def show_created(state: State, kind: str, record: Any) -> None:
    """Say what was created (stderr) and show it: a table, or its JSON."""
    render.message(f"Created {kind} {record.id}")
    render.show_record(record, state.format)


def show_changed(state: State, verb: str, kind: str, record: Any) -> None:
    """Say what was updated or deleted (stderr); with `-f json`, print the record too."""
    render.message(f"{verb} {kind} {record.id}")
    if state.json:
        render.print_json(record)
