"""Torc's tasks (api.storage.compat.tasks) on the real embedded database, in this process: a task is running while
its work runs, then succeeded or failed; one whose request died is found failed once it is too old to be running."""

from __future__ import annotations

import asyncio

import pytest

from api.storage.compat import tasks
from api.storage.db import Database
from tests.storage.test_storage import make_workflow, run
from torc_client.core.errors import Conflict, NotFound

SPEC = {"name": "tasks", "jobs": [{"name": "only", "command": "true"}]}


def test_a_task_is_running_while_its_work_runs_then_succeeded(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await make_workflow(db, SPEC)
        during = []

        async def work() -> None:
            during.append(await tasks.active(db, wid))

        done = await tasks.run(db, wid, "initialize_jobs", work)
        return during[0], done, await tasks.get(db, done.id), await tasks.active(db, wid)

    during, done, read, after = run(mongo_uri, scenario)
    assert (during.id, during.status, during.finished_at_ms) == (done.id, "running", None)
    assert (done.status, done.error, done.operation) == ("succeeded", None, "initialize_jobs")
    assert read == done and after is None


def test_a_refused_operation_is_a_failed_task_with_the_refusal(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await make_workflow(db, SPEC)

        async def work() -> None:
            raise Conflict("workflow is archived")

        return await tasks.run(db, wid, "initialize_jobs", work)

    failed = run(mongo_uri, scenario)
    assert (failed.status, failed.error) == ("failed", "workflow is archived")
    assert failed.finished_at_ms >= failed.started_at_ms


def test_an_unexpected_error_fails_the_task_and_is_raised(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await make_workflow(db, SPEC)

        async def work() -> None:
            raise RuntimeError("disk on fire")

        with pytest.raises(RuntimeError, match="disk on fire"):
            await tasks.run(db, wid, "initialize_jobs", work)
        return [tasks.to_record(d) async for d in db.tasks.find({"workflow_id": wid})]

    [failed] = run(mongo_uri, scenario)
    assert (failed.status, failed.error) == ("failed", "RuntimeError: disk on fire")


def test_a_task_whose_request_died_is_found_failed_once_too_old(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await make_workflow(db, SPEC)

        async def work() -> None:
            raise asyncio.CancelledError  # the request is cut off: nothing after it runs

        with pytest.raises(asyncio.CancelledError):
            await tasks.run(db, wid, "initialize_jobs", work)
        [doc] = [d async for d in db.tasks.find({"workflow_id": wid})]
        young = await tasks.active(db, wid, now=doc["started_at_ms"] + tasks.ABANDONED_AFTER_MS)
        old = doc["started_at_ms"] + tasks.ABANDONED_AFTER_MS + 1
        return young, await tasks.active(db, wid, now=old), await tasks.get(db, doc["_id"])

    young, active, read = run(mongo_uri, scenario)
    assert young is not None and young.status == "running"
    assert active is None
    assert (read.status, read.error) == ("failed", tasks.ABANDONED)


def test_a_task_of_a_missing_workflow_is_not_started_and_a_missing_task_is_not_found(mongo_uri) -> None:
    async def scenario(db: Database):
        async def work() -> None:
            raise AssertionError("the work of a missing workflow ran")

        with pytest.raises(NotFound, match="workflow 987654321 does not exist"):
            await tasks.run(db, 987654321, "initialize_jobs", work)
        with pytest.raises(NotFound, match="task 987654321 does not exist"):
            await tasks.get(db, 987654321)
        return await db.tasks.count_documents({})

    assert run(mongo_uri, scenario) == 0
