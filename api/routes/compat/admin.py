"""Torc's administration call: read the server's password file again (`POST /admin/reload-auth`, admin users only).

The server also reads the file again by itself when it changes; this call does it at once, changed or not, and
forgets every remembered password, so a removed user or a changed password counts from the next request.
"""

from __future__ import annotations

from litestar import Controller, Request, post

from api.access import rules
from api.routes.access import admins
from torc_client.contract import AuthReloaded
from torc_client.core.errors import Conflict, Forbidden


class TorcAdminController(Controller):
    tags = ["access_groups"]

    @post("/admin/reload-auth", status_code=200, opt=rules.CALLER)
    async def reload_auth(self, request: Request, caller: str | None) -> AuthReloaded:
        """Read the password file (`--auth-file`) again and forget remembered passwords (admin users only)."""
        authenticator = request.app.state.authenticator
        if authenticator is None:
            raise Conflict("this server was started without a password file (--auth-file): there is none to reload")
        if caller not in admins(request):
            raise Forbidden(f"only the admin users (--admin-user) reload the password file, not "
                            f"{caller or 'an anonymous caller'}")
        try:
            count = authenticator.reload()
        except (OSError, ValueError) as error:
            raise Conflict(f"the password file could not be read, so the users stay as they were: {error}") from None
        return AuthReloaded(message=f"reloaded {count} users from the password file", user_count=count)
