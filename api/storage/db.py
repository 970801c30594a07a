"""The database handle: collections, indexes and id allocation."""

from __future__ import annotations

import time
from typing import Any

from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError
from pymongo.asynchronous.collection import AsyncCollection

from torc_client.units import iso_from_epoch, iso_now

#: collection -> (keys, unique) of every index; few on purpose: each index roughly halves
#: the insert rate of the embedded server, and workflow creation is insert-bound.
INDEXES: dict[str, list[tuple[list[tuple[str, int]], bool]]] = {
    # (workflow_id, status) also serves queries on workflow_id alone.
    "jobs": [([("workflow_id", 1), ("status", 1)], False)],
    "files": [([("workflow_id", 1)], False)],
    "user_data": [([("workflow_id", 1)], False)],
    "resource_requirements": [([("workflow_id", 1)], False)],
    "failure_handlers": [([("workflow_id", 1)], False)],
    # One result per job, run and attempt: a repeated report cannot store a second one. The same index
    # serves listing by workflow (its prefix); a second index would cost every stored result ~40% more.
    "results": [([("workflow_id", 1), ("job_id", 1), ("run_id", 1), ("attempt_id", 1)], True)],
    "events": [([("workflow_id", 1)], False)],
    "compute_nodes": [([("workflow_id", 1)], False)],
    "queues": [([("workflow_id", 1)], False)],
    "slots": [([("workflow_id", 1)], False)],
    "workflow_inputs": [([("workflow_id", 1)], False)],
    "slurm_schedulers": [([("workflow_id", 1)], False)],
    "workflow_actions": [([("workflow_id", 1)], False)],
    "scheduled_compute_nodes": [([("workflow_id", 1)], False)],
}


#: How long a request waits for the database before the API answers 503.
SERVER_SELECTION_TIMEOUT_MS = 5000
#: Tries at reserving ids when concurrent first uses race to create a counter.
ALLOCATE_ATTEMPTS = 10


class Database:
    """One MongoDB database, opened once per event loop."""

    def __init__(self, uri: str, name: str) -> None:
        # Every write here is guarded or idempotent, so driver-level retries add nothing, and the
        # embedded server's bookkeeping of retryable writes halves its throughput once it fills.
        options: dict = {} if "retrywrites" in uri.lower() else {"retryWrites": False}
        if "serverselectiontimeoutms" not in uri.lower():  # a database that is down gets a 503 soon, not after 30 s
            options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
        # Acknowledged means journaled: a killed database loses no change a runner or user was told of (without
        # this the embedded server lost the last few acknowledged writes when killed).
        if "journal=" not in uri.lower() and "j=" not in uri.lower():
            options["journal"] = True
        self.client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, connect=False, **options)
        self.db = self.client[name]

    def __getattr__(self, collection: str) -> AsyncCollection:
        if collection.startswith("_"):
            raise AttributeError(collection)
        return self.db[collection]

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def ensure_indexes(self) -> None:
        for collection, specs in INDEXES.items():
            for keys, unique in specs:
                await self.db[collection].create_index(keys, unique=unique)

    async def close(self) -> None:
        await self.client.close()

    async def allocate_ids(self, kind: str, count: int) -> int:
        """Reserve `count` consecutive integer ids for `kind`; returns the first.

        Concurrent first uses race to create the counter: the embedded server may then
        answer an upsert with no document (having applied it or not), and MongoDB may
        refuse the losing insert. Either way the counter exists afterwards, so the request
        is made again; an increment that was applied unseen only leaves a gap in the ids.
        """
        for _ in range(ALLOCATE_ATTEMPTS):
            try:
                doc = await self.db.counters.find_one_and_update(
                    {"_id": kind}, {"$inc": {"seq": count}}, upsert=True, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                continue
            if doc is not None:
                return int(doc["seq"]) - count + 1
        raise RuntimeError(f"could not reserve {count} {kind} ids after {ALLOCATE_ATTEMPTS} attempts")


def now_ms() -> int:
    return int(time.time() * 1000)


def chunks(items: list[Any], size: int = 50) -> list[list[Any]]:
    """`items` cut into lists of at most `size`; `$in` costs grow faster than linearly on the embedded server: 50 ids is its sweet spot."""
    return [items[i : i + size] for i in range(0, len(items), size)]
