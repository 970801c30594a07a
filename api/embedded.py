"""The embedded database: SecantusDB in a child process that never outlives the server that started it.

SecantusDB is GPL-2.0: it is only ever run as a separate program and spoken to over the
wire, never imported. The child asks the kernel for SIGTERM when its parent dies
(`PR_SET_PDEATHSIG`), so a `torc-server` killed with SIGKILL does not leave it holding
the data directory. Before starting, the data directory is checked: a database still
serving it for a live `torc-server` is reported with what to do; one whose server is gone
is stopped and the directory taken over.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote_plus

import click
import psutil

from api.storage import probe

EMBEDDED_EXECUTABLE = "secantusd-py"
#: The embedded database's one user when it requires a password: the torc-server that started it.
DB_USER = "torc-server"
#: Set in the database's environment: the process that started it ("pid:start time"), so that a
#: database whose starter is gone is known as an orphan even when a subreaper, not init, adopted it.
OWNER_VARIABLE = "TORC_DATABASE_OWNER"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 20.0
_PR_SET_PDEATHSIG = 1


class EmbeddedDatabase:
    """A SecantusDB server in a child process, for as long as the `with` block lasts."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int | None = None,
                 extra_args: tuple[str, ...] = (), private: bool = False) -> None:  # fmt: skip
        self.data_dir = data_dir
        self.host = host
        self.port = port or free_port(host)
        self.extra_args = extra_args
        #: Require a password of every client (`--auth`); once a data directory has one, it always does.
        self.private = private or self.credentials_path.exists()
        self._password: str | None = None
        self.process: subprocess.Popen | None = None

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "db-password"

    @property
    def uri(self) -> str:
        login = f"{DB_USER}:{quote_plus(self._password)}@" if self._password else ""
        return f"mongodb://{login}{self.host}:{self.port}/?directConnection=true" + (
            "&authSource=admin" if self._password else "")

    def __enter__(self) -> EmbeddedDatabase:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # the database's files are the server user's alone
        take_over(self.data_dir / "data")
        if self.private and not self.credentials_path.exists():
            self._provision()
        if self.private:
            self._password = self.credentials_path.read_text().strip()
        self._start(("--auth",) if self.private else ())
        return self

    def _start(self, auth: tuple[str, ...]) -> None:
        with open(self.data_dir / "secantusd.log", "ab") as log:
            self.process = subprocess.Popen(
                [find_executable(), "--host", self.host, "--port", str(self.port), "--storage-path",
                 str(self.data_dir / "data"), "--log-level", "WARNING", "--sync-on-commit", *auth, *self.extra_args],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
                env={**os.environ, OWNER_VARIABLE: _identity(psutil.Process())},
            )  # fmt: skip
        wait_for_database(self.uri, self.process, self.data_dir / "secantusd.log")

    def _provision(self) -> None:
        """Give a new data directory its one database user (the server), before it is served with `--auth`.

        The database cannot add its first user once it requires one, so it is started once
        without, on a port of its own, given the user, and stopped; the password is kept in
        the private data directory (mode 0600).
        """
        password = secrets.token_urlsafe(32)
        port, self.port = self.port, free_port(self.host)
        self._start(())
        try:
            probe.create_root_user(self.uri, DB_USER, password)
        finally:
            self.stop()
            self.port = port
        fd = os.open(self.credentials_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(password + "\n")

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
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise click.ClickException(f"the embedded database exited at start (code {process.returncode}):\n{tail}")
        if probe.answers(uri, 0.5):
            return
        time.sleep(0.1)
    raise click.ClickException(f"the embedded database did not answer within {START_TIMEOUT_SECONDS:.0f} s; see {log_path}")




def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies (Linux; elsewhere the server's exit stops it)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def take_over(storage: Path) -> None:
    """Make `storage` free for a new database: refuse if a live server's database holds it, stop an orphaned one."""
    for proc in _databases_of(storage):
        owner = _owner(proc)
        if owner is not None:
            raise click.ClickException(
                f"the data directory {storage.parent} is in use by the torc-server with pid {owner.pid} (its database "
                f"has pid {proc.pid}): stop that server first, or give this one another --data-dir")  # fmt: skip
        click.echo(f"Stopping the embedded database (pid {proc.pid}) left running on {storage.parent} by a "
                   "torc-server that is gone", err=True)  # fmt: skip
        try:
            proc.terminate()
            proc.wait(STOP_TIMEOUT_SECONDS)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_SECONDS)
        except psutil.NoSuchProcess:
            pass  # it finished stopping by itself (told by the kernel when its server died)


def _databases_of(storage: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any(EMBEDDED_EXECUTABLE in part for part in cmdline) and str(storage) in cmdline:
            found.append(proc)
    return found


def _owner(proc: psutil.Process) -> psutil.Process | None:
    """The live torc-server (or other program) that started a database, None when it is an orphan."""
    try:
        parent = proc.parent()
        if parent is None or parent.status() == psutil.STATUS_ZOMBIE:
            return None
        recorded = _recorded_owner(proc)
        if recorded is not None:  # adopted by init or by a subreaper, the parent is not the starter
            return parent if _identity(parent) == recorded else None
        return None if parent.pid == 1 else parent  # started before the owner was recorded, or not readable
    except psutil.NoSuchProcess:
        return None


def _recorded_owner(proc: psutil.Process) -> str | None:
    try:
        return proc.environ().get(OWNER_VARIABLE)
    except psutil.AccessDenied:  # another user's database: its parent is the only evidence
        return None


def _identity(proc: psutil.Process) -> str:
    return f"{proc.pid}:{proc.create_time():.2f}"
