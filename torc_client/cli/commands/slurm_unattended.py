"""`torc slurm regenerate`, the options that shape generated allocations, and `torc watch --auto-schedule`'s."""

from __future__ import annotations

from pathlib import Path

import click

from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.core import settings
from torc_client.hpc import allocation_plan
from torc_client.hpc import generate as slurm_generate
from torc_client.hpc.auto_schedule import AutoSchedule


def shaping_options(command):
    """Torc's allocation-shaping flags of `slurm generate` and `submit-slurm`, and `--dry-run`."""
    options = [
        click.option("--group-by", type=click.Choice(slurm_generate.GROUP_BY), default="partition", show_default=True,
                     help="One scheduler per partition, or per resource requirement."),
        click.option("--single-allocation", is_flag=True,
                     help="One allocation of N nodes per stage instead of N allocations of one node."),
        click.option("--walltime-strategy", type=click.Choice(slurm_generate.WALLTIME_STRATEGIES),
                     default="max-job-runtime", show_default=True,
                     help="The longest job's runtime x --walltime-multiplier, or the partition's limit."),
        click.option("--walltime-multiplier", type=click.FloatRange(min=1.0), default=slurm_generate.WALLTIME_FACTOR,
                     show_default=True, help="With max-job-runtime: walltime = longest runtime x this."),
        click.option("--dry-run", is_flag=True, help="Print the plan (allocations, nodes, walltime, jobs) only."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def shaping_of(group_by: str, single_allocation: bool, walltime_strategy: str,
               walltime_multiplier: float) -> slurm_generate.Shaping:  # fmt: skip
    return slurm_generate.Shaping(group_by, single_allocation, walltime_strategy, walltime_multiplier)


def auto_schedule_options(command):
    """`torc watch`'s `--auto-schedule` flags, with Torc's names and defaults."""
    options = [
        click.option("--auto-schedule", is_flag=True,
                     help="Submit allocations for ready jobs no queued or running allocation can take."),
        click.option("--auto-schedule-threshold", type=click.IntRange(min=0), default=allocation_plan.DEFAULT_THRESHOLD,
                     show_default=True, help="With allocations present: schedule once this many retries wait."),
        click.option("--auto-schedule-cooldown", type=click.FloatRange(min=0), show_default=True,
                     default=allocation_plan.DEFAULT_COOLDOWN_SECONDS,
                     help="Seconds between submissions while allocations are queued or running."),
        click.option("--auto-schedule-stranded-timeout", type=click.FloatRange(min=0), show_default=True,
                     default=allocation_plan.DEFAULT_STRANDED_TIMEOUT_SECONDS,
                     help="Seconds a job may wait ready before it counts as stranded (0: never)."),
        click.option("--account", default=None, help="Slurm account of new allocations (default: the workflow's)."),
        click.option("--profile", "profile_name", default=None, help="HPC profile (default: detected)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@click.command("regenerate")
@workflow_id_argument
@click.option("--account", default=None, help="Slurm account (default: the workflow's schedulers').")
@click.option("--profile", "profile_name", default=None, help="HPC profile (default: detected; see `torc hpc list`).")
@click.option("--submit", is_flag=True, help="Submit the allocations (else only create their schedulers).")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--walltime-multiplier", type=click.FloatRange(min=1.0), default=slurm_generate.WALLTIME_FACTOR,
              show_default=True)  # fmt: skip
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=settings.DEFAULT_OUTPUT_DIR, show_default=True, help="Where batch scripts and Slurm logs go.")
@pass_state
def regenerate(state: State, workflow_id: int, account: str | None, profile_name: str | None, submit: bool,
               dry_run: bool, walltime_multiplier: float, output_dir: Path) -> None:  # fmt: skip
    """One auto-schedule round by hand: allocations sized for the ready jobs no allocation can take.

    Queued allocations no remaining job can use are cancelled first (not with --dry-run).
    Ready jobs that no queued or running allocation can take (their resources, or their
    runtime against the time it has) get schedulers from the HPC profile, one per resource
    requirement; --submit submits their allocations at once.
    """
    rounds = AutoSchedule(workflow_id, output_dir, account, profile_name, walltime_multiplier=walltime_multiplier)
    decision, planned, _ = rounds.round(state.client(), render.message, force=True, submit=submit, dry_run=dry_run)
    if not planned:
        render.message(f"nothing to schedule: {decision.reason}")
    render.show_rows([p.row() for p in planned], state.format)
