"""`torc results|files|compute-nodes`: a workflow's results, its files (which may be edited) and its runners."""

from __future__ import annotations

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
from torc_client.core import states

# --- results ----------------------------------------------------------------------------


@click.command("list")
@workflow_id_argument
@click.option("-j", "--job-id", type=int, default=None, help="Only results of this job.")
@click.option("-r", "--run-id", type=int, default=None, help="Only results of this run.")
@click.option("-s", "--status", type=click.Choice(states.ALL), default=None, help="Only results with this status.")
@click.option("--return-code", type=int, default=None, help="Only results with this return code.")
@click.option("--failed", is_flag=True, help="Only results that did not complete (non-zero return code, or a "
              "status other than completed).")  # fmt: skip
@click.option("--all-runs", is_flag=True, help="Include earlier runs (default: the latest run only).")
@paging_options
@pass_state
def list_results(state: State, workflow_id: int, job_id: int | None, run_id: int | None, status: str | None,
                 return_code: int | None, failed: bool, all_runs: bool, limit: int | None,
                 offset: int) -> None:  # fmt: skip
    """List the results (one per job attempt) of a workflow."""
    client = state.client()
    query = {"job_id": job_id, "run_id": run_id, "status": status, "return_code": return_code, "all_runs": all_runs}
    if failed:  # the server has no "not completed" filter: select here, then page
        found = [r for r in client.list_results(workflow_id, **query) if is_failure(r)][offset:][:limit]
    else:
        found = client.list_results(workflow_id, **query, offset=offset, limit=limit)
    if state.json:
        render.show_list(found, c.Result, state.format)
        return
    names = {job.id: job.name for job in client.list_jobs(workflow_id)} if found else {}
    render.show_list(found, c.Result, state.format, render.result_columns(names))


def is_failure(result: c.Result) -> bool:
    """Whether a result says its job did not complete: a non-zero return code, or another status."""
    return result.return_code != 0 or result.status != states.S.COMPLETED


@click.command("get")
@click.argument("result_id", type=int, metavar="ID")
@pass_state
def get_result(state: State, result_id: int) -> None:
    """Show one result."""
    render.show_record(state.client().get_result(result_id), state.format)


@click.group("results")
def results() -> None:
    """Inspect job results."""


results.add_command(list_results)
results.add_command(get_result)

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


@click.command("create")
@workflow_id_argument
@click.option("-n", "--name", required=True, help="Name of the file (jobs refer to it).")
@click.option("-p", "--path", required=True, help="Its path.")
@pass_state
def create_file(state: State, workflow_id: int, name: str, path: str) -> None:
    """Add a file record to a workflow."""
    show_created(state, "file", state.client().create_file(workflow_id, name, path))


@click.command("update")
@click.argument("file_id", type=int, metavar="ID")
@click.option("-n", "--name", default=None, help="A new name.")
@click.option("-p", "--path", default=None, help="A new path.")
@pass_state
def update_file(state: State, file_id: int, name: str | None, path: str | None) -> None:
    """Rename a file record or change its path."""
    show_changed(state, "Updated", "file", state.client().update_file(file_id, **changes(name=name, path=path)))


@click.command("delete")
@click.argument("file_id", type=int, metavar="ID")
@pass_state
def delete_file(state: State, file_id: int) -> None:
    """Delete a file record (the file on disk is left alone)."""
    show_changed(state, "Deleted", "file", state.client().delete_file(file_id))


@click.group("files")
def files() -> None:
    """Inspect and edit the files jobs read and write."""


for _command in (list_files, get_file, create_file, update_file, delete_file):
    files.add_command(_command)

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
