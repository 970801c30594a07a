"""`torc-server` on its embedded database: it starts the database, and stops it when told to stop."""

from __future__ import annotations

import signal
import subprocess
import time

import psutil
import pytest

from api.server import free_port
from tests.conftest import BIN
from torc_client import Client


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_server_stops_its_embedded_database(tmp_path, sig) -> None:
    port = free_port()
    server = subprocess.Popen([str(BIN / "torc-server"), "--port", str(port), "--data-dir", str(tmp_path / "db")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        with Client(f"http://127.0.0.1:{port}/torc-service/v1", timeout=2) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.ping()
                    break
                except Exception:  # noqa: BLE001 - still starting
                    assert time.monotonic() < deadline and server.poll() is None
                    time.sleep(0.2)
            assert client.create_workflow_from_spec({"name": "x", "jobs": [{"name": "a", "command": "true"}]}).id
        database = [p for p in psutil.Process(server.pid).children(recursive=True) if "secantus" in " ".join(p.cmdline())]
        assert len(database) == 1
        server.send_signal(sig)
        assert server.wait(60) == 0
        assert not database[0].is_running() or database[0].status() == psutil.STATUS_ZOMBIE
        assert (tmp_path / "db" / "data").is_dir()
    finally:
        if server.poll() is None:
            server.kill()
