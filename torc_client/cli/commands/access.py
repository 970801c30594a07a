"""`torc access-groups ...`: share workflows with groups of users (servers with --enforce-access-control)."""

from __future__ import annotations

import click

from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state
from torc_client.contract import AccessGroup


def _rows(groups: list[AccessGroup]) -> list[dict]:
    return [{"id": g.id, "name": g.name, "members": ", ".join(f"{u} ({r})" if r != "member" else u
                                                             for u, r in g.members.items()),
             "workflows": ", ".join(str(w) for w in g.workflow_ids), "description": g.description or ""}
            for g in groups]  # fmt: skip


def _show(state: State, group: AccessGroup) -> None:
    render.show_record(group, state.format)


@click.group("access-groups")
def group() -> None:
    """Groups of users that share workflows (when the server enforces access control)."""


@group.command("create")
@click.argument("name")
@click.option("-d", "--description", default=None)
@pass_state
def create(state: State, name: str, description: str | None) -> None:
    """Create a group (admin users only)."""
    _show(state, state.client().create_access_group(name, description))


@group.command("list")
@pass_state
def list_(state: State) -> None:
    """Every group, its members and the workflows it shares."""
    groups = state.client().list_access_groups()
    if state.json:
        render.show_list(groups, AccessGroup, state.format, columns=[("id", lambda g: g.id)])
    else:
        render.show_rows(_rows(groups), state.format)


@group.command("delete")
@click.argument("group_id", type=int)
@pass_state
def delete(state: State, group_id: int) -> None:
    """Delete a group (admin users only)."""
    _show(state, state.client().delete_access_group(group_id))


@group.command("add-user")
@click.argument("group_id", type=int)
@click.argument("user")
@click.option("--role", type=click.Choice(["member", "admin"]), default="member", show_default=True,
              help="admin: may change the group's members too.")
@pass_state
def add_user(state: State, group_id: int, user: str, role: str) -> None:
    """Add USER to a group (admin users and the group's admin members)."""
    _show(state, state.client().add_group_member(group_id, user, role))


@group.command("remove-user")
@click.argument("group_id", type=int)
@click.argument("user")
@pass_state
def remove_user(state: State, group_id: int, user: str) -> None:
    """Remove USER from a group."""
    _show(state, state.client().remove_group_member(group_id, user))


@group.command("add-workflow")
@click.argument("group_id", type=int)
@click.argument("workflow_id", type=int)
@pass_state
def add_workflow(state: State, group_id: int, workflow_id: int) -> None:
    """Share a workflow with a group (its owner, or an admin user)."""
    _show(state, state.client().share_workflow(group_id, workflow_id))


@group.command("remove-workflow")
@click.argument("group_id", type=int)
@click.argument("workflow_id", type=int)
@pass_state
def remove_workflow(state: State, group_id: int, workflow_id: int) -> None:
    """Stop sharing a workflow with a group."""
    _show(state, state.client().unshare_workflow(group_id, workflow_id))


@group.command("check")
@click.argument("workflow_id", type=int)
@click.argument("user")
@pass_state
def check(state: State, workflow_id: int, user: str) -> None:
    """Whether USER may use a workflow (exit 0 if so, 1 if not)."""
    answer = state.client().check_access(workflow_id, user)
    render.show_record(answer, state.format)
    if not answer.allowed:
        click.get_current_context().exit(1)
