"""`torc jobs list|get|create|update|delete`."""

from __future__ import annotations

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
from torc_client.cli.commands.resource_requirements import resource_requirements_id
from torc_client.cli.render import dependencies as render_dependencies
from torc_client.core import states


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


def _job_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options a create sets and an update changes (the server allows most changes only before a run)."""
    for option in reversed([
        click.option("-r", "--resource-requirements", "resources", default=None, metavar="NAME_OR_ID",
                     help="Its resource requirements, by name or id (create: the workflow's `default`)."),
        click.option("--invocation-script", default=None, help="A script that runs the command (e.g. a wrapper)."),
        click.option("--cancel-on-blocking-job-failure/--no-cancel-on-blocking-job-failure", default=None,
                     help="Cancel it when a job it depends on fails (create: yes)."),
        click.option("--supports-termination/--no-supports-termination", default=None,
                     help="It ends cleanly on SIGTERM, so a runner out of time may terminate it (create: no)."),
    ]):  # fmt: skip
        func = option(func)
    return func


def _ids(help_text: str, *decls: str) -> Callable[..., Any]:
    return click.option(*decls, type=int, multiple=True, metavar="ID", help=f"{help_text} (repeat for more).")


@click.command("create")
@workflow_id_argument
@click.option("-n", "--name", required=True, help="Name of the job.")
@click.option("-c", "--command", required=True, help="The command line it runs.")
@_job_options
@_ids("A job it runs after", "-b", "--depends-on", "depends_on_job_ids")
@_ids("A file it reads", "--input-file", "input_file_ids")
@_ids("A file it writes", "--output-file", "output_file_ids")
@_ids("A user_data entry it reads", "--input-user-data", "input_user_data_ids")
@_ids("A user_data entry it writes", "--output-user-data", "output_user_data_ids")
@pass_state
def create(state: State, workflow_id: int, name: str, command: str, resources: str | None, **fields: Any) -> None:
    """Add a job to a workflow that has not run yet."""
    client = state.client()
    if resources is not None:
        fields["resource_requirements_id"] = resource_requirements_id(client, workflow_id, resources)
    fields = {key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()
              if value is not None}  # fmt: skip
    show_created(state, "job", client.create_job(workflow_id, name, command, **fields))


@click.command("update")
@click.argument("job_id", type=int)
@click.option("-n", "--name", default=None, help="A new name.")
@click.option("-c", "--command", default=None, help="A new command line.")
@_job_options
@pass_state
def update(state: State, job_id: int, resources: str | None, **options: Any) -> None:
    """Change a job (name, command and script only before the workflow's first run)."""
    client = state.client()
    if resources is not None:
        options["resource_requirements_id"] = resource_requirements_id(client, client.get_job(job_id).workflow_id,
                                                                       resources)  # fmt: skip
    show_changed(state, "Updated", "job", client.update_job(job_id, **changes(**options)))


@click.command("delete")
@click.argument("job_id", type=int)
@pass_state
def delete(state: State, job_id: int) -> None:
    """Remove a job from a workflow that has not run yet."""
    show_changed(state, "Deleted", "job", state.client().delete_job(job_id))


@click.group("jobs")
def group() -> None:
    """Inspect and edit jobs."""


for _command in (list_, get, create, update, delete):
    group.add_command(_command)


@click.command("why")
@click.argument("job_id", type=int)
@click.option("--max-roots", type=click.IntRange(1, 1000), default=None,
              help="List at most this many root causes (default 50; all found are counted).")  # fmt: skip
@pass_state
def why(state: State, job_id: int, max_roots: int | None) -> None:
    """Say what a job waits for: unfinished upstream jobs, the unblocked jobs behind them, missing inputs."""
    render_dependencies.show_why(state.client().job_why(job_id, max_roots=max_roots), state.format)


group.add_command(why)
