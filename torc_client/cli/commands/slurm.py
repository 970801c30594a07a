"""`torc submit`, `torc slurm ...`, `torc actions list` and `torc scheduled-compute-nodes list`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click
import yaml

from torc_client import contract as c
from torc_client.cli import render, steps
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.cli.commands.slurm_unattended import (
    regenerate,
    shaping_of,
    shaping_options,
)
from torc_client.core import settings
from torc_client.hpc import actions as workflow_actions
from torc_client.hpc import profiles as hpc_profiles
from torc_client.hpc import slurm

_OUTPUT_DIR = click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
                           default=settings.DEFAULT_OUTPUT_DIR, show_default=True,
                           help="Where batch scripts, Slurm logs and job logs go.")  # fmt: skip


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
    workflow_id = steps.resolve_workflow(client, spec_or_id, working_dir)
    steps.submit_workflow(client, workflow_id, output_dir)
    render.show_list(client.list_scheduled_compute_nodes(workflow_id), c.ScheduledComputeNode, state.format)


@click.command("submit")
@workflow_id_argument
@_OUTPUT_DIR
@pass_state
def workflows_submit(state: State, workflow_id: int, output_dir: Path) -> None:
    """Submit an existing workflow to Slurm (as `torc submit ID`)."""
    client = state.client()
    steps.submit_workflow(client, workflow_id, output_dir)
    render.show_list(client.list_scheduled_compute_nodes(workflow_id), c.ScheduledComputeNode, state.format)


# --- torc slurm ---------------------------------------------------------------------------


@click.group("slurm")
def group() -> None:
    """Slurm schedulers (allocation shapes) and allocations of a workflow."""


@group.command("list")
@workflow_id_argument
@pass_state
def list_schedulers(state: State, workflow_id: int) -> None:
    """List a workflow's Slurm schedulers."""
    render.show_list(state.client().list_slurm_schedulers(workflow_id), c.SlurmScheduler, state.format)


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
@click.option("--walltime", default=settings.DEFAULT_WALLTIME, show_default=True, help="HH:MM:SS or D-HH:MM:SS.")
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


@group.command("update")
@click.argument("scheduler_id", type=int)
@click.option("--name", default=None)
@click.option("--account", default=None)
@click.option("--partition", default=None)
@click.option("--nodes", type=click.IntRange(min=1), default=None)
@click.option("--walltime", default=None, help="HH:MM:SS or D-HH:MM:SS.")
@click.option("--mem", default=None)
@click.option("--gres", default=None)
@click.option("--qos", default=None)
@click.option("--tmp", default=None)
@click.option("--ntasks-per-node", type=click.IntRange(min=1), default=None)
@click.option("--extra", default=None)
@pass_state
def update_scheduler(state: State, scheduler_id: int, **fields) -> None:
    """Change a Slurm scheduler; allocations submitted later use the new values."""
    changes = {key: value for key, value in fields.items() if value is not None}
    if not changes:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    render.show_record(state.client().update_slurm_scheduler(scheduler_id, **changes), state.format)


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
@click.option("--enforce-memory", is_flag=True, help="The runners kill jobs that use more memory than they "
              "requested (as `torc run --enforce-memory`).")  # fmt: skip
@_OUTPUT_DIR
@pass_state
def schedule_nodes(state: State, workflow_id: int, scheduler_id: int | None, num_allocations: int,
                   start_one_worker_per_node: bool, max_parallel_jobs: int | None, enforce_memory: bool,
                   output_dir: Path) -> None:  # fmt: skip
    """Submit allocations that run the workflow's jobs, now."""
    client = state.client()
    if scheduler_id is None:
        schedulers = client.list_slurm_schedulers(workflow_id)
        if len(schedulers) != 1:
            raise click.UsageError(f"workflow {workflow_id} has {len(schedulers)} Slurm schedulers: pick one with "
                                   "--scheduler-id (see `torc slurm list`)")  # fmt: skip
        scheduler_id = schedulers[0].id
    steps.ensure_initialized(client, workflow_id)
    ids = workflow_actions.schedule_nodes(client, workflow_id, {
        "scheduler_id": scheduler_id, "num_allocations": num_allocations,
        "start_one_worker_per_node": start_one_worker_per_node, "max_parallel_jobs": max_parallel_jobs,
        "enforce_memory": enforce_memory}, output_dir)  # fmt: skip
    render.message(f"submitted Slurm allocation{'s' if len(ids) != 1 else ''} {', '.join(ids)}")


@group.command("generate")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--account", required=True, help="Slurm account to charge.")
@click.option("--profile", "profile_name", default=None, help="HPC profile (default: detected; see `torc hpc list`).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the spec here (.yaml or .json) instead of printing YAML.")  # fmt: skip
@shaping_options
@pass_state
def generate(state: State, spec_file: str, account: str, profile_name: str | None, output: Path | None,
             dry_run: bool, **shaping) -> None:  # fmt: skip
    """Add Slurm schedulers and stage-aware actions to a spec, from its jobs' resource requirements.

    Each resource requirement gets the partition that fits it with the shortest walltime
    limit; jobs with no dependencies get allocations at submit, later stages when their
    jobs become ready. --dry-run prints the plan instead.
    """
    doc = steps.generated_spec(spec_file, account, profile_name, shaping_of(**shaping), dry_run, state.format)
    if doc is None:
        return
    text = json.dumps(doc, indent=2) + "\n" if output and output.suffix == ".json" else yaml.safe_dump(doc, sort_keys=False)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        render.message(f"wrote {output}")


@click.command("submit-slurm")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--account", required=True, help="Slurm account to charge.")
@click.option("--profile", "profile_name", default=None, help="HPC profile (default: detected; see `torc hpc list`).")
@_OUTPUT_DIR
@click.option("--working-dir", default=None, help="Directory the jobs run in (default: here).")
@shaping_options
@pass_state
def submit_slurm(state: State, spec_file: str, account: str, profile_name: str | None, output_dir: Path,
                 working_dir: str | None, dry_run: bool, **shaping) -> None:  # fmt: skip
    """Generate Slurm schedulers and actions for a spec (as `torc slurm generate`), create it and submit it."""
    doc = steps.generated_spec(spec_file, account, profile_name, shaping_of(**shaping), dry_run, state.format)
    if doc is None:
        return
    client = state.client()
    workflow = client.create_workflow_from_spec(doc, working_dir=str(Path(working_dir or Path.cwd()).resolve()))
    render.message(f"Created workflow {workflow.id}")
    steps.submit_workflow(client, workflow.id, output_dir)
    render.show_list(client.list_scheduled_compute_nodes(workflow.id), c.ScheduledComputeNode, state.format)


group.add_command(regenerate)


@group.command("sacct")
@workflow_id_argument
@pass_state
def sacct(state: State, workflow_id: int) -> None:
    """Slurm's accounting of a workflow's allocations: state, exit code, start, end, elapsed."""
    ids = [n.slurm_job_id for n in state.client().list_scheduled_compute_nodes(workflow_id)]
    rows = slurm.accounting(ids)
    if not rows:
        render.message(f"Slurm has no accounting of workflow {workflow_id}'s allocations ({', '.join(ids) or 'none'})")
    render.show_rows(rows, state.format)


@click.command("sync-status")
@workflow_id_argument
@pass_state
def workflows_sync_status(state: State, workflow_id: int) -> None:
    """Settle jobs whose Slurm allocation is gone: their runners can no longer report, so they are requeued now."""
    ended, signed_off = steps.sync_status(state.client(), workflow_id)
    render.message(f"{len(ended)} allocation{'s' if len(ended) != 1 else ''} marked complete"
                   + (f" ({', '.join(ended)})" if ended else "") + f"; {len(signed_off)} runner"
                   + ("s" if len(signed_off) != 1 else "") + " whose allocation is gone signed off"
                   + (f" (compute nodes {', '.join(map(str, signed_off))}), their jobs requeued" if signed_off else ""))
    render.show_status(state.client().workflow_status(workflow_id), state.format)


# --- torc hpc -------------------------------------------------------------------------------


@click.group("hpc")
def hpc() -> None:
    """HPC profiles: the partitions of the clusters Torc knows."""


@hpc.command("list")
@pass_state
def hpc_list(state: State) -> None:
    """List the known HPC profiles and which one matches this machine."""
    detected = hpc_profiles.detect()
    rows = [{"name": p.name, "display_name": p.display_name, "partitions": len(p.partitions),
             "detected": detected is not None and detected.name == p.name}
            for p in hpc_profiles.profiles().values()]  # fmt: skip
    if detected is not None and detected.name == "slurm":
        rows.append({"name": "slurm", "display_name": detected.display_name, "partitions": len(detected.partitions),
                     "detected": True})  # fmt: skip
    render.show_rows(rows, state.format)


@hpc.command("show")
@click.argument("name", required=False)
@pass_state
def hpc_show(state: State, name: str | None) -> None:
    """Show a profile's partitions (default: the detected profile)."""
    profile = hpc_profiles.get(name)
    render.show_rows([dataclasses.asdict(p) for p in profile.partitions], state.format)


@hpc.command("detect")
@pass_state
def hpc_detect(state: State) -> None:
    """Say which HPC profile matches this machine."""
    profile = hpc_profiles.detect()
    if profile is None:
        raise click.ClickException("no HPC profile matches this machine and no Slurm answers")
    if state.json:
        render.print_json({"name": profile.name, "display_name": profile.display_name})
    else:
        click.echo(f"{profile.name} ({profile.display_name})")


# --- listings -------------------------------------------------------------------------------


@click.group("scheduled-compute-nodes")
def scheduled_compute_nodes() -> None:
    """Allocations submitted for a workflow."""


@scheduled_compute_nodes.command("list")
@workflow_id_argument
@pass_state
def list_allocations(state: State, workflow_id: int) -> None:
    """List a workflow's allocations with their status (pending, active, complete)."""
    render.show_list(state.client().list_scheduled_compute_nodes(workflow_id), c.ScheduledComputeNode, state.format)


@click.group("actions")
def actions() -> None:
    """Workflow actions."""


@actions.command("list")
@workflow_id_argument
@click.option("--pending", is_flag=True, help="Only actions whose trigger fired and that nobody executed yet.")
@pass_state
def list_actions(state: State, workflow_id: int, pending: bool) -> None:
    """List a workflow's actions with their trigger counts."""
    render.show_list(state.client().list_actions(workflow_id, pending=pending), c.WorkflowAction, state.format)
