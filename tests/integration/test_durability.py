"""Acknowledged changes survive a database crash: kill -9 the embedded database right after a run of reports."""

from __future__ import annotations

import signal

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
