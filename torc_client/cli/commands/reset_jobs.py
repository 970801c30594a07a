"""`torc jobs reset-status`: reset exactly the jobs chosen (ids, status, return code), and rerun them alone."""

from __future__ import annotations

from pathlib import Path

import click

from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.core import settings, states
from torc_client.core.units import count
from torc_client.hpc import submission


@click.command("reset-status")
@workflow_id_argument
@click.argument("job_ids", type=int, nargs=-1, metavar="[JOB_IDS]...")
@click.option("-s", "--status", type=click.Choice(states.ALL), default=None,
              help="Only jobs in this status (e.g. canceled).")  # fmt: skip
@click.option("--return-code", type=int, default=None,
              help="Only jobs whose latest attempt exited with this code.")  # fmt: skip
@click.option("-r", "--reinitialize", "then_reinitialize", is_flag=True,
              help="Then start a new run in which only the reset jobs run again.")  # fmt: skip
@click.option("--force", is_flag=True, help="Reset even while jobs are pending or running.")
@click.option("--no-submit", is_flag=True, help="With -r on a Slurm workflow: submit no allocations for the rerun.")
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=settings.DEFAULT_OUTPUT_DIR, show_default=True, help="Where batch scripts and Slurm logs go.")
@pass_state
def reset_status(state: State, workflow_id: int, job_ids: tuple[int, ...], status: str | None,
                 return_code: int | None, then_reinitialize: bool, force: bool, no_submit: bool,
                 output_dir: Path) -> None:  # fmt: skip
    """Put the chosen jobs, and every job downstream of them, back to uninitialized.

    Choose by id (JOB_IDS), by status, by the return code of the latest attempt, or a
    combination (each narrows the others; no ids means every job). Every other job keeps its
    status and results. With -r a new run starts in which only the reset jobs run again; in a
    workflow with Slurm schedulers, the allocations they need (and only those: ready jobs that
    no queued or running allocation can take) are submitted too, unless --no-submit:

    \b
      torc jobs reset-status 7 17 40 -r           # these two jobs and what depends on them
      torc jobs reset-status 7 --return-code 2 -r # every job that exited with 2
      torc jobs reset-status 7 --status canceled
    """
    if not job_ids and status is None and return_code is None:
        raise click.UsageError("choose the jobs: JOB_IDS, --status or --return-code "
                               "(`torc workflows reset-status` resets every job, or every unfinished one)")  # fmt: skip
    result = state.client().reset_job_status(workflow_id, list(job_ids), status=status, return_code=return_code,
                                             reinitialize=then_reinitialize, force=force)  # fmt: skip
    render.message(f"Reset {count(result.updated_count, 'job')} of workflow {workflow_id} to uninitialized "
                   f"({count(len(result.selected_job_ids), 'job')} chosen, the rest downstream of them)")  # fmt: skip
    if state.json:
        render.print_json(result)
    elif result.reinitialized is not None:
        render.show_reinitialized(result.reinitialized, state.format)
    if result.reinitialized is not None and not no_submit and state.client().list_slurm_schedulers(workflow_id):
        ids = submission.resubmit(state.client(), workflow_id, output_dir, render.message)
        if ids:
            render.message(f"submitted Slurm allocation{'s' if len(ids) != 1 else ''} {', '.join(ids)} for the rerun")
