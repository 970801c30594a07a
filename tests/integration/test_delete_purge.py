"""Deleting a workflow: gone at once for every request, its documents removed in the background, even across a crash."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pymongo
import pytest

from tests.conftest import Server, start_server, stop_server
from tests.runner.conftest import wait_until
from torc_client import Client
from torc_client.core.errors import NotFoundError

#: Enough jobs that removing them takes the embedded database a few seconds.
JOBS = 4_000


def _sweep(n: int) -> dict:
    return {"name": f"purge_{uuid.uuid4().hex[:6]}", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{n}"}}]}


def _left(db, wid: int) -> int:
    return db.jobs.count_documents({"workflow_id": wid}) + db.events.count_documents({"workflow_id": wid})


@pytest.fixture()
def no_wait_server(server: Server, tmp_path: Path):
    """An API process that answers a delete at once and removes the documents afterwards."""
    started = start_server(server.mongo_uri, server.database, tmp_path, env={"TORC_DELETE_WAIT_SECONDS": "0"})
    yield started
    stop_server(started)


def test_a_deleted_workflow_is_gone_at_once_and_its_documents_follow(no_wait_server: Server, tmp_path: Path) -> None:
    with Client(no_wait_server.url) as client, pymongo.MongoClient(no_wait_server.mongo_uri) as mongo:
        db = mongo[no_wait_server.database]
        big = client.create_workflow_from_spec(_sweep(JOBS), working_dir=str(tmp_path))
        kept = client.create_workflow_from_spec(_sweep(10), working_dir=str(tmp_path))
        client.initialize_workflow(big.id)
        assert client.delete_workflow(big.id).id == big.id
        with pytest.raises(NotFoundError, match=f"workflow {big.id} does not exist"):
            client.get_workflow(big.id)
        assert big.id not in [w.id for w in client.list_workflows()]
        wait_until(lambda: _left(db, big.id) == 0 and db.purges.count_documents({"_id": big.id}) == 0, timeout=60)
        assert client.workflow_status(kept.id).num_jobs == 10  # another workflow's documents are untouched
        client.delete_workflow(kept.id)


def test_a_small_delete_answers_once_everything_is_removed(client: Client, server: Server, tmp_path: Path) -> None:
    wf = client.create_workflow_from_spec(_sweep(50), working_dir=str(tmp_path))
    client.delete_workflow(wf.id)
    with pymongo.MongoClient(server.mongo_uri) as mongo:
        db = mongo[server.database]
        assert _left(db, wf.id) == 0
        assert db.purges.count_documents({"_id": wf.id}) == 0


def test_a_purge_cut_short_by_a_killed_api_process_is_finished_by_the_next(server: Server, tmp_path: Path) -> None:
    first = start_server(server.mongo_uri, server.database, tmp_path, env={"TORC_DELETE_WAIT_SECONDS": "0"})
    with Client(first.url) as client, pymongo.MongoClient(server.mongo_uri) as mongo:
        db = mongo[server.database]
        wf = client.create_workflow_from_spec(_sweep(JOBS), working_dir=str(tmp_path))
        client.delete_workflow(wf.id)
        first.process.send_signal(signal.SIGKILL)  # while it removes the jobs (a second or more for 4,000)
        first.process.wait(10)
        assert db.purges.count_documents({"_id": wf.id}) == 1  # the purge is not finished...
        assert db.workflows.count_documents({"_id": wf.id}) == 0  # ...but the workflow was gone before it answered
        second = start_server(server.mongo_uri, server.database, tmp_path)
        try:
            wait_until(lambda: _left(db, wf.id) == 0 and db.purges.count_documents({"_id": wf.id}) == 0, timeout=60)
        finally:
            stop_server(second)
