"""Acknowledged changes survive a database crash: kill -9 the embedded database right after a run of reports."""

from __future__ import annotations

import concurrent.futures
import signal
import time

import httpx

from api.embedded import EmbeddedDatabase
from tests.claims.test_http_claims import claim, finish, independent, register
from tests.conftest import start_server, stop_server
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
        # Within the database's selection timeout (4 s), not the driver's default 30 s.
        response = httpx.get(f"{server.url}/workflows/{wf.id}/status", timeout=15)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "database" in response.json()["detail"].lower() or "database" in response.json()["title"].lower()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(15)  # raises if it hangs on the database it cannot reach
        log = "".join(p.read_text() for p in tmp_path.glob("server-*.log"))
        assert "the database did not answer while its connections were closed" in log  # it gave up, did not wait
    finally:
        stop_server(server)
        db.stop()


def test_a_create_rides_out_its_database_restarting_and_makes_one_workflow(tmp_path) -> None:
    data = tmp_path / "db"
    db = EmbeddedDatabase(data).__enter__()
    server = start_server(db.uri, "torc", tmp_path)
    restarted = None
    try:
        db.process.send_signal(signal.SIGKILL)
        db.process.wait()
        with Client(server.url) as client, concurrent.futures.ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            creating = pool.submit(client.create_workflow_from_spec, independent(3), working_dir=str(tmp_path))
            # Longer than the server's 5 s wait for its database, so the first try is answered 503. The database is
            # started from this thread: it is set to die with the thread that started it.
            time.sleep(7)
            restarted = EmbeddedDatabase(data, port=db.port).__enter__()
            wf = creating.result(timeout=60)
            waited = time.monotonic() - started
            assert waited > 5 and client.workflow_status(wf.id).job_counts == {"uninitialized": 3}
            assert [w.name for w in client.list_workflows()].count(wf.name) == 1
    finally:
        stop_server(server)
        if restarted is not None:
            restarted.stop()


def test_pooled_connections_idle_past_a_minute_are_not_reused() -> None:
    # The embedded database closes connections idle for 300 s; one reused after that failed the next request (503).
    from api.storage.db import MAX_IDLE_TIME_MS, Database

    assert Database("mongodb://127.0.0.1:1", "torc").client.options.pool_options.max_idle_time_seconds == \
        MAX_IDLE_TIME_MS / 1000  # fmt: skip
    assert Database("mongodb://127.0.0.1:1/?maxIdleTimeMS=5000", "torc").client.options.pool_options \
        .max_idle_time_seconds == 5  # fmt: skip
