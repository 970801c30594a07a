"""`torc results|files|resource-requirements|compute-nodes`: read-only listings of a workflow's records."""

from __future__ import annotations

import click

from torc_client import contract as c
from torc_client import states
from torc_client.cli import render
from torc_client.cli.commands.common import State, paging_options, pass_state, workflow_id_argument

# --- results ----------------------------------------------------------------------------


@click.command("list")
@workflow_id_argument
@click.option("-j", "--job-id", type=int, default=None, help="Only results of this job.")
@click.option("-r", "--run-id", type=int, default=None, help="Only results of this run.")
@click.option("-s", "--status", type=click.Choice(states.ALL), default=None, help="Only results with this status.")
@click.option("--return-code", type=int, default=None, help="Only results with this return code.")
@click.option("--all-runs", is_flag=True, help="Include earlier runs (default: the latest run only).")
@paging_options
@pass_state
def list_results(state: State, workflow_id: int, job_id: int | None, run_id: int | None, status: str | None,
                 return_code: int | None, all_runs: bool, limit: int | None, offset: int) -> None:  # fmt: skip
    """List the results (one per job attempt) of a workflow."""
    client = state.client()
    found = client.list_results(workflow_id, job_id=job_id, run_id=run_id, status=status, return_code=return_code,
                                all_runs=all_runs, offset=offset, limit=limit)  # fmt: skip
    if state.json:
        render.show_list(found, c.Result, state.format)
        return
    names = {job.id: job.name for job in client.list_jobs(workflow_id)} if found else {}
    render.show_list(found, c.Result, state.format, render.result_columns(names))


@click.group("results")
def results() -> None:
    """Inspect job results."""


results.add_command(list_results)

# --- files ------------------------------------------------------------------------------


@click.command("list")
@workflow_id_argument
@click.option("--name", default=None, help="Only files with this name.")
@paging_options
@pass_state
def list_files(state: State, workflow_id: int, name: str | None, limit: int | None, offset: int) -> None:
    """List a workflow's files."""
    render.show_list(state.client().list_files(workflow_id, name=name, offset=offset, limit=limit), c.File,
                     state.format)  # fmt: skip


@click.command("get")
@click.argument("file_id", type=int)
@pass_state
def get_file(state: State, file_id: int) -> None:
    """Show one file."""
    render.show_record(state.client().get_file(file_id), state.format)


@click.group("files")
def files() -> None:
    """Inspect the files jobs read and write."""


files.add_command(list_files)
files.add_command(get_file)

# --- resource requirements --------------------------------------------------------------


@click.command("list")
@workflow_id_argument
@paging_options
@pass_state
def list_resource_requirements(state: State, workflow_id: int, limit: int | None, offset: int) -> None:
    """List a workflow's resource requirements."""
    found = state.client().list_resource_requirements(workflow_id, offset=offset, limit=limit)
    render.show_list(found, c.ResourceRequirements, state.format)


@click.command("get")
@click.argument("rr_id", type=int, metavar="ID")
@pass_state
def get_resource_requirements(state: State, rr_id: int) -> None:
    """Show one set of resource requirements."""
    render.show_record(state.client().get_resource_requirements(rr_id), state.format)


@click.group("resource-requirements")
def resource_requirements() -> None:
    """Inspect the resources jobs need."""


resource_requirements.add_command(list_resource_requirements)
resource_requirements.add_command(get_resource_requirements)

# --- compute nodes ----------------------------------------------------------------------


@click.command("list")
@workflow_id_argument
@click.option("--active/--all", "active", default=None, help="Only active runners (--active) or every one (default).")
@paging_options
@pass_state
def list_compute_nodes(state: State, workflow_id: int, active: bool | None, limit: int | None, offset: int) -> None:
    """List the runners (compute nodes) that worked on a workflow."""
    found = state.client().list_compute_nodes(workflow_id, is_active=active, offset=offset, limit=limit)
    render.show_list(found, c.ComputeNode, state.format)


@click.group("compute-nodes")
def compute_nodes() -> None:
    """Inspect the runners of a workflow."""


compute_nodes.add_command(list_compute_nodes)
