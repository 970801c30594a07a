"""`torc-server`: serve the API, on a MongoDB you name or on an embedded database it starts.

Without `--mongo-uri` (or `TORC_MONGO_URI`) the server starts SecantusDB, a MongoDB
wire-protocol server, as a child process with its data in `--data-dir`, and stops it
when the server exits, also on Ctrl-C and SIGTERM. SecantusDB is GPL-2.0: it is only
ever run as a separate program and spoken to over the wire, never imported.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click
import uvicorn
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from api.embedded import EmbeddedDatabase
from api.storage.db import transactions_refusal
from torc_client import __version__, settings


def serve(host: str, port: int, mongo_uri: str, database: str, lease_seconds: float, workers: int,
          log_level: str) -> None:  # fmt: skip
    os.environ.update(TORC_MONGO_URI=mongo_uri, TORC_DATABASE=database, TORC_LEASE_SECONDS=str(lease_seconds))
    url = f"http://{host}:{port}{settings.API_PREFIX}"
    click.echo(f"Torc API at {url} (interactive docs: {url}/docs)", err=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                access_log=False, timeout_graceful_shutdown=5)  # fmt: skip


def check_database(mongo_uri: str) -> None:
    """Say at once, before serving, when the MongoDB named cannot be reached or cannot hold Torc's data."""
    client: MongoClient = MongoClient(mongo_uri, serverSelectionTimeoutMS=10_000, connect=False)
    try:
        hello = client.admin.command("hello")
    except PyMongoError as error:
        raise click.ClickException(f"cannot reach the MongoDB at {mongo_uri}: {error}") from None
    finally:
        client.close()
    refusal = transactions_refusal(hello)
    if refusal:
        raise click.ClickException(refusal)


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM before the web server installs its own handler: unwind like Ctrl-C so the database stops.
    raise KeyboardInterrupt


@click.command(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "TORC"})
@click.version_option(__version__, "-V", "--version", prog_name="torc-server")
@click.option("--host", default=settings.DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", "-p", default=settings.DEFAULT_PORT, show_default=True, type=int, help="Port to listen on.")
@click.option("--mongo-uri", envvar="TORC_MONGO_URI", default=None,
              help="MongoDB to use (env TORC_MONGO_URI). Without it, an embedded database is started.")
@click.option("--data-dir", envvar="TORC_DATA_DIR", default=settings.DEFAULT_DATA_DIR, show_default=True,
              help="Where the embedded database keeps its data (env TORC_DATA_DIR).")
@click.option("--database", envvar="TORC_DATABASE", default=settings.DEFAULT_DATABASE, show_default=True,
              help="Database name inside MongoDB.")
@click.option("--lease-seconds", envvar="TORC_LEASE_SECONDS", default=settings.DEFAULT_LEASE_SECONDS,
              show_default=True, type=float,
              help="A runner that has not been heard from for this long loses its jobs to other runners.")
@click.option("--workers", "-w", default=1, show_default=True, type=int, help="API processes (they share nothing).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def main(host, port, mongo_uri, data_dir, database, lease_seconds, workers, log_level) -> None:  # noqa: PLR0913
    """Serve the Torc HTTP API under /torc-service/v1."""
    signal.signal(signal.SIGTERM, _interrupt)
    if mongo_uri:
        check_database(mongo_uri)
        serve(host, port, mongo_uri, database, lease_seconds, workers, log_level)
        return
    with EmbeddedDatabase(Path(data_dir).expanduser()) as db:
        click.echo(f"Embedded database (SecantusDB) at {db.uri}, data in {db.data_dir}", err=True)
        try:
            serve(host, port, db.uri, database, lease_seconds, workers, log_level)
        except KeyboardInterrupt:
            pass
        click.echo("Stopping the embedded database ...", err=True)


if __name__ == "__main__":
    main()
