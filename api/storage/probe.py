"""Asking a database server whether it is there, before serving (synchronous, at start).

The embedded database is waited for and given its user here, and `torc-server` checks the MongoDB it is
pointed at here, so that storage stays the one place that speaks to the database.
"""

from __future__ import annotations

from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError


class Unreachable(Exception):
    """The database did not answer (the driver's reason is the message)."""


def hello(uri: str, timeout_seconds: float) -> dict[str, Any]:
    """The server's `hello` answer, or Unreachable."""
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=int(timeout_seconds * 1000), connect=False)
    try:
        return client.admin.command("hello")
    except PyMongoError as error:
        raise Unreachable(str(error)) from None
    finally:
        client.close()


def answers(uri: str, timeout_seconds: float) -> bool:
    """Whether the server answers a ping within the timeout."""
    try:
        hello(uri, timeout_seconds)
    except Unreachable:
        return False
    return True


def create_root_user(uri: str, user: str, password: str) -> None:
    """Create the database's one user, with every right (on a database started without passwords)."""
    with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
        client.admin.command("createUser", user, pwd=password, roles=["root"])
