"""Torc's records of where a workflow's runners may run: local scheduler settings (CPUs and memory a local runner
uses) and remote workers (the `[user@]host[:port]` addresses Torc's `remote` commands start runners on).

This server keeps them for Torc's clients; its own runners take their size from their flags.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import BulkWriteError

from api.storage import records, workflows
from api.storage.db import Database
from torc_client.contract import LocalScheduler, RemoteWorker
from torc_client.core.errors import InvalidRequest, NotFound
from torc_client.core.units import parse_memory


def _local(doc: dict[str, Any]) -> LocalScheduler:
    return LocalScheduler(id=doc["_id"], workflow_id=doc["workflow_id"], name=doc["name"], memory=doc.get("memory"),
                          num_cpus=doc.get("num_cpus"))  # fmt: skip


local_schedulers = records.Store("local_schedulers", "local_scheduler", _local, ("name", "num_cpus", "memory"))


def checked_local(fields: dict[str, Any]) -> dict[str, Any]:
    """A local scheduler's fields, refused when its memory is unreadable or its CPUs below 1."""
    if fields.get("memory") is not None:
        try:
            parse_memory(fields["memory"])
        except ValueError as error:
            raise InvalidRequest(str(error)) from None
    if fields.get("num_cpus") is not None and fields["num_cpus"] < 1:
        raise InvalidRequest(f"num_cpus {fields['num_cpus']}: a local scheduler uses at least 1 CPU")
    return fields


async def create_local(db: Database, fields: dict[str, Any]) -> LocalScheduler:
    await workflows.get_doc(db, fields["workflow_id"])
    return await local_schedulers.create(db, checked_local(fields))


async def add_workers(db: Database, wid: int, addresses: list[str]) -> list[RemoteWorker]:
    """Add worker addresses to a workflow (an address it has already is kept once); returns all of its workers."""
    await workflows.get_doc(db, wid)
    for address in addresses:
        if not address.strip() or any(c.isspace() for c in address):
            raise InvalidRequest(f"worker {address!r}: an address is [user@]host[:port], without spaces")
    fresh = sorted(set(addresses) - {w.worker for w in await list_workers(db, wid)})
    if fresh:
        first = await db.allocate_ids("remote_workers", len(fresh))
        try:
            await db.remote_workers.insert_many([{"_id": first + i, "workflow_id": wid, "worker": address}
                                                 for i, address in enumerate(fresh)], ordered=False)  # fmt: skip
        except BulkWriteError:  # another request added some of them meanwhile: each is kept once
            pass
    return await list_workers(db, wid)


async def list_workers(db: Database, wid: int) -> list[RemoteWorker]:
    await workflows.get_doc(db, wid)
    return [RemoteWorker(worker=d["worker"], workflow_id=wid)
            async for d in db.remote_workers.find({"workflow_id": wid}).sort("_id", 1)]  # fmt: skip


async def remove_worker(db: Database, wid: int, address: str) -> RemoteWorker:
    await workflows.get_doc(db, wid)
    if await db.remote_workers.find_one_and_delete({"workflow_id": wid, "worker": address}) is None:
        raise NotFound("remote_worker", address)
    return RemoteWorker(worker=address, workflow_id=wid)
