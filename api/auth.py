"""Who is calling: HTTP Basic authentication against an htpasswd file of bcrypt hashes.

Without an auth file the server is the single-user local one: nobody is asked for
anything. With one, a request that names a user must give that user's password; with
`--require-auth` every request (except `ping`) must. A verified password is remembered
for `CACHE_SECONDS` under a digest of itself, so a runner's hundreds of requests per
second pay for bcrypt once, and the file is read again when it changes, so removing a
user or changing a password takes effect at once.

A user name that does not exist takes as long to refuse as a wrong password. Failed logins are
counted per user name and per address (`api.storage.logins`): past `USER_FAILURES` for a name,
or `ADDRESS_FAILURES` from an address, within `LOCKOUT_SECONDS`, logins are answered 429 with
`Retry-After` until the window ends; a password verified before keeps working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
import bcrypt
import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from api.problems import torc_fields
from api.storage import logins
from torc_client.core import settings

#: How long a verified password is trusted without asking bcrypt again.
CACHE_SECONDS = 300.0
#: Failed logins a user name (or an address) may have in `LOCKOUT_SECONDS` before its logins are refused for the rest.
USER_FAILURES = 10
ADDRESS_FAILURES = 50
LOCKOUT_SECONDS = 300.0
#: Paths anybody may call.
PUBLIC_PATHS = (f"{settings.API_PREFIX}/ping",)
REALM = "torc"


class Htpasswd:
    """An htpasswd file (`user:bcrypt-hash` lines), read again whenever it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._hashes: dict[str, bytes] = {}

    def hashes(self) -> dict[str, bytes]:
        stat = self.path.stat()
        if (stat.st_mtime, stat.st_size) != self._stamp:
            self._hashes = read_htpasswd(self.path)
            self._stamp = (stat.st_mtime, stat.st_size)
        return self._hashes


    def reload(self) -> int:
        """Read the file now, changed or not; returns how many users it names. A file that cannot be read raises
        (OSError, ValueError) and leaves the users as they were."""
        stat = self.path.stat()
        self._hashes, self._stamp = read_htpasswd(self.path), (stat.st_mtime, stat.st_size)
        return len(self._hashes)


def read_htpasswd(path: Path) -> dict[str, bytes]:
    hashes: dict[str, bytes] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, sep, hashed = line.strip().partition(":")
        if not sep or not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ValueError(f"{path}, line {number}: expected `user:bcrypt-hash` (make one with `torc-htpasswd add`)")
        hashes[user] = hashed.encode()
    return hashes


@dataclass
class Authenticator:
    """Checks Basic credentials against the htpasswd file, with a cache of recent successes.

    A user name that is not in the file costs the same bcrypt check as a wrong password (against
    a hash of the file's own cost), so the time of a refusal does not tell who has an account.
    """

    users: Htpasswd
    require: bool
    _verified: dict[tuple[str, bytes], tuple[float, bytes]] = field(default_factory=dict)
    _dummies: dict[bytes, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._dummy(next(iter(self.users.hashes().values()), b"$2b$12$"))  # made now, not in the first refusal

    def remembered(self, user: str, password: str) -> bool:
        """Whether this password was verified for `user` lately (and the user's hash is unchanged)."""
        hashed = self.users.hashes().get(user)
        until, for_hash = self._verified.get(_key(user, password), (0.0, b""))
        return hashed is not None and for_hash == hashed and until > time.monotonic()

    async def check(self, user: str, password: str) -> bool:
        if self.remembered(user, password):
            return True
        hashes = self.users.hashes()
        hashed = hashes.get(user)
        against = hashed if hashed is not None else self._dummy(next(iter(hashes.values()), b"$2b$12$"))
        ok = await anyio.to_thread.run_sync(bcrypt.checkpw, password.encode(), against)
        if ok and hashed is not None:
            self._verified[_key(user, password)] = (time.monotonic() + CACHE_SECONDS, hashed)
        return ok and hashed is not None

    def reload(self) -> int:
        """Read the password file again and forget the remembered passwords; returns how many users it names."""
        count = self.users.reload()
        self._verified.clear()
        return count

    def _dummy(self, like: bytes) -> bytes:
        """A hash of nothing anybody knows, at the cost (`$2b$12$`) of `like`."""
        cost = like[:7]
        if cost not in self._dummies:
            rounds = int(cost[4:6]) if cost[4:6].isdigit() else 12
            self._dummies[cost] = bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(rounds=rounds))
        return self._dummies[cost]


def _key(user: str, password: str) -> tuple[str, bytes]:
    return user, hashlib.sha256(password.encode()).digest()


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep and user else None


class AuthMiddleware:
    """Sets `scope["state"]["user"]` to the authenticated user (None when nobody is asked), or answers 401."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator | None) -> None:
        self.app, self.authenticator = app, authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.authenticator is None:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        credentials = basic_credentials(header) if header else None
        public = scope["path"] in PUBLIC_PATHS
        if credentials is None and (public or not self.authenticator.require) and not header:
            await self.app(scope, receive, send)
            return
        if credentials is None:
            await _unauthorized(scope, send, "a user name and password are required: set TORC_PASSWORD (the user is "
                                "$TORC_USER, else $USER) or pass --prompt-password" if not header
                                else "wrong user name or password")  # fmt: skip
            return
        if not self.authenticator.remembered(*credentials):
            db = scope["app"].state.db
            keys = [f"user:{credentials[0]}", f"address:{(scope.get('client') or ('', 0))[0]}"]
            until = await logins.locked_until(db, keys[:1], USER_FAILURES, LOCKOUT_SECONDS) or \
                await logins.locked_until(db, keys[1:], ADDRESS_FAILURES, LOCKOUT_SECONDS)  # fmt: skip
            if until is not None:
                await _too_many(scope, send, until)
                return
            if not await self.authenticator.check(*credentials):
                await logins.record_failure(db, keys, LOCKOUT_SECONDS)
                await _unauthorized(scope, send, "wrong user name or password")
                return
        scope.setdefault("state", {})["user"] = credentials[0]
        await self.app(scope, receive, send)


async def _unauthorized(scope: Scope, send: Send, detail: str) -> None:
    await _problem(scope, send, 401, "Unauthorized", detail, [(b"www-authenticate", f'Basic realm="{REALM}"'.encode())])


async def _too_many(scope: Scope, send: Send, until: float) -> None:
    wait = max(1, math.ceil(until - time.time()))
    await _problem(scope, send, 429, "Too many requests", f"too many failed logins for this user or address: logins "
                   f"are refused for {wait} s more", [(b"retry-after", str(wait).encode())])  # fmt: skip


async def _problem(scope: Scope, send: Send, status: int, title: str, detail: str,
                   headers: list[tuple[bytes, bytes]]) -> None:  # fmt: skip
    body = msgspec.json.encode({"type": "about:blank", "title": title, "status": status, "detail": detail,
                                "instance": scope["path"], **torc_fields(status, title, detail)})  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()), *headers]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
