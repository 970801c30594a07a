"""`torc submit`, `torc slurm ...`, `torc actions list` and `torc scheduled-compute-nodes list`."""

from __future__ import annotations

from pathlib import Path

import click

from torc_client import contract_hpc as h
from torc_client import settings, slurm, workflow_actions
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.cli.commands.run import ensure_initialized, resolve_workflow
from torc_client.client import Client

_OUTPUT_DIR = click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
                           default=settings.DEFAULT_OUTPUT_DIR, show_default=True,
                           help="Where batch scripts, Slurm logs and job logs go.")  # fmt: skip


def submit_workflow(client: Client, workflow_id: int, output_dir: Path) -> list[str]:
    """Initialise if needed, then run the start-of-workflow schedule_nodes actions from here; returns Slurm ids."""
    ensure_initialized(client, workflow_id)
    executed = workflow_actions.run_pending(client, workflow_id, output_dir, triggers=("on_workflow_start",),
                                            log=render.message)  # fmt: skip
    if not any(a.action_type == "schedule_nodes" for a in executed):
        render.message(f"workflow {workflow_id} has no pending on_workflow_start schedule_nodes action: nothing was "
                       "submitted (add one, or use `torc slurm schedule-nodes`)")  # fmt: skip
    return [n.scheduler_id for n in client.list_scheduled_compute_nodes(workflow_id)]


@click.command("submit")
@click.argument("spec_or_id", metavar="SPEC_OR_ID")
@_OUTPUT_DIR
@click.option("--working-dir", default=None, help="With a spec file: directory the jobs run in (default: here).")
@pass_state
def submit(state: State, spec_or_id: str, output_dir: Path, working_dir: str | None) -> None:
    """Submit a workflow to Slurm from a login node.

    SPEC_OR_ID is a spec file (the workflow is created first) or a workflow id. The
    workflow is initialised if it was not, and its on_workflow_start schedule_nodes
    actions submit their allocations; later stages are submitted by the runners as
    their jobs become ready.
    """
    client = state.client()
    workflow_id = resolve_workflow(client, spec_or_id, working_dir)
    submit_workflow(client, workflow_id, output_dir)
    render.show_list(client.list_scheduled_compute_nodes(workflow_id), h.ScheduledComputeNode, state.format)


@click.command("submit")
@workflow_id_argument
@_OUTPUT_DIR
@pass_state
def workflows_submit(state: State, workflow_id: int, output_dir: Path) -> None:
    """Submit an existing workflow to Slurm (as `torc submit ID`)."""
    client = state.client()
    submit_workflow(client, workflow_id, output_dir)
    render.show_list(client.list_scheduled_compute_nodes(workflow_id), h.ScheduledComputeNode, state.format)


def cancel_allocations(client: Client, workflow_id: int) -> list[str]:
    """`scancel` a workflow's allocations that are still pending or active, and mark them complete."""
    live = [n for n in client.list_scheduled_compute_nodes(workflow_id) if n.status in ("pending", "active")]
    if not live:
        return []
    slurm.cancel([n.scheduler_id for n in live])
    for node in live:
        client.update_scheduled_compute_node(node.id, "complete")
    return [n.scheduler_id for n in live]


# --- torc slurm ---------------------------------------------------------------------------


@click.group("slurm")
def group() -> None:
    """Slurm schedulers (allocation shapes) and allocations of a workflow."""


@group.command("list")
@workflow_id_argument
@pass_state
def list_schedulers(state: State, workflow_id: int) -> None:
    """List a workflow's Slurm schedulers."""
    render.show_list(state.client().list_slurm_schedulers(workflow_id), h.SlurmScheduler, state.format)


@group.command("get")
@click.argument("scheduler_id", type=int)
@pass_state
def get_scheduler(state: State, scheduler_id: int) -> None:
    """Show one Slurm scheduler."""
    render.show_record(state.client().get_slurm_scheduler(scheduler_id), state.format)


@group.command("create")
@workflow_id_argument
@click.option("--name", required=True, help="Name, used by actions' `scheduler`.")
@click.option("--account", required=True, help="Slurm account to charge.")
@click.option("--partition", default=None)
@click.option("--nodes", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--walltime", default="04:00:00", show_default=True, help="HH:MM:SS or D-HH:MM:SS.")
@click.option("--mem", default=None, help="Memory per node, e.g. 180G.")
@click.option("--gres", default=None, help="Generic resources, e.g. gpu:2.")
@click.option("--qos", default=None)
@click.option("--tmp", default=None)
@click.option("--ntasks-per-node", type=click.IntRange(min=1), default=None)
@click.option("--extra", default=None, help="More sbatch arguments, verbatim.")
@pass_state
def create_scheduler(state: State, workflow_id: int, name: str, account: str, **fields) -> None:
    """Add a Slurm scheduler to a workflow."""
    render.show_record(state.client().create_slurm_scheduler(workflow_id, name, account, **fields), state.format)


@group.command("delete")
@click.argument("scheduler_id", type=int)
@pass_state
def delete_scheduler(state: State, scheduler_id: int) -> None:
    """Delete a Slurm scheduler."""
    render.show_record(state.client().delete_slurm_scheduler(scheduler_id), state.format)


@group.command("schedule-nodes")
@workflow_id_argument
@click.option("-s", "--scheduler-id", type=int, default=None, help="Scheduler to use (default: the only one).")
@click.option("-n", "--num-allocations", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--start-one-worker-per-node", is_flag=True, help="One runner per node, through srun.")
@click.option("--max-parallel-jobs", type=click.IntRange(min=1), default=None)
@_OUTPUT_DIR
@pass_state
def schedule_nodes(state: State, workflow_id: int, scheduler_id: int | None, num_allocations: int,
                   start_one_worker_per_node: bool, max_parallel_jobs: int | None, output_dir: Path) -> None:  # fmt: skip
    """Submit allocations that run the workflow's jobs, now."""
    client = state.client()
    if scheduler_id is None:
        schedulers = client.list_slurm_schedulers(workflow_id)
        if len(schedulers) != 1:
            raise click.UsageError(f"workflow {workflow_id} has {len(schedulers)} Slurm schedulers: pick one with "
                                   "--scheduler-id (see `torc slurm list`)")  # fmt: skip
        scheduler_id = schedulers[0].id
    ensure_initialized(client, workflow_id)
    ids = workflow_actions.schedule_nodes(client, workflow_id, {
        "scheduler_id": scheduler_id, "num_allocations": num_allocations,
        "start_one_worker_per_node": start_one_worker_per_node, "max_parallel_jobs": max_parallel_jobs}, output_dir)
    render.message(f"submitted Slurm allocation{'s' if len(ids) != 1 else ''} {', '.join(ids)}")


# --- listings -------------------------------------------------------------------------------


@click.group("scheduled-compute-nodes")
def scheduled_compute_nodes() -> None:
    """Allocations submitted for a workflow."""


@scheduled_compute_nodes.command("list")
@workflow_id_argument
@pass_state
def list_allocations(state: State, workflow_id: int) -> None:
    """List a workflow's allocations with their status (pending, active, complete)."""
    render.show_list(state.client().list_scheduled_compute_nodes(workflow_id), h.ScheduledComputeNode, state.format)


@click.group("actions")
def actions() -> None:
    """Workflow actions."""


@actions.command("list")
@workflow_id_argument
@click.option("--pending", is_flag=True, help="Only actions whose trigger fired and that nobody executed yet.")
@pass_state
def list_actions(state: State, workflow_id: int, pending: bool) -> None:
    """List a workflow's actions with their trigger counts."""
    render.show_list(state.client().list_actions(workflow_id, pending=pending), h.WorkflowAction, state.format)
