"""Acknowledged changes survive a database crash: kill -9 the embedded database right after a run of reports."""

from __future__ import annotations

import signal

import httpx

from api.embedded import EmbeddedDatabase
from tests.conftest import start_server, stop_server
from tests.integration.test_claims import claim, finish, independent, register
from torc_client import Client


def test_every_acknowledged_completion_survives_a_killed_database(tmp_path) -> None:
    data = tmp_path / "db"
    with EmbeddedDatabase(data) as db:
        server = start_server(db.uri, "torc", tmp_path)
        try:
            with Client(server.url) as client:
                wf = client.create_workflow_from_spec(independent(150), working_dir=str(tmp_path))
                client.initialize_workflow(wf.id)
                node = register(client, wf.id)
                acknowledged = []
                while jobs := claim(client, wf.id, node, limit=1):
                    finish(client, wf.id, node, jobs)  # returns only once the server has the report
                    acknowledged += [j.id for j in jobs]
            db.process.send_signal(signal.SIGKILL)  # at once, after the last acknowledgement
            db.process.wait()
        finally:
            stop_server(server)
    with EmbeddedDatabase(data) as db:
        server = start_server(db.uri, "torc", tmp_path)
        try:
            with Client(server.url) as client:
                assert client.workflow_status(wf.id).job_counts == {"completed": 150}
                results = client.list_results(wf.id)
                assert sorted(r.job_id for r in results) == sorted(acknowledged)
        finally:
            stop_server(server)


def test_with_its_database_down_the_api_answers_503_soon_and_still_stops_at_once(tmp_path) -> None:
    db = EmbeddedDatabase(tmp_path / "db").__enter__()
    server = start_server(db.uri, "torc", tmp_path)
    try:
        with Client(server.url) as client:
            wf = client.create_workflow_from_spec(independent(3), working_dir=str(tmp_path))
        db.process.send_signal(signal.SIGKILL)
        db.process.wait()
        # Within the database's selection timeout (5 s), not the driver's default 30 s.
        response = httpx.get(f"{server.url}/workflows/{wf.id}/status", timeout=15)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "database" in response.json()["detail"].lower() or "database" in response.json()["title"].lower()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(15)  # raises if it hangs on the database it cannot reach
    finally:
        stop_server(server)
        db.stop()
