"""The ready queue on the real database: positions in shared blocks, each handed out once, entries of older versions.

Claims through tickets, and repairs of lost positions: `test_queue_tickets.py`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import random
import time
import uuid
from collections import Counter

from api.storage import queue
from api.storage.db import Database
from tests.integration.queue_db import RR, RR2, run


def test_concurrent_enqueues_into_shared_blocks_lose_nothing(mongo_uri: str) -> None:
    # 30 enqueuers of 7 jobs each race on the same few blocks (each block holds queue.BLOCK positions).
    async def scenario(db: Database):
        await asyncio.gather(*(queue.enqueue(db, 1, {1: list(range(k * 7, k * 7 + 7))}, k) for k in range(30)))
        taken = []
        while entries := await queue.take(db, 1, 1, 13):
            taken += entries
        return taken

    taken = run(mongo_uri, scenario)
    assert sorted(taken) == [(jid, jid // 7) for jid in range(210)]


def test_concurrent_takers_never_share_a_position(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await queue.enqueue(db, 1, {1: list(range(1000))}, 7)

        async def drain():
            mine = []
            while entries := await queue.take(db, 1, 1, 37):
                mine += [jid for jid, _ in entries]
            return mine

        return await asyncio.gather(*(drain() for _ in range(6)))

    taken = [jid for part in run(mongo_uri, scenario) for jid in part]
    assert len(taken) == len(set(taken)) == 1000


def test_take_waits_for_a_position_its_enqueuer_is_still_writing(mongo_uri: str, monkeypatch) -> None:
    # The enqueuer has reserved position 0 and writes it just after the taker's first read found it empty.
    async def scenario(db: Database):
        await db.queues.update_one({"_id": queue.queue_id(1, 1)}, {"$inc": {"tail": 1}})
        read, reads = queue._read_positions, []

        async def read_then_enqueuer_writes(*args):
            found = await read(*args)
            reads.append(dict(found))
            if len(reads) == 1:
                whole, shared = queue.block_writes(1, 1, 0, [42], 3)
                await queue.write_blocks(db, whole, shared)
            return found

        monkeypatch.setattr(queue, "_read_positions", read_then_enqueuer_writes)
        return await queue.take(db, 1, 1, 5), reads

    taken, reads = run(mongo_uri, scenario)
    assert reads[0] == {} and taken == [(42, 3)]


def test_a_queue_nothing_was_ever_queued_in_is_empty(mongo_uri: str) -> None:
    # A claim reads every queue's length as tail - head, including a group none of whose jobs is ready yet.
    async def scenario(db: Database):
        return [(q["head"], q["tail"]) for q in await queue.queues(db, 1)], await queue.take(db, 1, 1, 5)

    assert run(mongo_uri, scenario) == ([(0, 0)], [])


def test_live_entries_pass_over_a_slot_document_of_an_older_version(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await db.slots.insert_one({"_id": "1:1:0", "workflow_id": 1, "job_id": 7})  # one position per document
        await queue.enqueue(db, 1, {1: [1, 2]}, 5)
        return await queue.live_entries(db, 1)

    assert run(mongo_uri, scenario) == {(1, 5), (2, 5)}


def test_a_long_enqueue_goes_in_runs_in_order(mongo_uri: str, monkeypatch) -> None:
    # Runs of 2 blocks: 5 runs and a tail. A job listed again in a later run gets a second position (only one of
    # the two can hand it out: claiming clears its ticket).
    monkeypatch.setattr(queue, "ENQUEUE_RUN", 2 * queue.BLOCK)
    ids = [*range(1050), 3]

    async def scenario(db: Database):
        await queue.enqueue(db, 1, {1: ids}, 9)
        taken = []
        while entries := await queue.take(db, 1, 1, 97):
            taken += entries
        return taken

    assert run(mongo_uri, scenario) == [(jid, 9) for jid in range(1050)] + [(3, 9)]


#: The race below: rounds, claimer processes (each with its own client) and asyncio takers per claimer.
RACE_ROUNDS = 5


RACE_PROCESSES = 3


RACE_TASKS = 8


RACE_POSITIONS = 400


def drain_concurrently(db: Database, wid: int, seed: int) -> "asyncio.Future[list[int]]":
    """Many takers on one queue, each taking a few positions at a time until it is empty; the job ids they got."""
    rng = random.Random(seed)

    async def taker() -> list[int]:
        mine: list[int] = []
        while entries := await queue.take(db, wid, 1, rng.randint(1, 9)):
            mine += [jid for jid, _ in entries]
        return mine

    async def all_takers() -> list[int]:
        return [jid for part in await asyncio.gather(*(taker() for _ in range(RACE_TASKS))) for jid in part]

    return all_takers()


def drain_in_this_process(mongo_uri: str, database: str, wid: int, seed: int, at: float) -> list[int]:
    """One claimer process: its own client, connected first, then draining from the agreed moment on."""

    async def main() -> list[int]:
        db = Database(mongo_uri, database)
        try:
            await db.ping()
            await asyncio.sleep(max(0.0, at - time.time()))
            return await drain_concurrently(db, wid, seed)
        finally:
            await db.close()

    return asyncio.run(main())


def test_claim_is_exactly_once_when_queue_reads_race(mongo_uri: str) -> None:
    # Several processes, each with its own client and many takers, drain one queue from the same moment, again and
    # again: a take that read the head and wrote it back in a second step would hand some positions out twice.
    database = f"queue_race_{uuid.uuid4().hex[:8]}"
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(RACE_PROCESSES, mp_context=spawn) as pool:
        list(pool.map(time.sleep, [0.0] * RACE_PROCESSES))  # the processes are up before the first round

        async def main() -> list[list[int]]:
            db = Database(mongo_uri, database)
            rounds = []
            try:
                for wid in range(1, RACE_ROUNDS + 1):
                    await queue.create_queues(db, wid, [RR])
                    await queue.enqueue(db, wid, {1: list(range(RACE_POSITIONS))}, wid)
                    at = time.time() + 0.3
                    others = [asyncio.wrap_future(pool.submit(drain_in_this_process, mongo_uri, database, wid,
                                                              wid * 10 + k, at)) for k in range(RACE_PROCESSES)]
                    await asyncio.sleep(max(0.0, at - time.time()))
                    here = await drain_concurrently(db, wid, wid * 10 + 9)
                    rounds.append(here + [jid for part in await asyncio.gather(*others) for jid in part])
            finally:
                await db.client.drop_database(database)
                await db.close()
            return rounds

        rounds = asyncio.run(main())
    for number, taken in enumerate(rounds, start=1):
        twice = sorted(jid for jid, n in Counter(taken).items() if n > 1)
        assert twice == [], f"round {number}: positions handed out twice: {twice[:20]}"
        assert sorted(taken) == list(range(RACE_POSITIONS)), f"round {number}: positions lost"


def test_live_entries_are_the_unpassed_positions_of_this_workflow_only(mongo_uri: str) -> None:
    # 150 positions span two blocks; the head stands at 2, so position 2 is the first live one. Another workflow's
    # queue, in the same collections, adds nothing.
    async def scenario(db: Database):
        await queue.create_queues(db, 2, [RR2])
        await queue.enqueue(db, 1, {1: list(range(1, 151))}, 5)
        await queue.enqueue(db, 2, {2: [1001]}, 6)
        await queue.take(db, 1, 1, 2)
        return await queue.live_entries(db, 1), [q["_id"] for q in await queue.queues(db, 1)]

    live, queues = run(mongo_uri, scenario)
    assert live == {(jid, 5) for jid in range(3, 151)}
    assert queues == [queue.queue_id(1, 1)]


def test_clear_passes_every_position_of_this_workflow_only(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await queue.create_queues(db, 2, [RR2])
        await queue.enqueue(db, 1, {1: list(range(1, 151))}, 5)
        await queue.enqueue(db, 2, {2: [1001]}, 6)
        await queue.clear(db, 1)
        heads = {q["_id"]: (q["head"], q["tail"]) async for q in db.queues.find({})}
        blocks = sorted([d["workflow_id"] async for d in db.slots.find({})])
        return heads, blocks, await queue.take(db, 1, 1, 10), await queue.take(db, 2, 2, 10)

    heads, blocks, first, second = run(mongo_uri, scenario)
    assert heads == {queue.queue_id(1, 1): (150, 150), queue.queue_id(2, 2): (0, 1)}
    assert blocks == [2] and first == [] and second == [(1001, 6)]


def test_a_queue_follows_its_resource_requirement_and_is_dropped_with_it(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await queue.create_queues(db, 2, [RR2])
        await queue.enqueue(db, 1, {1: list(range(1, 151))}, 5)  # a whole block and a shared one
        await queue.enqueue(db, 2, {2: [1001]}, 6)
        await queue.update_shape(db, 1, {**RR, "num_cpus": 4, "memory_bytes": 8, "runtime_s": 60.0})
        await queue.update_shape(db, 1, {**RR, "_id": 3})  # a new requirement gets a new, empty queue
        shapes = [queue.shape_of(q) async for q in db.queues.find({"workflow_id": 1})]
        counters = {q["_id"]: (q["head"], q["tail"]) async for q in db.queues.find({})}
        await queue.drop(db, 1, 1)
        left = sorted([q["_id"] async for q in db.queues.find({})])
        blocks = sorted([(d["workflow_id"], d["rr"]) async for d in db.slots.find({})])
        return shapes, counters, left, blocks

    shapes, counters, left, blocks = run(mongo_uri, scenario)
    assert sorted(shapes) == [queue.Shape(1, 4, 8, 0, 1, 60.0), queue.Shape(3, 1, 1, 0, 1, 0.0)]
    assert counters == {"1:1": (0, 150), "1:3": (0, 0), "2:2": (0, 1)}
    assert left == ["1:3", "2:2"] and blocks == [(2, 2)]


def test_enqueue_fills_every_queue_it_is_given_and_skips_a_missing_one(mongo_uri: str) -> None:
    # Three resource requirements in one call, the first without a queue (deleted meanwhile), the others with a
    # whole block and a shared one each.
    async def scenario(db: Database):
        await queue.create_queues(db, 1, [RR2])
        await queue.enqueue(db, 1, {9: [500], 1: list(range(1, 151)), 2: list(range(201, 351))}, 5)
        taken = {}
        for rr in (1, 2):
            taken[rr] = []
            while entries := await queue.take(db, 1, rr, 97):
                taken[rr] += entries
        return taken

    assert run(mongo_uri, scenario) == {1: [(jid, 5) for jid in range(1, 151)], 2: [(jid, 5) for jid in range(201, 351)]}


def test_a_long_enqueue_after_a_short_one_writes_the_shared_blocks_of_every_run(mongo_uri: str, monkeypatch) -> None:
    # Runs of 2 blocks that start mid-block: each run shares its first and last blocks with its neighbours.
    monkeypatch.setattr(queue, "ENQUEUE_RUN", 2 * queue.BLOCK)

    async def scenario(db: Database):
        await queue.enqueue(db, 1, {1: list(range(30))}, 8)
        await queue.enqueue(db, 1, {1: list(range(30, 1030))}, 9)
        taken = []
        while entries := await queue.take(db, 1, 1, 97):
            taken += entries
        return taken

    assert run(mongo_uri, scenario) == [(jid, 8) for jid in range(30)] + [(jid, 9) for jid in range(30, 1030)]


def test_an_entry_written_by_an_older_version_is_a_bare_job_id_without_a_ticket(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await db.queues.update_one({"_id": queue.queue_id(1, 1)}, {"$set": {"tail": 2}})
        await db.slots.insert_one({"_id": queue.block_id(queue.queue_id(1, 1), 0), "workflow_id": 1, "rr": 1,
                                   "block": 0, "jobs": {"0": 42, "1": [43, 7]}})  # fmt: skip
        return await queue.take(db, 1, 1, 5)

    assert run(mongo_uri, scenario) == [(42, None), (43, 7)]
