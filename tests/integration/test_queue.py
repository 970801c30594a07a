"""The ready queue on the real database: positions in shared blocks, each handed out once."""

from __future__ import annotations

import asyncio
import uuid

from api.storage import queue
from api.storage.db import Database

RR = {"_id": 1, "num_cpus": 1, "memory_bytes": 1, "num_gpus": 0, "num_nodes": 1, "runtime_s": 0.0}


def run(mongo_uri: str, scenario) -> object:
    async def main():
        db = Database(mongo_uri, f"queue_{uuid.uuid4().hex[:8]}")
        try:
            await queue.create_queues(db, 1, [RR])
            return await scenario(db)
        finally:
            await db.client.drop_database(db.db.name)
            await db.close()

    return asyncio.run(main())


def test_concurrent_enqueues_into_shared_blocks_lose_nothing(mongo_uri: str) -> None:
    # 30 enqueuers of 7 jobs each race on the same few blocks (each block holds queue.BLOCK positions).
    async def scenario(db: Database):
        await asyncio.gather(*(queue.enqueue(db, 1, {1: list(range(k * 7, k * 7 + 7))}) for k in range(30)))
        taken = []
        while ids := await queue.take(db, 1, 1, 13):
            taken += ids
        return taken

    taken = run(mongo_uri, scenario)
    assert sorted(taken) == list(range(210))


def test_concurrent_takers_never_share_a_position(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await queue.enqueue(db, 1, {1: list(range(1000))})

        async def drain():
            mine = []
            while ids := await queue.take(db, 1, 1, 37):
                mine += ids
            return mine

        return await asyncio.gather(*(drain() for _ in range(6)))

    taken = [jid for part in run(mongo_uri, scenario) for jid in part]
    assert len(taken) == len(set(taken)) == 1000


def test_repair_queues_a_job_whose_position_was_passed_unwritten(mongo_uri: str) -> None:
    async def scenario(db: Database):
        # A position reserved but not written (its enqueuer is slow) is passed by a claim.
        await db.queues.update_one({"_id": queue.queue_id(1, 1)}, {"$inc": {"tail": 1}})
        passed = await queue.take(db, 1, 1, 5)
        await db.jobs.insert_one({"_id": 99, "workflow_id": 1, "status": "ready", "rr_id": 1})
        repaired = await queue.repair(db, 1)
        return passed, repaired, await queue.take(db, 1, 1, 5)

    passed, repaired, after = run(mongo_uri, scenario)
    assert (passed, repaired, after) == ([], 1, [99])
