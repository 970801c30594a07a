"""`torc user-data list|get|create|update|delete`: the small JSON documents jobs exchange."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from torc_client import contract as c
from torc_client.cli import render
from torc_client.cli.commands.common import (
    State,
    paging_options,
    pass_state,
    workflow_id_argument,
)
from torc_client.client import UNSET
from torc_client.core import jsonvalues


class JsonValue(click.ParamType):
    """JSON text, or `@FILE` to read it from a file; checked before any request is sent."""

    name = "JSON|@FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        source, text = "", value
        if value.startswith("@"):
            source = f" in {value[1:]}"
            try:
                text = Path(value[1:]).read_text()
            except OSError as exc:
                self.fail(f"cannot read {value[1:]}: {exc.strerror or exc}", param, ctx)
        try:
            return json.loads(text, parse_constant=jsonvalues.reject_constant)
        except json.JSONDecodeError as exc:
            self.fail(f"not valid JSON{source} (line {exc.lineno}, column {exc.colno}: {exc.msg})", param, ctx)
        except jsonvalues.NotJson as exc:
            self.fail(f"not valid JSON{source}: {exc}", param, ctx)


@click.command("list")
@workflow_id_argument
@click.option("--name", default=None, help="Only entries with this name.")
@click.option("--consumer-job-id", type=int, default=None, help="Only entries this job reads.")
@click.option("--producer-job-id", type=int, default=None, help="Only entries this job writes.")
@paging_options
@pass_state
def list_(state: State, workflow_id: int, name: str | None, consumer_job_id: int | None,
          producer_job_id: int | None, limit: int | None, offset: int) -> None:  # fmt: skip
    """List a workflow's user_data."""
    found = state.client().list_user_data(workflow_id, name=name, consumer_job_id=consumer_job_id,
                                          producer_job_id=producer_job_id, offset=offset, limit=limit)  # fmt: skip
    render.show_list(found, c.UserData, state.format)


@click.command("get")
@click.argument("user_data_id", type=int, metavar="ID")
@pass_state
def get(state: State, user_data_id: int) -> None:
    """Print one user_data record as JSON (always JSON, so `| jq '.data'` works)."""
    render.print_json(state.client().get_user_data(user_data_id))


@click.command("create")
@workflow_id_argument
@click.option("-n", "--name", required=True, help="Name of the entry.")
@click.option("-d", "--data", type=JsonValue(), default=None, help="Its JSON value, or @FILE (default: null).")
@click.option("--ephemeral", is_flag=True, help="Cleared when the workflow is reinitialised.")
@pass_state
def create(state: State, workflow_id: int, name: str, data: Any, ephemeral: bool) -> None:
    """Add a user_data entry to a workflow."""
    record = state.client().create_user_data(workflow_id, name, data, is_ephemeral=ephemeral)
    render.message(f"Created user_data {record.id}")
    render.show_record(record, state.format)


@click.command("update")
@click.argument("user_data_id", type=int, metavar="ID")
@click.option("-d", "--data", type=JsonValue(), default=None, help="The new JSON value, or @FILE.")
@click.option("-n", "--name", default=None, help="A new name.")
@pass_state
def update(state: State, user_data_id: int, data: Any, name: str | None) -> None:
    """Replace a user_data entry's value (and/or rename it)."""
    ctx = click.get_current_context()
    given = ctx.get_parameter_source("data") == click.core.ParameterSource.COMMANDLINE
    if not given and name is None:
        raise click.UsageError("nothing to update: pass --data and/or --name")
    record = state.client().update_user_data(user_data_id, data=data if given else UNSET,
                                             name=name if name is not None else UNSET)  # fmt: skip
    render.message(f"Updated user_data {record.id}")
    if state.json:
        render.print_json(record)


@click.command("delete")
@click.argument("user_data_id", type=int, metavar="ID")
@pass_state
def delete(state: State, user_data_id: int) -> None:
    """Delete a user_data entry."""
    record = state.client().delete_user_data(user_data_id)
    render.message(f"Deleted user_data {record.id}")
    if state.json:
        render.print_json(record)


@click.group("user-data")
def group() -> None:
    """Read and write user_data: JSON documents stored with the workflow."""


for _command in (list_, get, create, update, delete):
    group.add_command(_command)
