"""`create_app()`: the one place the Litestar application is assembled."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import swagger_ui_bundle
from litestar import Litestar, Request, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from api import access, problems, schema
from api.auth import Authenticator, AuthMiddleware, Htpasswd
from api.routes import ROUTE_HANDLERS
from api.storage import Database, creations, purges
from torc_client import __version__
from torc_client.core import settings

#: Where the interactive API page's scripts and styles are served from (the `swagger-ui-bundle` package).
DOCS_ASSETS = f"{settings.API_PREFIX}/docs/assets"


@dataclass(frozen=True)
class ApiSettings:
    """What one API process needs to know; every field has a `TORC_*` variable."""

    mongo_uri: str = field(default_factory=lambda: os.environ.get("TORC_MONGO_URI", "mongodb://127.0.0.1:27017"))
    database: str = field(default_factory=lambda: os.environ.get("TORC_DATABASE", settings.DEFAULT_DATABASE))
    lease_seconds: float = field(
        default_factory=lambda: float(os.environ.get("TORC_LEASE_SECONDS", settings.DEFAULT_LEASE_SECONDS))
    )
    #: How long deleting a workflow waits for its documents to go before answering (the rest go in the background).
    delete_wait_seconds: float = field(default_factory=lambda: float(os.environ.get("TORC_DELETE_WAIT_SECONDS", "5")))
    #: An htpasswd file of bcrypt hashes: requests that name a user must give its password.
    auth_file: str | None = field(default_factory=lambda: os.environ.get("TORC_AUTH_FILE") or None)
    #: Every request (but `ping`) must authenticate.
    require_auth: bool = field(default_factory=lambda: os.environ.get("TORC_REQUIRE_AUTH", "") in ("1", "true"))
    #: A workflow may be used only by its owner and the admin users.
    enforce_access: bool = field(
        default_factory=lambda: os.environ.get("TORC_ENFORCE_ACCESS_CONTROL", "") in ("1", "true")
    )
    admin_users: frozenset[str] = field(
        default_factory=lambda: frozenset(u for u in os.environ.get("TORC_ADMIN_USERS", "").split(",") if u)
    )


def create_app(config: ApiSettings | None = None) -> Litestar:
    """The Torc API, storing everything in the MongoDB database `config` names."""
    config = config or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(config.mongo_uri, config.database)
        await db.check_transactions()
        await db.end_orphans("API process starting", quiet=True)  # a killed predecessor's would hold their jobs
        await db.ensure_indexes()
        await creations.sweep(db)  # jobs a killed predecessor stored for a workflow it never finished
        await purges.resume(db)  # documents of workflows deleted while a killed predecessor removed them
        app.state.db = db
        app.state.delete_wait_seconds = config.delete_wait_seconds
        app.state.admin_users = config.admin_users
        app.state.enforce_access = config.enforce_access
        db.private_files = config.enforce_access
        app.state.lease_seconds = config.lease_seconds
        app.state.authenticator = authenticator
        try:
            yield
        finally:
            await purges.stop()
            await db.close()

    authenticator = (Authenticator(Htpasswd(Path(config.auth_file)), config.require_auth)
                     if config.auth_file else None)  # fmt: skip
    problems.document(ROUTE_HANDLERS)
    api = Router(path=settings.API_PREFIX, route_handlers=ROUTE_HANDLERS, guards=[access.authorize])
    assets = create_static_files_router(path=DOCS_ASSETS, directories=[swagger_ui_bundle.swagger_ui_path],
                                        include_in_schema=False)  # fmt: skip
    app = Litestar(
        route_handlers=[api, assets],
        lifespan=[lifespan],
        middleware=[lambda app: AuthMiddleware(app, authenticator)],
        dependencies={"db": Provide(_db, sync_to_thread=False), "lease": Provide(_lease, sync_to_thread=False),
                      "caller": Provide(_caller, sync_to_thread=False)},
        exception_handlers=problems.EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=settings.MAX_REQUEST_BODY_BYTES,
        openapi_config=OpenAPIConfig(
            title="Torc",
            version=__version__,
            description="Workflow management for command-line jobs: workflows, jobs, files, user_data, "
            "resource requirements, results, events and compute nodes.",
            path=f"{settings.API_PREFIX}/docs",
            # Swagger UI from the package, not a CDN: the page must work on a cluster node without internet.
            render_plugins=[SwaggerRenderPlugin(path="/", js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                                css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                                standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js"),
                            JsonRenderPlugin(path="/openapi.json")],  # fmt: skip
        ),
        debug=False,
    )
    access.prepare(app)
    schema.tighten(app)
    return app


def _caller(request: Request) -> str | None:
    """The authenticated user of a request (None when the server does not ask)."""
    return request.scope.get("state", {}).get("user")


def _db(state: State) -> Database:
    return state.db


def _lease(state: State) -> float:
    return state.lease_seconds
