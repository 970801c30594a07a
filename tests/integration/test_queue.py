"""The ready queue on the real database: positions in shared blocks, each handed out once, tickets that die."""

from __future__ import annotations

import asyncio
import uuid

from api.storage import queue, transitions
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


def ready_job(jid: int, ticket: int | None) -> dict:
    return {"_id": jid, "workflow_id": 1, "status": "ready", "rr_id": 1, "claim_token": None, "queue_ticket": ticket}


def test_repair_queues_a_job_whose_position_was_passed_unwritten(mongo_uri: str) -> None:
    async def scenario(db: Database):
        # A position reserved but never written (its enqueuer died) is passed by a claim.
        await db.queues.update_one({"_id": queue.queue_id(1, 1)}, {"$inc": {"tail": 1}})
        passed = await queue.take(db, 1, 1, 5)
        await db.jobs.insert_one(ready_job(99, 5))
        repaired = await queue.repair(db, 1)
        after = await queue.take(db, 1, 1, 5)
        doc = await db.jobs.find_one({"_id": 99})
        return passed, repaired, after, doc["queue_ticket"]

    passed, repaired, after, ticket = run(mongo_uri, scenario)
    assert (passed, repaired, after) == ([], 1, [(99, ticket)]) and ticket != 5


def test_take_waits_for_a_position_its_enqueuer_is_still_writing(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await db.queues.update_one({"_id": queue.queue_id(1, 1)}, {"$inc": {"tail": 1}})
        taking = asyncio.ensure_future(queue.take(db, 1, 1, 5))
        await asyncio.sleep(0.004)
        whole, shared = queue.block_writes(1, 1, 0, [42], 3)
        await queue.write_blocks(db, whole, shared)
        return await taking

    assert run(mongo_uri, scenario) == [(42, 3)]


def test_claim_is_exactly_once_when_repair_races_a_claim_in_flight(mongo_uri: str) -> None:
    # A claim has taken the job's entry but not yet marked the job; a repair sees a ready job at
    # no live entry and queues it again. The claim's mark must then lose (the ticket changed), and
    # the job is handed out once, from its new entry.
    async def scenario(db: Database):
        await db.jobs.insert_one(ready_job(7, 11))
        await queue.enqueue(db, 1, {1: [7]}, 11)
        in_flight = await queue.take(db, 1, 1, 1)
        requeued = await queue.repair(db, 1)
        late = await transitions.mark_pending(db, in_flight, 1, "late")
        fresh = await queue.take(db, 1, 1, 1)
        won = await transitions.mark_pending(db, fresh, 2, "fresh")
        return in_flight, requeued, late, fresh, won

    in_flight, requeued, (late_moved, late_docs), fresh, (won_moved, won_docs) = run(mongo_uri, scenario)
    assert in_flight == [(7, 11)] and requeued == 1
    assert (late_moved, late_docs) == (0, [])
    assert fresh[0][0] == 7 and fresh[0][1] != 11
    assert won_moved == 1 and [(d["_id"], d["claim_token"]) for d in won_docs] == [(7, "fresh")]


def test_repair_leaves_a_job_alone_once_the_racing_claim_marked_it(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await db.jobs.insert_one(ready_job(7, 11))
        await queue.enqueue(db, 1, {1: [7]}, 11)
        taken = await queue.take(db, 1, 1, 1)
        claimed = await transitions.mark_pending(db, taken, 1, "first")
        return claimed[0], await queue.repair(db, 1), await queue.take(db, 1, 1, 1)

    assert run(mongo_uri, scenario) == (1, 0, [])


def test_a_dead_entry_moves_nothing_even_for_the_claim_that_holds_the_job(mongo_uri: str) -> None:
    # The job stands at two entries (queued again under a new ticket while its old entry was
    # still unpassed); a claim that meets both, in one call or in two, moves it once.
    async def scenario(db: Database):
        await db.jobs.insert_one(ready_job(7, 12))
        await queue.enqueue(db, 1, {1: [7]}, 11)
        await queue.enqueue(db, 1, {1: [7]}, 12)
        both = await queue.take(db, 1, 1, 2)
        first = await transitions.mark_pending(db, both, 1, "tok")
        again = await transitions.mark_pending(db, both, 1, "tok")
        return both, first, again

    both, (moved, docs), (moved_again, _) = run(mongo_uri, scenario)
    assert both == [(7, 11), (7, 12)]
    assert moved == 1 and [d["_id"] for d in docs] == [7] and moved_again == 0


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
