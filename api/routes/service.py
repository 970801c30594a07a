"""Service endpoints: liveness, version and the workflow specification schema."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from api.access import rules
from api.storage import Database
from torc_client import __version__
from torc_client.core import settings
from torc_client.spec import spec_schema


class ServiceController(Controller):
    tags = ["service"]

    @get("/ping", opt=rules.OPEN)
    async def ping(self, db: Database) -> dict[str, str]:
        """Answer when the API and its database are up."""
        await db.ping()
        return {"status": "ok"}

    @get("/version", opt=rules.OPEN)
    async def version(self) -> dict[str, str]:
        """The server's version, and the version of Torc's API contract it follows (`api_version`)."""
        return {"version": __version__, "api_version": settings.CONTRACT_API_VERSION}

    @get("/workflow_spec_schema", opt=rules.OPEN)
    async def schema(self) -> dict[str, Any]:
        """The JSON Schema every workflow specification is validated against."""
        return spec_schema()
