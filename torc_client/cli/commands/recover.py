"""`torc recover ID` and `torc workflows correct-resources ID`: give jobs the resources they turned out to need."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.client import Client
from torc_client.core.units import count
from torc_client.operations import recovery, resizing

#: Multipliers must raise a request, or the rerun fails the same way.
MULTIPLIER = click.FloatRange(min=1, min_open=True)


def recovery_options(runtime_default: float) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options `torc recover` and `torc watch --recover` share."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed([
            click.option("--memory-multiplier", type=MULTIPLIER, default=recovery.MEMORY_MULTIPLIER, show_default=True,
                         help="Jobs that ran out of memory get the larger of their request and their peak, times this."),
            click.option("--runtime-multiplier", type=MULTIPLIER, default=runtime_default, show_default=True,
                         help="Jobs that ran out of time get their runtime times this."),
            click.option("--retry-unknown", is_flag=True,
                         help="Also rerun, as they are, jobs that failed for another reason."),
            click.option("--recovery-hook", metavar="COMMAND", default=None,
                         help="When jobs failed for another reason, run `COMMAND WORKFLOW_ID` (TORC_WORKFLOW_ID set) "
                              "to fix them, then rerun them too; recovery stops if it exits non-zero."),
            click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), default="output",
                         show_default=True, help="Where Slurm batch scripts and logs go (workflows run under Slurm)."),
            click.option("--enforce-memory", is_flag=True,
                         help="Runners started for the rerun kill jobs that exceed their memory request."),
        ]):  # fmt: skip
            func = option(func)
        return func

    return decorate


def show_plan(plan: recovery.RecoveryPlan, header: str) -> None:
    """The plan on stderr: what each failed job gets."""
    render.message(header)
    for line in plan.describe():
        render.message(f"  {line}")


@click.command("recover")
@workflow_id_argument
@recovery_options(recovery.RUNTIME_MULTIPLIER)
@click.option("--dry-run", is_flag=True, help="Change nothing: print the plan.")
@pass_state
def recover(state: State, workflow_id: int, memory_multiplier: float, runtime_multiplier: float, retry_unknown: bool,
            recovery_hook: str | None, output_dir: Path, enforce_memory: bool, dry_run: bool) -> None:  # fmt: skip
    """Rerun the jobs that ran out of memory or time, with more of it.

    Each failed or terminated job is diagnosed from its last attempt: out of memory (its peak
    passed its request, or it was killed with SIGKILL, 137, early), out of time (it ran past 90%
    of its runtime, or got SIGXCPU, 152), or another cause. Jobs out of memory or time get new
    resource requirements (`GROUP_oom1`, `GROUP_timeout1`) with memory or runtime raised; then the
    workflow is reinitialised, which reruns every job that did not complete and what is
    downstream of it. A workflow that ran under Slurm gets new allocations that fit.

    The workflow must have finished, with no runner attached. Jobs that failed for another
    reason stop recovery unless --retry-unknown, or --recovery-hook names a command that fixes
    them (it runs before the rerun, as `COMMAND ID`; a non-zero exit stops recovery). Run
    `torc run ID` afterwards on a workstation.
    JSON (-f json): the plan (`raises`, `jobs`, `problem`) and what was done (`created`,
    `jobs_rerun`, `allocations`).
    """
    client = state.client()
    plan = recovery.diagnose(client, workflow_id, memory_multiplier=memory_multiplier,
                             runtime_multiplier=runtime_multiplier, retry_unknown=retry_unknown,
                             recovery_hook=recovery_hook)  # fmt: skip
    if dry_run:
        show_plan(plan, f"Recovery plan for workflow {workflow_id} (dry run: nothing changed):")
        if plan.problem:
            render.message(f"It would stop: {plan.problem}")
        if state.json:
            render.print_json(recovery.Outcome(plan).to_dict())
        click.get_current_context().exit(1 if plan.problem else 0)
    outcome = recovery.apply(client, plan, output_dir=output_dir, enforce_memory=enforce_memory, say=render.message)
    show_recovered(outcome)
    if state.json:
        render.print_json(outcome.to_dict())


def show_recovered(outcome: recovery.Outcome) -> None:
    plan = outcome.plan
    show_plan(plan, f"Recovered workflow {plan.workflow_id}:")
    render.message(f"{count(outcome.rerun, 'job')} will rerun in the next run.")
    if outcome.allocations:
        render.message(f"Submitted {count(len(outcome.allocations), 'Slurm allocation')}: "
                       f"{', '.join(outcome.allocations)}")  # fmt: skip
    elif not plan.slurm:
        render.message(f"Run the jobs with: torc run {plan.workflow_id}")


@click.command("correct-resources")
@workflow_id_argument
@click.option("--dry-run", is_flag=True, help="Change nothing: show the proposed requests.")
@click.option("-y", "--yes", is_flag=True, help="Apply without asking.")
@pass_state
def correct_resources(state: State, workflow_id: int, dry_run: bool, yes: bool) -> None:
    """Set each resource-requirements group to what its jobs used, plus a margin, for the next run.

    A group's request becomes its completed jobs' largest peak: CPUs x 1.1, memory x 1.2 (rounded
    up to a MiB, or 256 MiB past a GiB), runtime x 1.2 (whole minutes). Jobs that did not
    complete do not count (use `torc recover` for them). The change is shown before it is
    applied. JSON (-f json): a list of {id, name, sampled_jobs, failed_jobs, changes: {field:
    {now, proposed}}}.
    """
    client = state.client()
    _check_idle(client, workflow_id)
    found = resizing.measure(client, workflow_id)
    rows = [{"group": fix.requirements.name, "field": key, "now": now, "proposed": new,
             "based_on": count(fix.sampled, "job")} for fix in found for key, (now, new) in fix.changes.items()]  # fmt: skip
    if state.json:
        render.print_json([fix.to_dict() for fix in found])
    elif rows:
        render.show_rows(rows, state.format)
    if not found:
        render.message(f"workflow {workflow_id}: every measured group already asks for what its jobs used")
        return
    for fix in found:
        if fix.failed:
            render.message(f"{fix.requirements.name}: {count(fix.failed, 'job')} did not complete and were not "
                           f"counted; `torc recover {workflow_id}` gives them more")  # fmt: skip
    if dry_run:
        render.message("Dry run: nothing changed.")
        return
    if not yes:
        click.confirm(f"Apply these changes to {count(len(found), 'group')}?", abort=True, err=True)
    resizing.apply(client, found)
    render.message(f"Updated {count(len(found), 'resource-requirements group')}; they apply from the next run "
                   f"(`torc workflows reinitialize {workflow_id}` or a new workflow)")  # fmt: skip


def _check_idle(client: Client, workflow_id: int) -> None:
    status = client.workflow_status(workflow_id)
    active = status.job_counts.get("pending", 0) + status.job_counts.get("running", 0)
    if active:
        raise click.ClickException(f"workflow {workflow_id} has {count(active, 'job')} pending or running; "
                                   "correct its resources once they finish")  # fmt: skip
