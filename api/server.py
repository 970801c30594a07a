"""`torc-server`: serve the API, on a MongoDB you name or on an embedded database it starts.

Without `--mongo-uri` (or `TORC_MONGO_URI`) the server starts SecantusDB, a MongoDB
wire-protocol server, as a child process with its data in `--data-dir`, and stops it
when the server exits, also on Ctrl-C and SIGTERM. SecantusDB is GPL-2.0: it is only
ever run as a separate program and spoken to over the wire, never imported.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import uvicorn

from api.auth import read_htpasswd
from api.embedded import EmbeddedDatabase
from api.storage import probe
from api.storage.db import transactions_refusal
from torc_client import __version__
from torc_client.core import settings


@dataclass(frozen=True)
class Access:
    """Who may use the server, and over what: `--auth-file`, `--require-auth`, `--tls-cert`, `--tls-key`."""

    auth_file: str | None = None
    require_auth: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    enforce_access_control: bool = False
    admin_users: tuple[str, ...] = ()

    def check(self, host: str) -> None:
        if self.require_auth and not self.auth_file:
            raise click.UsageError("--require-auth needs --auth-file (make one with `torc-htpasswd add FILE USER`)")
        if self.enforce_access_control and not self.require_auth:
            raise click.UsageError("--enforce-access-control needs --require-auth (access follows the user)")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise click.UsageError("--tls-cert and --tls-key go together")
        if self.auth_file:
            try:
                read_htpasswd(Path(self.auth_file))  # a broken file is refused now, with its line
            except ValueError as error:
                raise click.ClickException(str(error)) from None
        if host not in LOOPBACK and not self.require_auth:
            click.secho(f"WARNING: listening on {host} without --require-auth: anyone who can reach this port can "
                        "read, change and delete every workflow and run commands through its runners. Start it "
                        "with --auth-file FILE --require-auth" + ("" if self.tls_cert else " (and --tls-cert/--tls-key "
                        "so that passwords do not cross the network in the clear)"), err=True, fg="red", bold=True)  # fmt: skip


#: How long an idle runner connection stays open: longer than the longest pace (`api.pacing`), so a paced runner
#: reuses its connection instead of finding it closed under it.
KEEP_ALIVE_SECONDS = 180


def serve(host: str, port: int, mongo_uri: str, database: str, lease_seconds: float, workers: int,
          log_level: str, access: Access = Access()) -> None:  # fmt: skip
    os.environ.update(TORC_MONGO_URI=mongo_uri, TORC_DATABASE=database, TORC_LEASE_SECONDS=str(lease_seconds),
                      TORC_AUTH_FILE=access.auth_file or "", TORC_REQUIRE_AUTH="1" if access.require_auth else "",
                      TORC_ENFORCE_ACCESS_CONTROL="1" if access.enforce_access_control else "",
                      TORC_ADMIN_USERS=",".join(access.admin_users))
    scheme = "https" if access.tls_cert else "http"
    url = f"{scheme}://{host}:{port}{settings.API_PREFIX}"
    auth = "passwords required" if access.require_auth else "passwords checked when given" if access.auth_file else \
        "no passwords"
    click.echo(f"Torc API at {url} ({auth}; interactive docs: {url}/docs)", err=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                access_log=False, timeout_graceful_shutdown=5, timeout_keep_alive=KEEP_ALIVE_SECONDS,
                ssl_certfile=access.tls_cert,
                ssl_keyfile=access.tls_key)  # fmt: skip


#: Addresses only this machine can reach.
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_port(host: str, port: int) -> None:
    """Say that the port is taken before announcing a URL nobody will answer at."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror} (another torc-server, or "
                                       "another program, has it): pick another with --port") from None


def check_database(mongo_uri: str) -> None:
    """Say at once, before serving, when the MongoDB named cannot be reached or cannot hold Torc's data."""
    try:
        hello = probe.hello(mongo_uri, 10)
    except probe.Unreachable as error:
        raise click.ClickException(f"cannot reach the MongoDB at {mongo_uri}: {error}") from None
    refusal = transactions_refusal(hello)
    if refusal:
        raise click.ClickException(refusal)


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM before the web server installs its own handler: unwind like Ctrl-C so the database stops.
    raise KeyboardInterrupt


def _admin_users(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Admin users from repeated flags, each maybe comma-separated (so is $TORC_ADMIN_USERS: `alice,bob`)."""
    return tuple(user.strip() for value in values for user in value.split(",") if user.strip())


def _option(*names: str, envvar: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A server option that may also come from `envvar`; `--help` (and the generated reference) names it."""
    return click.option(*names, envvar=envvar, show_envvar=True, **kwargs)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="torc-server")
@_option("--host", envvar="TORC_HOST", default=settings.DEFAULT_HOST, show_default=True, help="Address to listen on.")
@_option("--port", "-p", envvar="TORC_PORT", default=settings.DEFAULT_PORT, show_default=True, type=int,
         help="Port to listen on.")
@_option("--mongo-uri", envvar="TORC_MONGO_URI", default=None,
         help="MongoDB to use. Without it, an embedded database is started.")
@_option("--data-dir", envvar="TORC_DATA_DIR", default=settings.DEFAULT_DATA_DIR, show_default=True,
         help="Where the embedded database keeps its data.")
@_option("--database", envvar="TORC_DATABASE", default=settings.DEFAULT_DATABASE, show_default=True,
         help="Database name inside MongoDB.")
@_option("--lease-seconds", envvar="TORC_LEASE_SECONDS", default=settings.DEFAULT_LEASE_SECONDS,
         show_default=True, type=float,
         help="A runner that has not been heard from for this long loses its jobs to other runners (a runner the "
              "server paces under load is given at least four of its paces).")
@_option("--workers", "-w", envvar="TORC_WORKERS", default=1, show_default=True, type=int,
         help="API processes (they share nothing).")
@_option("--log-level", envvar="TORC_LOG_LEVEL", default="warning", show_default=True,
         type=click.Choice(["critical", "error", "warning", "info", "debug"]), help="What the server logs.")
@_option("--auth-file", envvar="TORC_AUTH_FILE", default=None, type=click.Path(exists=True, dir_okay=False),
         help="htpasswd file of bcrypt hashes (`torc-htpasswd add`): a request that names a user must give "
              "its password.")
@_option("--require-auth", envvar="TORC_REQUIRE_AUTH", is_flag=True,
         help="Every request must give a user and password from --auth-file.")
@_option("--tls-cert", envvar="TORC_TLS_CERT", default=None, type=click.Path(exists=True, dir_okay=False),
         help="Serve HTTPS with this certificate (PEM); needs --tls-key.")
@_option("--tls-key", envvar="TORC_TLS_KEY", default=None, type=click.Path(exists=True, dir_okay=False),
         help="The private key of --tls-cert (PEM).")
@_option("--enforce-access-control", envvar="TORC_ENFORCE_ACCESS_CONTROL", is_flag=True,
         help="A workflow may be used only by its owner (the user who created it) and the admin users.")
@_option("--admin-user", "admin_users", envvar="TORC_ADMIN_USERS", multiple=True, callback=_admin_users,
         help="A user who may use every workflow (repeatable, or comma-separated).")
def main(host, port, mongo_uri, data_dir, database, lease_seconds, workers, log_level,  # noqa: PLR0913
         auth_file, require_auth, tls_cert, tls_key, enforce_access_control, admin_users) -> None:  # fmt: skip
    """Serve the Torc HTTP API under /torc-service/v1."""
    signal.signal(signal.SIGTERM, _interrupt)
    access = Access(auth_file, require_auth, tls_cert, tls_key, enforce_access_control, admin_users)
    access.check(host)
    check_port(host, port)
    if mongo_uri:
        check_database(mongo_uri)
        serve(host, port, mongo_uri, database, lease_seconds, workers, log_level, access)
        return
    with EmbeddedDatabase(Path(data_dir).expanduser(), private=access.require_auth) as db:
        lock = " (password required: only this server can use it)" if db.private else ""
        click.echo(f"Embedded database (SecantusDB) at {db.host}:{db.port}{lock}, data in {db.data_dir}", err=True)
        try:
            serve(host, port, db.uri, database, lease_seconds, workers, log_level, access)
        except KeyboardInterrupt:
            pass
        click.echo("Stopping the embedded database ...", err=True)


if __name__ == "__main__":
    main()
