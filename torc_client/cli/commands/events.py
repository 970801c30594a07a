"""`torc events list|watch`: what happened in a workflow, after the fact or as it happens."""

from __future__ import annotations

import click

from torc_client import contract as c
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.client import Client

#: Workflow statuses after which no more events come, so `events watch` stops.
FINAL_STATUSES = frozenset({"complete", "canceled"})
PAGE = 1000


def all_events(client: Client, workflow_id: int, after: int, limit: int | None,
               category: str | None = None) -> list[c.Event]:  # fmt: skip
    """Events with an id above `after` (of one category, if given), oldest first: all of them, or the first `limit`."""
    found: list[c.Event] = []
    while limit is None or len(found) < limit:
        want = PAGE if limit is None else min(PAGE, limit - len(found))
        page = client.list_events(workflow_id, after=after, limit=want, category=category)
        found.extend(page.items)
        if not page.has_more or not page.items:
            break
        after = page.items[-1].id
    return found


def is_final(event: c.Event) -> bool:
    return event.category == "workflow" and event.data.get("status") in FINAL_STATUSES


@click.command("list")
@workflow_id_argument
@click.option("--after", type=click.IntRange(min=0), default=0, show_default=True, help="Only events after this id.")
@click.option("-l", "--limit", type=click.IntRange(min=1), default=None, help="At most this many (default: all).")
@click.option("-c", "--category", "--type", "category", default=None,
              help="Only events of this category (job, workflow, compute_node, user, ...).")  # fmt: skip
@pass_state
def list_(state: State, workflow_id: int, after: int, limit: int | None, category: str | None) -> None:
    """List a workflow's events, oldest first."""
    render.show_list(all_events(state.client(), workflow_id, after, limit, category), c.Event, state.format)


@click.command("watch")
@workflow_id_argument
@click.option("--after", type=click.IntRange(min=0), default=0, show_default=True,
              help="Start after this event id (0: replay every event).")  # fmt: skip
@click.option("--forever", is_flag=True, help="Keep watching after the workflow completes or is canceled.")
@pass_state
def watch(state: State, workflow_id: int, after: int, forever: bool) -> None:
    """Print events as they happen, one per line (JSON lines with -f json).

    Stops with Ctrl-C, or by itself once the workflow completes or is canceled.
    """
    try:
        for event in state.client().follow_events(workflow_id, after=after):
            click.echo(render.compact_json(event.to_dict()) if state.json else render.event_line(event))
            if is_final(event) and not forever:
                return
    except KeyboardInterrupt:
        return


@click.group("events")
def group() -> None:
    """Inspect a workflow's events."""


group.add_command(list_)
group.add_command(watch)
