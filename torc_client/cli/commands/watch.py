"""`torc watch ID`: follow a workflow's status until it is complete."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from rich.console import Group
from rich.live import Live
from rich.text import Text

from torc_client import contract as c
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.cli.commands.recover import recovery_options, show_plan
from torc_client.cli.commands.slurm_unattended import auto_schedule_options
from torc_client.client import Client
from torc_client.core.errors import TorcError
from torc_client.core.units import count
from torc_client.hpc import unattended
from torc_client.hpc.auto_schedule import AutoSchedule
from torc_client.operations import recovery
from torc_client.operations.builder import run_workflow

Each = Callable[[c.WorkflowStatus], None]
#: Job statuses that make `torc watch` exit non-zero once the workflow is complete.
BAD_STATUSES = ("failed", "terminated", "canceled", "pending_failed")
#: How long `--recover` waits for the runners of a finished workflow to go (a dead one loses its lease in a minute).
RUNNERS_GONE_SECONDS = 120.0


def _view(status: c.WorkflowStatus) -> Group:
    stamp = Text(f"{datetime.now():%H:%M:%S} {render.status_line(status)}")
    return Group(stamp, render.counts_table(status.job_counts))


def _poll_live(client: Client, workflow_id: int, interval: float, each: Each) -> c.WorkflowStatus:
    status = client.workflow_status(workflow_id)
    with Live(_view(status), console=render.console(stderr=True), auto_refresh=False) as live:
        while not status.is_complete:
            each(status)
            time.sleep(interval)
            status = client.workflow_status(workflow_id)
            live.update(_view(status), refresh=True)
    return status


def _poll_plain(client: Client, workflow_id: int, interval: float, each: Each) -> c.WorkflowStatus:
    last = ""
    while True:
        status = client.workflow_status(workflow_id)
        line = render.status_line(status)
        if line != last:
            render.message(f"{datetime.now():%H:%M:%S} {line}")
            last = line
        if status.is_complete:
            return status
        each(status)
        time.sleep(interval)


@click.command("watch")
@workflow_id_argument
@click.option("-p", "--poll-interval", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
              help="Seconds between status checks.")  # fmt: skip
@click.option("--recover", is_flag=True,
              help="When the workflow ends with jobs out of memory or time, recover them (as `torc recover`) and go on.")
@click.option("--max-retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Recovery rounds at most, with --recover.")  # fmt: skip
@recovery_options(recovery.WATCH_RUNTIME_MULTIPLIER)
@auto_schedule_options
@pass_state
def watch(state: State, workflow_id: int, poll_interval: float, recover: bool, max_retries: int,
          memory_multiplier: float, runtime_multiplier: float, retry_unknown: bool, recovery_hook: str | None,
          output_dir: Path, enforce_memory: bool, auto_schedule: bool, auto_schedule_threshold: int,
          auto_schedule_cooldown: float, auto_schedule_stranded_timeout: float, account: str | None,
          profile_name: str | None) -> None:  # fmt: skip
    """Show a workflow's job counts until it is complete (a live view on a terminal, else a line per change).

    With --recover, a workflow that ends with failed or terminated jobs is recovered as
    `torc recover` does (memory or runtime raised for the jobs that lacked it; --recovery-hook run
    for jobs that failed for another reason) and watched again, up to --max-retries rounds. The
    rerun runs in new Slurm allocations if the workflow ran under Slurm, else in a runner this command starts here (`torc run ID`, its log in --output-dir).

    With --auto-schedule, ready jobs that no queued or running Slurm allocation can take
    (their resources, or their runtime against the time it has) get allocations sized for
    them, as `torc slurm regenerate --submit` does: at once when the workflow has no
    allocation, else at most once per --auto-schedule-cooldown; so do jobs ready for longer
    than --auto-schedule-stranded-timeout, and retries once --auto-schedule-threshold of them
    wait. Queued allocations that no remaining job can use are cancelled. Each decision is
    an event (`torc events list ID`).

    Exits 0 when every job completed, 1 when some failed or were canceled.
    """
    client = state.client()
    live = render.console(stderr=True).is_terminal
    rounds, runner = 0, None
    scheduler = AutoSchedule(workflow_id, output_dir, account, profile_name, auto_schedule_threshold,
                             auto_schedule_cooldown, auto_schedule_stranded_timeout)  # fmt: skip
    each = _scheduling(client, scheduler) if auto_schedule else (lambda status: None)
    try:
        while True:
            status = (_poll_live if live else _poll_plain)(client, workflow_id, poll_interval, each)
            if auto_schedule:
                unattended.cancel_idle(client, workflow_id, render.message)
            if not recover or status.is_canceled or not _bad(status):
                break
            if rounds == max_retries:
                render.message(f"Giving up: {count(_bad(status), 'job')} still did not complete after "
                               f"{count(rounds, 'recovery round')} (--max-retries {max_retries})")  # fmt: skip
                break
            _wait_for(runner, client, workflow_id)
            plan = recovery.diagnose(client, workflow_id, memory_multiplier=memory_multiplier,
                                     runtime_multiplier=runtime_multiplier, retry_unknown=retry_unknown,
                                     recovery_hook=recovery_hook)  # fmt: skip
            if plan.problem:
                render.error(f"Cannot recover: {plan.problem}")
                break
            outcome = recovery.apply(client, plan, output_dir=output_dir, enforce_memory=enforce_memory,
                                     say=render.message)  # fmt: skip
            rounds += 1
            show_plan(plan, f"Recovery round {rounds} of at most {max_retries}:")
            if not plan.slurm:
                runner = _start_runner(client, workflow_id, output_dir, rounds, enforce_memory)
            elif outcome.allocations:
                render.message(f"Submitted Slurm allocations {', '.join(outcome.allocations)}")
    except KeyboardInterrupt:
        click.get_current_context().exit(130)
    finally:
        if runner is not None and runner.poll() is None:
            runner.wait()
    if state.json:
        render.print_json(status)
    click.get_current_context().exit(1 if _bad(status) or status.is_canceled else 0)


def _scheduling(client: Client, scheduler: AutoSchedule) -> Each:
    """An auto-schedule round for each poll; a round that fails is said, and the watch goes on."""

    def each(status: c.WorkflowStatus) -> None:
        try:
            scheduler.round(client, render.message)
        except TorcError as error:
            render.error(f"auto-schedule: {error.message}")

    return each


def _bad(status: c.WorkflowStatus) -> int:
    return sum(status.job_counts.get(s, 0) for s in BAD_STATUSES)


def _wait_for(runner: subprocess.Popen | None, client: Client, workflow_id: int) -> None:
    """Recovery needs the runners gone: ours exits once the workflow is complete; others exit or lose their lease."""
    if runner is not None:
        runner.wait()
    if not recovery.wait_for_runners(client, workflow_id, timeout=RUNNERS_GONE_SECONDS):
        raise recovery.RecoveryError(f"workflow {workflow_id} still has runners attached after "
                                     f"{RUNNERS_GONE_SECONDS:.0f} s; recover it with `torc recover` once they exit")


def _start_runner(client: Client, workflow_id: int, output_dir: Path, round_: int,
                  enforce_memory: bool) -> subprocess.Popen:  # fmt: skip
    output_dir.mkdir(parents=True, exist_ok=True)
    log = output_dir / f"watch_runner_wf{workflow_id}_round{round_}.log"
    render.message(f"Running the rerun here (`torc run {workflow_id}`; log: {log})")
    return run_workflow(client, workflow_id, wait=False, log=log, output_dir=str(output_dir),
                        enforce_memory=enforce_memory)  # type: ignore[return-value]
