"""The SSH hosts a workflow's runners are started on (`torc remote`): one document per workflow and address."""

from __future__ import annotations

from api.storage import workflows
from api.storage.db import Database
from torc_client.contract import RemoteWorker
from torc_client.core.errors import NotFound
from torc_client.remote import hosts


def _key(wid: int, address: str) -> str:
    return f"{wid}:{address}"


async def add(db: Database, wid: int, addresses: list[str]) -> list[RemoteWorker]:
    """Add the addresses not yet stored for the workflow (an address already there is kept as it is)."""
    await workflows.get_doc(db, wid)
    addresses = [hosts.parse(address).address for address in addresses]  # InvalidRequest names a bad one
    for address in dict.fromkeys(addresses):
        await db.remote_workers.update_one({"_id": _key(wid, address)},
                                           {"$setOnInsert": {"workflow_id": wid, "address": address}},
                                           upsert=True)  # fmt: skip
    return await listed(db, wid)


async def listed(db: Database, wid: int) -> list[RemoteWorker]:
    """The workflow's workers, in the order they were added (by address within one request)."""
    await workflows.get_doc(db, wid)
    docs = [doc async for doc in db.remote_workers.find({"workflow_id": wid})]
    return [RemoteWorker(workflow_id=wid, address=doc["address"]) for doc in docs]


async def remove(db: Database, wid: int, address: str) -> RemoteWorker:
    found = await db.remote_workers.find_one_and_delete({"_id": _key(wid, address)})
    if found is None:
        raise NotFound("remote worker", address)
    return RemoteWorker(workflow_id=wid, address=address)
