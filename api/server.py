"""`torc-server`: serve the API, on a MongoDB you name or on an embedded database it starts.

Without `--mongo-uri` (or `TORC_MONGO_URI`) the server starts SecantusDB, a MongoDB
wire-protocol server, as a child process with its data in `--data-dir`, and stops it
when the server exits, also on Ctrl-C and SIGTERM. SecantusDB is GPL-2.0: it is only
ever run as a separate program and spoken to over the wire, never imported.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import uvicorn
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from torc_client import settings

EMBEDDED_EXECUTABLE = "secantusd-py"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0


class EmbeddedDatabase:
    """A SecantusDB server in a child process, for as long as the `with` block lasts."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    def __enter__(self) -> EmbeddedDatabase:
        executable = find_executable()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "secantusd.log", "ab") as log:
            self.process = subprocess.Popen(
                [executable, "--host", self.host, "--port", str(self.port), "--storage-path",
                 str(self.data_dir / "data"), "--log-level", "WARNING"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_for_database(self.uri, self.process, self.data_dir / "secantusd.log")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def find_executable() -> str:
    beside = Path(sys.executable).parent / EMBEDDED_EXECUTABLE
    found = str(beside) if beside.exists() else shutil.which(EMBEDDED_EXECUTABLE)
    if not found:
        raise click.ClickException(
            "the embedded database is not installed: install it with `pip install 'torc-py[embedded]'` "
            "(`make run` does), or point --mongo-uri / TORC_MONGO_URI at a MongoDB server"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_database(uri: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    client = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise click.ClickException(f"the embedded database exited at start (code {process.returncode}):\n{tail}")
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                time.sleep(0.1)
    finally:
        client.close()
    raise click.ClickException(f"the embedded database did not answer within {START_TIMEOUT_SECONDS:.0f} s; see {log_path}")


def serve(host: str, port: int, mongo_uri: str, database: str, lease_seconds: float, workers: int,
          log_level: str) -> None:  # fmt: skip
    os.environ.update(TORC_MONGO_URI=mongo_uri, TORC_DATABASE=database, TORC_LEASE_SECONDS=str(lease_seconds))
    url = f"http://{host}:{port}{settings.API_PREFIX}"
    click.echo(f"Torc API at {url} (interactive docs: {url}/docs)", err=True)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                access_log=False, timeout_graceful_shutdown=5)  # fmt: skip


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM before the web server installs its own handler: unwind like Ctrl-C so the database stops.
    raise KeyboardInterrupt


@click.command(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "TORC"})
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
