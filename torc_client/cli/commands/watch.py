"""`torc watch ID`: follow a workflow's status until it is complete."""

from __future__ import annotations

import time
from datetime import datetime

import click
from rich.console import Group
from rich.live import Live
from rich.text import Text

from torc_client import contract as c
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.client import Client

#: Job statuses that make `torc watch` exit non-zero once the workflow is complete.
BAD_STATUSES = ("failed", "terminated", "canceled", "pending_failed")


def _view(status: c.WorkflowStatus) -> Group:
    stamp = Text(f"{datetime.now():%H:%M:%S} {render.status_line(status)}")
    return Group(stamp, render.counts_table(status.job_counts))


def _poll_live(client: Client, workflow_id: int, interval: float) -> c.WorkflowStatus:
    status = client.workflow_status(workflow_id)
    with Live(_view(status), console=render.console(stderr=True), auto_refresh=False) as live:
        while not status.is_complete:
            time.sleep(interval)
            status = client.workflow_status(workflow_id)
            live.update(_view(status), refresh=True)
    return status


def _poll_plain(client: Client, workflow_id: int, interval: float) -> c.WorkflowStatus:
    last = ""
    while True:
        status = client.workflow_status(workflow_id)
        line = render.status_line(status)
        if line != last:
            render.message(f"{datetime.now():%H:%M:%S} {line}")
            last = line
        if status.is_complete:
            return status
        time.sleep(interval)


@click.command("watch")
@workflow_id_argument
@click.option("-p", "--poll-interval", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True,
              help="Seconds between status checks.")  # fmt: skip
@pass_state
def watch(state: State, workflow_id: int, poll_interval: float) -> None:
    """Show a workflow's job counts until it is complete (a live view on a terminal, else a line per change).

    Exits 0 when every job completed, 1 when some failed or were canceled.
    """
    client = state.client()
    live = render.console(stderr=True).is_terminal
    try:
        status = (_poll_live if live else _poll_plain)(client, workflow_id, poll_interval)
    except KeyboardInterrupt:
        click.get_current_context().exit(130)
    if state.json:
        render.print_json(status)
    bad = sum(status.job_counts.get(s, 0) for s in BAD_STATUSES)
    click.get_current_context().exit(1 if bad or status.is_canceled else 0)
