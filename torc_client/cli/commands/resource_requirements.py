"""`torc resource-requirements list|get|create|update|delete`: the CPUs, GPUs, nodes, memory and run time jobs need."""

from __future__ import annotations

import re
from collections.abc import Callable
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
from torc_client.cli.commands.editing import changes, show_changed, show_created
from torc_client.client import Client
from torc_client.core import errors
from torc_client.core.units import format_duration, parse_duration, parse_memory

#: `90m`, `1h30m`, `2d`: the short durations people type, turned into ISO 8601 before sending.
_SHORT_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.IGNORECASE)
_SHORT_SECONDS = (86400, 3600, 60, 1)


class Memory(click.ParamType):
    """A memory size such as `512m` or `16g`, checked before any request is sent."""

    name = "SIZE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            parse_memory(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        return str(value).strip()


class Runtime(click.ParamType):
    """An ISO-8601 duration (`PT1H`, `P0DT1H`) or a short one (`90m`, `1h30m`, `2d`), sent as ISO 8601."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        short = _SHORT_DURATION.fullmatch(text)
        if short and any(short.groups()):
            return format_duration(sum(int(n) * s for n, s in zip(short.groups(), _SHORT_SECONDS) if n))
        try:
            parse_duration(text)
        except ValueError:
            self.fail(f"invalid duration {text!r}: expected ISO 8601 (PT30M, P0DT1H, P1DT12H) or a short form "
                      "(90m, 1h30m, 2d)", param, ctx)  # fmt: skip
        return text.upper()


def resource_requirements_id(client: Client, workflow_id: int, name_or_id: str) -> int:
    """The id of a workflow's resource requirements given by id (a number) or by name."""
    if name_or_id.isdigit():
        return int(name_or_id)
    found = client.list_resource_requirements(workflow_id, name=name_or_id)
    if not found:
        raise errors.NotFound("resource_requirements", f"{name_or_id!r} of workflow {workflow_id}")
    return found[0].id


#: (option, type, help) of the amounts a create sets (else the default) and an update changes (else keeps).
_AMOUNTS = (
    ("--num-cpus", click.IntRange(min=1), "CPUs per job (create: 1)."),
    ("--num-gpus", click.IntRange(min=0), "GPUs per job (create: 0)."),
    ("--num-nodes", click.IntRange(min=1), "Nodes per job (create: 1)."),
    ("--memory", Memory(), "Memory per job: 512m, 16g, ... (create: 1m)."),
    ("--runtime", Runtime(), "Run time per job: PT1H, P0DT1H, or 1h, 90m, 2d (create: PT1H)."),
)


def _amount_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for flag, kind, text in reversed(_AMOUNTS):  # an option applied last is listed first in --help
        func = click.option(flag, type=kind, default=None, help=text)(func)
    return func


@click.command("list")
@workflow_id_argument
@paging_options
@pass_state
def list_(state: State, workflow_id: int, limit: int | None, offset: int) -> None:
    """List a workflow's resource requirements."""
    found = state.client().list_resource_requirements(workflow_id, offset=offset, limit=limit)
    render.show_list(found, c.ResourceRequirements, state.format)


@click.command("get")
@click.argument("rr_id", type=int, metavar="ID")
@pass_state
def get(state: State, rr_id: int) -> None:
    """Show one set of resource requirements."""
    render.show_record(state.client().get_resource_requirements(rr_id), state.format)


@click.command("create")
@workflow_id_argument
@click.option("-n", "--name", required=True, help="Name of the requirements (jobs refer to it).")
@_amount_options
@pass_state
def create(state: State, workflow_id: int, name: str, **amounts: Any) -> None:
    """Add resource requirements to a workflow."""
    fields = {key: value for key, value in amounts.items() if value is not None}
    show_created(state, "resource_requirements", state.client().create_resource_requirements(workflow_id, name,
                                                                                             **fields))  # fmt: skip


@click.command("update")
@click.argument("rr_id", type=int, metavar="ID")
@click.option("-n", "--name", default=None, help="A new name.")
@_amount_options
@pass_state
def update(state: State, rr_id: int, **options: Any) -> None:
    """Change resource requirements; jobs that use them are claimed with the new values."""
    record = state.client().update_resource_requirements(rr_id, **changes(**options))
    show_changed(state, "Updated", "resource_requirements", record)


@click.command("delete")
@click.argument("rr_id", type=int, metavar="ID")
@pass_state
def delete(state: State, rr_id: int) -> None:
    """Delete resource requirements that no job uses (not `default`)."""
    show_changed(state, "Deleted", "resource_requirements", state.client().delete_resource_requirements(rr_id))


@click.group("resource-requirements")
def group() -> None:
    """Inspect and edit the resources jobs need."""


for _command in (list_, get, create, update, delete):
    group.add_command(_command)
