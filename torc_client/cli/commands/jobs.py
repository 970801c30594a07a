"""`torc jobs list|get`."""

from __future__ import annotations

import click

from torc_client import contract as c
from torc_client import states
from torc_client.cli import render
from torc_client.cli.commands.common import State, paging_options, pass_state, workflow_id_argument


@click.command("list")
@workflow_id_argument
@click.option("-s", "--status", type=click.Choice(states.ALL), default=None, help="Only jobs in this status.")
@click.option("--name", default=None, help="Only jobs with this name.")
@paging_options
@pass_state
def list_(state: State, workflow_id: int, status: str | None, name: str | None, limit: int | None,
          offset: int) -> None:  # fmt: skip
    """List a workflow's jobs."""
    found = state.client().list_jobs(workflow_id, status=status, name=name, offset=offset, limit=limit)
    render.show_list(found, c.Job, state.format)


@click.command("get")
@click.argument("job_id", type=int)
@pass_state
def get(state: State, job_id: int) -> None:
    """Show one job."""
    render.show_record(state.client().get_job(job_id), state.format)


@click.group("jobs")
def group() -> None:
    """Inspect jobs."""


group.add_command(list_)
group.add_command(get)
