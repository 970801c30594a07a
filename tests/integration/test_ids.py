"""Id allocation on the real database: concurrent first uses of a counter never fail or share an id."""

from __future__ import annotations

import asyncio
import uuid

from api.storage.db import Database


def test_concurrent_first_allocations_all_succeed_with_distinct_ids(mongo_uri: str) -> None:
    async def rounds() -> list[list[int]]:
        found = []
        for _ in range(10):  # each round on a fresh database: the counter does not exist yet
            db = Database(mongo_uri, f"ids_{uuid.uuid4().hex[:8]}")
            try:
                found.append(await asyncio.gather(*(db.allocate_ids("compute_nodes", 1) for _ in range(16))))
            finally:
                await db.client.drop_database(db.db.name)
                await db.close()
        return found

    for ids in asyncio.run(rounds()):
        assert len(set(ids)) == 16
