"""A fresh database with a workflow's ready queue, and ready jobs to put in it: what the queue tests start from."""

from __future__ import annotations

import asyncio
import uuid

from api.storage import queue
from api.storage.db import Database

#: The resource requirements of the queues: workflow 1's queue is made for RR; RR2 is another requirement's.
RR = {"_id": 1, "num_cpus": 1, "memory_bytes": 1, "num_gpus": 0, "num_nodes": 1, "runtime_s": 0.0}


RR2 = {**RR, "_id": 2, "num_cpus": 2}


def run(mongo_uri: str, scenario) -> object:
    """Run `scenario(db)` on a fresh database holding workflow 1's queue for RR; the database is dropped after."""
    async def main():
        db = Database(mongo_uri, f"queue_{uuid.uuid4().hex[:8]}")
        try:
            await queue.create_queues(db, 1, [RR])
            return await scenario(db)
        finally:
            await db.client.drop_database(db.db.name)
            await db.close()

    return asyncio.run(main())


def ready_job(jid: int, ticket: int | None) -> dict:
    """The document of a ready job of workflow 1 (requirement RR) that holds `ticket`."""
    return {"_id": jid, "workflow_id": 1, "status": "ready", "rr_id": 1, "claim_token": None, "queue_ticket": ticket}
