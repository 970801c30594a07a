"""A fresh Torc stack for one measurement: embedded database + API server in a temp directory.

The database (SecantusDB) and the API server (`torc-server --mongo-uri ...`) run as
separate processes so their memory and CPU can be measured apart. Everything is
stopped and the directory deleted when the `with` block ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bcrypt

from api.embedded import EmbeddedDatabase, free_port
from bench import harness
from torc_client import Client

BIN = Path(sys.executable).parent
#: Long enough that no benchmark runner loses its lease while the machine is saturated.
LEASE_SECONDS = 300.0
#: The one user of a stack started with `auth=True` (bcrypt cost 12, as `torc-htpasswd` writes).
AUTH_USER, AUTH_PASSWORD = "bench", "bench-password-1"


class Stack:
    """`with Stack() as s:` gives `s.url`, `s.client`, `s.db_pid`, `s.server_pid` and `s.dir`."""

    def __init__(self, label: str = "bench", uri_options: str = "", server_env: dict[str, str] | None = None,
                 auth: bool = False) -> None:  # fmt: skip
        self.label = label
        #: Serve with `--auth-file ... --require-auth`; the client and runners send `AUTH_USER`'s password.
        self.auth = auth
        #: Extra MongoDB URI options for the API server (e.g. `retryWrites=false`, to try a fix).
        self.uri_options = uri_options
        #: Extra `TORC_*` settings for the API server.
        self.server_env = server_env or {}
        self.dir = Path(tempfile.mkdtemp(prefix=f"torc-bench-{label}-"))
        self.db: EmbeddedDatabase | None = None
        self.server: subprocess.Popen | None = None
        self.client: Client | None = None

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        # The server is started first: its imports take longer than the database's start, and it
        # waits for the database by itself.
        self.db = EmbeddedDatabase(self.dir / "db")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/torc-service/v1"
        self.log = open(self.dir / "server.log", "wb")  # noqa: SIM115 - closed in close()
        auth_args = []
        if self.auth:
            users = self.dir / "users.htpasswd"
            users.write_text(f"{AUTH_USER}:{bcrypt.hashpw(AUTH_PASSWORD.encode(), bcrypt.gensalt(12)).decode()}\n")
            auth_args = ["--auth-file", str(users), "--require-auth"]
        self.server = harness.spawn(
            [str(BIN / "torc-server"), "--port", str(port), "--mongo-uri", self.mongo_uri, "--database", "bench",
             "--lease-seconds", str(LEASE_SECONDS), *auth_args],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **self.server_env},
        )  # fmt: skip
        self.db.__enter__()
        self.client = Client(self.url, timeout=600, **self.credentials())
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.ping()
                return
            except Exception:  # noqa: BLE001 - not up yet
                if self.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"torc-server did not start: {(self.dir / 'server.log').read_text()[-2000:]}")
                time.sleep(0.05)

    def credentials(self) -> dict[str, str]:
        return {"user": AUTH_USER, "password": AUTH_PASSWORD} if self.auth else {}

    def runner_env(self) -> dict[str, str]:
        """The environment a runner of this stack is started with (its credentials, when the server asks)."""
        return {**os.environ, **({"TORC_USER": AUTH_USER, "TORC_PASSWORD": AUTH_PASSWORD} if self.auth else {})}

    @property
    def mongo_uri(self) -> str:
        """What the API server is given: the embedded database's URI, as `torc-server` itself would use it."""
        return self.db.uri + (f"&{self.uri_options}" if self.uri_options else "")

    def db_commands(self) -> int:
        """Commands the database has served so far (its opcounters), for counting the cost of a step."""
        from pymongo import MongoClient

        with MongoClient(self.db.uri, directConnection=True) as mongo:
            return sum(mongo.admin.command("serverStatus")["opcounters"].values())

    def duty_runs(self, workflow_id: int) -> dict[str, int]:
        """How often each periodic duty (lease check, queue repair) ran for a workflow, from its document."""
        from pymongo import MongoClient

        with MongoClient(self.db.uri, directConnection=True) as mongo:
            doc = mongo["bench"].workflows.find_one({"_id": workflow_id}, {"turns": 1}) or {}
        return doc.get("turns", {})

    @property
    def db_pid(self) -> int:
        assert self.db and self.db.process
        return self.db.process.pid

    @property
    def server_pid(self) -> int:
        assert self.server
        return self.server.pid

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.server is not None:
            harness.stop(self.server, timeout=10)
            self.log.close()
        if self.db is not None and self.db.process is not None and self.db.process.poll() is None:
            # A throwaway database: no need to wait long for a clean WiredTiger shutdown.
            self.db.process.send_signal(signal.SIGTERM)
            try:
                self.db.process.wait(1)
            except subprocess.TimeoutExpired:
                self.db.process.kill()
                self.db.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_runner(stack: Stack, workflow_id: int, max_parallel_jobs: int, name: str = "runner",
                 poll_interval: float = 1.0) -> subprocess.Popen:  # fmt: skip
    """`torc run ID --max-parallel-jobs N` as a user would start it (stderr to a log file)."""
    workdir = stack.dir / name
    workdir.mkdir(exist_ok=True)
    with open(workdir / "runner.log", "wb") as log:
        return harness.spawn(
            [str(BIN / "torc"), "--url", stack.url, "run", str(workflow_id), "--max-parallel-jobs",
             str(max_parallel_jobs), "--poll-interval", str(poll_interval), "--output-dir", str(workdir / "output")],
            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=stack.runner_env(),
        )  # fmt: skip
