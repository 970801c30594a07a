"""`torc-server` on its embedded database: it starts the database, and stops it when told to stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from api.embedded import free_port
from tests.conftest import BIN, PORT_TRIES, wait_for_server
from torc_client import Client


def start(data_dir, **kwargs) -> tuple[subprocess.Popen, str]:
    """A `torc-server` on its embedded database in `data_dir`, answering; returns it and its URL."""
    for _ in range(PORT_TRIES):
        port = free_port()
        log_path = data_dir.parent / f"server-{port}.log"
        with open(log_path, "wb") as log:
            server = subprocess.Popen([str(BIN / "torc-server"), "--port", str(port), "--data-dir", str(data_dir)],
                                      stdout=log, stderr=subprocess.STDOUT, **kwargs)  # fmt: skip
        url = f"http://127.0.0.1:{port}/torc-service/v1"
        if wait_for_server(url, server, log_path):
            return server, url
    raise AssertionError(f"torc-server did not start: {log_path.read_text()}")


def database_of(server: subprocess.Popen) -> psutil.Process:
    (database,) = [p for p in psutil.Process(server.pid).children(recursive=True) if "secantus" in " ".join(p.cmdline())]
    return database


def gone(proc: psutil.Process) -> bool:
    """Exited: reaped, or a zombie waiting for its parent (which may reap it between any two looks)."""
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_server_stops_its_embedded_database(tmp_path, sig) -> None:
    server, url = start(tmp_path / "db")
    try:
        with Client(url, timeout=2) as client:
            assert client.create_workflow_from_spec({"name": "x", "jobs": [{"name": "a", "command": "true"}]}).id
        database = [database_of(server)]
        server.send_signal(sig)
        assert server.wait(60) == 0
        assert gone(database[0])
        assert (tmp_path / "db" / "data").is_dir()
    finally:
        if server.poll() is None:
            server.kill()


def port_of(database: psutil.Process) -> int:
    """Read while it runs: a process that has exited (a zombie) shows no command line."""
    cmdline = database.cmdline()
    return int(cmdline[cmdline.index("--port") + 1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_killed_server_tells_its_database_to_stop_and_the_next_one_starts_at_once(tmp_path) -> None:
    server, url = start(tmp_path / "db")
    with Client(url, timeout=5) as client:
        kept = client.create_workflow_from_spec({"name": "kept", "jobs": [{"name": "a", "command": "true"}]}).id
    database = database_of(server)
    port = port_of(database)
    server.kill()
    server.wait()
    # The kernel tells the database (PR_SET_PDEATHSIG); its first step in stopping is to stop listening.
    deadline = time.monotonic() + 60
    while not gone(database) and listening(port):
        assert time.monotonic() < deadline, "the database of a killed server was not told to stop"
        time.sleep(0.1)
    # The next server does not wait for it to finish: it takes over the data directory at once.
    again, url = start(tmp_path / "db")
    try:
        assert gone(database)
        with Client(url, timeout=5) as client:
            assert client.get_workflow(kept).name == "kept"
    finally:
        again.terminate()
        again.wait(60)


STARTER = """
import os, subprocess
import psutil
from api.embedded import OWNER_VARIABLE, _identity, find_executable, free_port
p = subprocess.Popen([find_executable(), "--host", "127.0.0.1", "--port", str(free_port()), "--storage-path",
                      DATA_DIR + "/data"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     env={**os.environ, OWNER_VARIABLE: _identity(psutil.Process())})
print(p.pid)
"""

ADOPTER = """
import ctypes, subprocess, sys
from pathlib import Path
import psutil
from api.embedded import EmbeddedDatabase
ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans below come here
starter = subprocess.run([sys.executable, "-c", STARTER], capture_output=True, text=True, check=True, timeout=60)
orphan = psutil.Process(int(starter.stdout))
assert orphan.parent().pid == psutil.Process().pid, "adopted by init, not here"
with EmbeddedDatabase(Path(DATA_DIR)) as db:
    assert not orphan.is_running() or orphan.status() == psutil.STATUS_ZOMBIE
    assert db.process.poll() is None
print("taken over")
"""


def test_a_database_adopted_by_a_subreaper_is_known_as_an_orphan_and_stopped(tmp_path) -> None:
    # Desktop sessions (systemd --user) and container inits adopt orphans in place of init: the
    # database's parent is then alive, but it is not the server that started it.
    data_dir = repr(str(tmp_path / "db"))
    starter = STARTER.replace("DATA_DIR", data_dir)
    script = f"STARTER = {starter!r}\n" + ADOPTER.replace("DATA_DIR", data_dir)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "taken over" in result.stdout
    assert "left running on" in result.stderr and "by a torc-server that is gone" in result.stderr


def test_a_second_server_on_a_data_dir_in_use_says_so_and_what_to_do(tmp_path) -> None:
    first, _ = start(tmp_path / "db")
    try:
        second = subprocess.run([str(BIN / "torc-server"), "--port", str(free_port()), "--data-dir",
                                 str(tmp_path / "db")], capture_output=True, text=True, timeout=60)  # fmt: skip
        assert second.returncode != 0
        assert f"is in use by the torc-server with pid {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr and "WiredTiger" not in second.stderr
    finally:
        first.terminate()
        first.wait(60)


def test_an_orphaned_database_is_stopped_and_its_data_dir_taken_over(tmp_path) -> None:
    # A database whose server is gone without it (started here by a process that then exits).
    from api.embedded import EmbeddedDatabase

    launcher = subprocess.run([sys.executable, "-c", f"""
import subprocess, sys
from api.embedded import find_executable, free_port
p = subprocess.Popen([find_executable(), "--host", "127.0.0.1", "--port", str(free_port()), "--storage-path",
                      {str(tmp_path / "db" / "data")!r}], start_new_session=True,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(p.pid)
"""], capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
    orphan = psutil.Process(int(launcher.stdout))
    time.sleep(1)
    with EmbeddedDatabase(tmp_path / "db") as db:
        assert gone(orphan)
        assert db.process.poll() is None


def test_a_port_in_use_is_reported_before_anything_starts(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([str(BIN / "torc-server"), "--port", str(port), "--data-dir", str(tmp_path / "db")],
                                capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "pick another with --port" in result.stderr
    assert "Torc API at" not in result.stderr and not (tmp_path / "db").exists()  # no URL announced, no database
