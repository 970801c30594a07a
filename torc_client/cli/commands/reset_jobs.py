"""`torc jobs reset-status`: reset exactly the jobs chosen (ids, status, return code), and rerun them alone."""

from __future__ import annotations

import click

from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.core import states
from torc_client.core.units import count


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
@pass_state
def reset_status(state: State, workflow_id: int, job_ids: tuple[int, ...], status: str | None,
                 return_code: int | None, then_reinitialize: bool, force: bool) -> None:  # fmt: skip
    """Put the chosen jobs, and every job downstream of them, back to uninitialized.

    Choose by id (JOB_IDS), by status, by the return code of the latest attempt, or a
    combination (each narrows the others; no ids means every job). Every other job keeps its
    status and results. With -r a new run starts in which only the reset jobs run again:

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
