"""Passwords cannot be guessed at speed, and a refusal does not tell who has an account."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from api.auth import USER_FAILURES, Authenticator, Htpasswd
from tests.conftest import start_server, stop_server
from tests.integration.test_auth import PASSWORDS, users_file  # noqa: F401 - the users file fixture


@pytest.fixture
def login_server(mongo_uri, users_file, tmp_path):  # noqa: F811 - the imported fixture
    server = start_server(mongo_uri, f"torc_logins_{uuid.uuid4().hex[:8]}", tmp_path,
                          extra_args=("--auth-file", str(users_file), "--require-auth"))  # fmt: skip
    yield server
    stop_server(server)


def test_repeated_wrong_passwords_lock_the_name_but_not_a_password_verified_before(login_server) -> None:
    with httpx.Client(base_url=login_server.url, auth=("alice", PASSWORDS["alice"])) as alice:
        assert alice.get("/workflows").status_code == 200  # her runner, say, verified before the attack
        with httpx.Client(base_url=login_server.url, auth=("alice", "guess")) as guesser:
            answers = [guesser.get("/workflows").status_code for _ in range(USER_FAILURES)]
            assert answers == [401] * USER_FAILURES
            locked = guesser.get("/workflows")
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        assert "too many failed logins" in locked.json()["detail"]
        assert alice.get("/workflows").status_code == 200
    with httpx.Client(base_url=login_server.url, auth=("bob", PASSWORDS["bob"])) as bob:
        assert bob.get("/workflows").status_code == 200  # another name is not locked
    # A name under lockout is refused even its right password, if that was not verified before.
    with httpx.Client(base_url=login_server.url, auth=("ada", "guess")) as guesser:
        assert {guesser.get("/workflows").status_code for _ in range(USER_FAILURES)} == {401}
    with httpx.Client(base_url=login_server.url, auth=("ada", PASSWORDS["ada"])) as ada:
        assert ada.get("/workflows").status_code == 429


def test_an_unknown_user_costs_a_bcrypt_check_at_the_files_own_cost(users_file) -> None:  # noqa: F811
    auth = Authenticator(Htpasswd(Path(users_file)), require=True)
    cost = next(iter(auth.users.hashes().values()))[:7]
    assert list(auth._dummies) == [cost]  # made when the server starts, not during the first refusal
    assert asyncio.run(auth.check("nobody-here", "whatever")) is False
    assert asyncio.run(auth.check("alice", "guess")) is False
    assert asyncio.run(auth.check("alice", PASSWORDS["alice"])) is True
    assert auth.remembered("alice", PASSWORDS["alice"]) and not auth.remembered("nobody-here", "whatever")
