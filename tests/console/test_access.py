"""The console on a server with passwords and access control: a user sees their workflows and their groups', only."""

from __future__ import annotations

import uuid

import pytest
from textual.widgets import DataTable

from tests.conftest import start_server, stop_server
from tests.console.conftest import run, until
from tests.console.screens import screen_text
from tests.console.test_console import SIZE
from tests.integration.test_auth import PASSWORDS, users_file  # noqa: F401 - the users file fixture
from torc_client import Client
from torc_client.console.app import TorcConsole
from torc_client.console.workflow import WorkflowScreen
from torc_client.console.workflows import WorkflowsScreen


@pytest.fixture(scope="module")
def guarded_server(mongo_uri, users_file, tmp_path_factory):  # noqa: F811 - the imported fixture
    server = start_server(mongo_uri, f"torc_console_acl_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("acl"),
                          env={"TORC_ADMIN_USERS": "ada"},
                          extra_args=("--auth-file", str(users_file), "--require-auth",
                                      "--enforce-access-control"))  # fmt: skip
    yield server
    stop_server(server)


def as_user(server, user: str) -> Client:
    return Client(server.url, user=user, password=PASSWORDS[user])


def one_job(name: str) -> dict:
    return {"name": name, "jobs": [{"name": f"{name}_job", "command": "true"}]}


@pytest.fixture(scope="module")
def workflows(guarded_server) -> dict[str, int]:
    """alice: a private workflow and one shared with a group bob is in; bob: his own; nobody: one of theirs."""
    with as_user(guarded_server, "alice") as alice, as_user(guarded_server, "bob") as bob, \
            as_user(guarded_server, "ada") as ada, as_user(guarded_server, "nobody") as nobody:  # fmt: skip
        ids = {"alice_private": alice.create_workflow_from_spec(one_job("alice_private")).id,
               "alice_shared": alice.create_workflow_from_spec(one_job("alice_shared")).id,
               "bob_own": bob.create_workflow_from_spec(one_job("bob_own")).id,
               "nobodys": nobody.create_workflow_from_spec(one_job("nobodys")).id}  # fmt: skip
        group = ada.create_access_group(f"team-{uuid.uuid4().hex[:6]}")
        ada.add_group_member(group.id, "alice", role="admin")
        ada.add_group_member(group.id, "bob")
        alice.share_workflow(group.id, ids["alice_shared"])
    return ids


def listed(app: TorcConsole) -> list[str]:
    table = app.screen.query_one("#workflows", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


def test_console_lists_only_the_users_workflows_and_their_groups(guarded_server, workflows, tmp_path) -> None:
    with as_user(guarded_server, "bob") as bob:
        app = TorcConsole(bob, output_dir=tmp_path, poll_interval=0.2)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await until(pilot, lambda: isinstance(app.screen, WorkflowsScreen) and listed(app),
                            "the workflows screen lists bob's workflows")  # fmt: skip
                assert listed(app) == ["bob_own", "alice_shared"]  # newest first; no alice_private, no nobodys
                app.screen.query_one(DataTable).move_cursor(row=1)
                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None
                            and [j.name for j in app.screen.page.rows] == ["alice_shared_job"],
                            "the shared workflow opens with its job")  # fmt: skip

        run(scenario)


def test_console_refuses_to_open_another_users_workflow(guarded_server, workflows, tmp_path) -> None:
    with as_user(guarded_server, "bob") as bob:
        app = TorcConsole(bob, workflows["alice_private"], output_dir=tmp_path, poll_interval=0.2)

        async def scenario() -> None:
            async with app.run_test(size=SIZE) as pilot:
                said = f"Workflow {workflows['alice_private']} cannot be opened"
                await until(pilot, lambda: said in screen_text(app), "the refusal on the workflow screen")
                assert isinstance(app.screen, WorkflowScreen) and app.screen.page is None
                assert "alice_private" not in screen_text(app)

        run(scenario)
