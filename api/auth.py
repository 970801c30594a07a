"""Who is calling: HTTP Basic authentication against an htpasswd file of bcrypt hashes.

Without an auth file the server is the single-user local one: nobody is asked for
anything. With one, a request that names a user must give that user's password; with
`--require-auth` every request (except `ping`) must. A verified password is remembered
for `CACHE_SECONDS` under a digest of itself, so a runner's hundreds of requests per
second pay for bcrypt once, and the file is read again when it changes, so removing a
user or changing a password takes effect at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
import bcrypt
from litestar.types import ASGIApp, Receive, Scope, Send

from torc_client import settings

#: How long a verified password is trusted without asking bcrypt again.
CACHE_SECONDS = 300.0
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
    """Checks Basic credentials against the htpasswd file, with a cache of recent successes."""

    users: Htpasswd
    require: bool
    _verified: dict[tuple[str, bytes], tuple[float, bytes]] = field(default_factory=dict)

    async def check(self, user: str, password: str) -> bool:
        hashed = self.users.hashes().get(user)
        if hashed is None:
            return False
        key = (user, hashlib.sha256(password.encode()).digest())
        until, for_hash = self._verified.get(key, (0.0, b""))
        if for_hash == hashed and until > time.monotonic():
            return True
        ok = await anyio.to_thread.run_sync(bcrypt.checkpw, password.encode(), hashed)
        if ok:
            self._verified[key] = (time.monotonic() + CACHE_SECONDS, hashed)
        return ok


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
        if credentials is None or not await self.authenticator.check(*credentials):
            await _unauthorized(scope, send, "a user name and password are required: set TORC_PASSWORD (the user is "
                                "$TORC_USER, else $USER) or pass --prompt-password" if not header
                                else "wrong user name or password")  # fmt: skip
            return
        scope.setdefault("state", {})["user"] = credentials[0]
        await self.app(scope, receive, send)


async def _unauthorized(scope: Scope, send: Send, detail: str) -> None:
    import msgspec

    body = msgspec.json.encode({"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail,
                                "instance": scope["path"]})  # fmt: skip
    await send({"type": "http.response.start", "status": 401, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
        (b"www-authenticate", f'Basic realm="{REALM}"'.encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
