"""Shared fixtures: one real embedded database and one real API server for the whole session.

Set TORC_TEST_MONGO_URI to run the suite against another MongoDB instead of the
embedded server. Nothing here is a mock: the server is a `torc-server` process, the
database is SecantusDB (or the MongoDB you name), and CLI tests run the `torc`
executable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.embedded import EmbeddedDatabase, free_port
from torc_client import Client
from torc_client.contract import Workflow

BIN = Path(sys.executable).parent
#: Long enough that a live test client never loses its lease; lease tests use `short_lease_server`.
TEST_LEASE_SECONDS = 30.0
SHORT_LEASE_SECONDS = 2.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With TORC_TEST_ONLY (comma-separated test paths), only the tests under them run; the others are deselected.

    `scripts/mutation.py --tests` sets it, so a run on one module pays only for the tests written for it.
    """
    only = tuple(part.strip() for part in os.environ.get("TORC_TEST_ONLY", "").split(",") if part.strip())
    if not only:
        return
    kept = [item for item in items if item.nodeid.startswith(only)]
    dropped = [item for item in items if not item.nodeid.startswith(only)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    mongo_uri: str
    database: str


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TORC_TEST_MONGO_URI")
    if external:
        yield external
        return
    # Test commands: the failpoints with which tests cut a request short at a chosen command.
    with EmbeddedDatabase(tmp_path_factory.mktemp("embedded-db"), extra_args=("--enable-test-commands",)) as db:
        yield db.uri


def start_server(mongo_uri: str, database: str, log_dir: Path, lease_seconds: float = TEST_LEASE_SECONDS,
                 port: int | None = None, extra_args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> Server:  # fmt: skip
    """A `torc-server` process on `port` (default: a free one), answering pings; `env` adds `TORC_*` settings."""
    chosen = port
    for _ in range(PORT_TRIES):
        port = chosen or free_port()
        log_path = log_dir / f"server-{port}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [str(BIN / "torc-server"), "--port", str(port), "--mongo-uri", mongo_uri, "--database", database,
                 "--lease-seconds", str(lease_seconds), *extra_args],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
            )  # fmt: skip
        url = f"http://127.0.0.1:{port}/torc-service/v1"
        if wait_for_server(url, process, log_path):
            return Server(url, process, mongo_uri, database)
    raise RuntimeError(f"torc-server did not start: {log_path.read_text()}")


#: Starts tried when a free port is taken by another process before the server binds it (the suite runs many).
PORT_TRIES = 3


def wait_for_server(url: str, process: subprocess.Popen, log_path: Path) -> bool:
    """True once the server answers; False if it exited because its port was taken meanwhile; else raises."""
    with Client(url, timeout=2) as client:
        for _ in range(600):
            try:
                client.ping()
                return True
            except Exception:  # noqa: BLE001 - not up yet
                if process.poll() is not None:
                    said = log_path.read_text(errors="replace")
                    if "cannot listen on" in said or "address already in use" in said.lower():
                        return False
                    raise RuntimeError(f"torc-server exited {process.returncode}:\n{said}") from None
                time.sleep(0.1)
    raise RuntimeError(f"torc-server at {url} did not answer:\n{log_path.read_text(errors='replace')}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def server(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(mongo_uri, f"torc_test_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("server"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def short_lease_server(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose runners lose their jobs after two seconds of silence."""
    srv = start_server(mongo_uri, f"torc_lease_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("lease-server"),
                       SHORT_LEASE_SECONDS)  # fmt: skip
    yield srv
    stop_server(srv)


@pytest.fixture()
def client(server: Server) -> Iterator[Client]:
    with Client(server.url) as c:
        yield c


@pytest.fixture()
def make_workflow(client: Client, tmp_path: Path) -> Callable[..., Workflow]:
    """Create a workflow from a spec dict (working directory: the test's tmp_path); optionally initialise it."""

    def make(spec: dict, initialize: bool = False) -> Workflow:
        workflow = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
        if initialize:
            client.initialize_workflow(workflow.id)
        return workflow

    return make


@dataclass
class Cli:
    """Runs the real `torc` executable, as a person would in a shell."""

    url: str
    cwd: Path

    def __call__(self, *args: str, check: bool = True, timeout: float = 120, input: str | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:  # fmt: skip
        full_env = {**os.environ, "TORC_API_URL": self.url, "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})}
        result = subprocess.run([str(BIN / "torc"), *args], cwd=self.cwd, env=full_env, capture_output=True,
                                text=True, timeout=timeout, input=input)  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"torc {' '.join(args)} exited {result.returncode}\n"
                                 f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")  # fmt: skip
        return result

    def shell(self, script: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run a bash script (with jq) in the test directory, with `torc` on PATH."""
        env = {**os.environ, "TORC_API_URL": self.url, "PATH": f"{BIN}:{os.environ['PATH']}"}
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=self.cwd, env=env,
                                capture_output=True, text=True, timeout=timeout)  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"script exited {result.returncode}\nstdout:\n{result.stdout}\n"
                                 f"stderr:\n{result.stderr}")  # fmt: skip
        return result


@pytest.fixture()
def cli(server: Server, tmp_path: Path) -> Cli:
    return Cli(server.url, tmp_path)

