"""Creating a large workflow: progress while the server works, a retry that cannot duplicate it, and a
client killed half way that leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pymongo

from tests.runner.conftest import wait_until
from torc_client import Client


def sweep(n: int, name: str) -> dict:
    return {"name": name, "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{n}"}}]}


def test_progress_is_reported_while_the_jobs_are_stored(client: Client, tmp_path: Path) -> None:
    seen = []
    workflow = client.create_workflow_from_spec(sweep(20_000, "progress"), working_dir=str(tmp_path),
                                                progress=seen.append)  # fmt: skip
    assert client.workflow_status(workflow.id).num_jobs == 20_000
    stored = [creation.done for creation in seen if creation.stage == "inserting"]
    assert stored and stored == sorted(stored) and all(c.total == 20_000 for c in seen if c.stage == "inserting")


def test_a_retry_with_the_same_request_id_returns_the_same_workflow(client: Client, tmp_path: Path) -> None:
    request_id = uuid.uuid4().hex
    first = client.create_workflow_from_spec(sweep(10, "retry"), working_dir=str(tmp_path), request_id=request_id)
    again = client.create_workflow_from_spec(sweep(10, "retry"), working_dir=str(tmp_path), request_id=request_id)
    assert again.id == first.id
    assert client.creation(request_id).stage == "done" and client.creation(request_id).workflow_id == first.id
    assert [w.id for w in client.list_workflows(name="retry")] == [first.id]


def test_a_client_killed_half_way_leaves_no_workflow_and_no_jobs(server, client: Client, tmp_path: Path) -> None:
    request_id, name = uuid.uuid4().hex, f"killed_{uuid.uuid4().hex[:6]}"
    script = textwrap.dedent(f"""
        from torc_client import Client
        Client({server.url!r}).create_workflow_from_spec({sweep(60_000, name)!r}, request_id={request_id!r})
    """)
    creator = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=os.environ.copy())
    try:
        wait_until(lambda: _stored(client, request_id) >= 10_000, timeout=120, what="half the jobs to be stored")
    finally:
        creator.send_signal(signal.SIGKILL)
        creator.wait()
    wait_until(lambda: client.creation(request_id).stage == "failed", timeout=60, what="the creation to be undone")
    assert client.list_workflows(name=name) == []
    with pymongo.MongoClient(server.mongo_uri) as mongo:
        db = mongo[server.database]
        known = {doc["_id"] for doc in db.workflows.find({}, {"_id": 1})}
        assert db.jobs.count_documents({"workflow_id": {"$nin": list(known)}}) == 0  # no orphan jobs


def _stored(client: Client, request_id: str) -> int:
    try:
        creation = client.creation(request_id)
    except Exception:  # noqa: BLE001 - not begun yet
        return 0
    return creation.done if creation.stage == "inserting" else 0


def test_an_api_process_starting_undoes_a_creation_whose_process_died(server, tmp_path: Path) -> None:
    from tests.conftest import start_server, stop_server

    orphan_wid, request_id = 10**9 + uuid.uuid4().int % 10**6, uuid.uuid4().hex
    with pymongo.MongoClient(server.mongo_uri) as mongo:
        db = mongo[server.database]
        # What a killed API process leaves: some stored jobs, no workflow document, a creation not heard of since.
        db.jobs.insert_many([{"_id": -(orphan_wid * 10 + i), "workflow_id": orphan_wid, "name": f"j{i}"} for i in range(3)])
        db.creations.insert_one({"_id": request_id, "stage": "inserting", "done": 3, "total": 10,
                                 "workflow_id": orphan_wid, "updated": time.time() - 3600})  # fmt: skip
        second = start_server(server.mongo_uri, server.database, tmp_path)
        try:
            assert db.jobs.count_documents({"workflow_id": orphan_wid}) == 0
            assert db.creations.find_one({"_id": request_id})["stage"] == "failed"
        finally:
            stop_server(second)
