"""The ready queue on the real database: positions in shared blocks, each handed out once, tickets that die."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import random
import time
import uuid
from collections import Counter

from api.storage import queue, transitions, workflows
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


def test_overlapping_claims_on_the_same_entries_hand_each_job_to_one_claimer(mongo_uri: str) -> None:
    # Two claims hold the same entries (a stale copy of the queue, a repair racing): each job must go to one of them,
    # decided by the transitions layer alone, and each claim reads back only the jobs its own token holds.
    async def scenario(db: Database):
        await db.jobs.insert_many([ready_job(jid, 5) for jid in range(1, 21)])
        entries = [(jid, 5) for jid in range(1, 21)]
        return await asyncio.gather(transitions.mark_pending(db, entries, 1, "first"),
                                    transitions.mark_pending(db, entries, 2, "second"))  # fmt: skip

    (moved_1, held_1), (moved_2, held_2) = run(mongo_uri, scenario)
    assert moved_1 + moved_2 == 20
    assert len(held_1) == moved_1 and len(held_2) == moved_2
    assert {d["claim_token"] for d in held_1} <= {"first"} and {d["claim_token"] for d in held_2} <= {"second"}
    assert sorted(d["_id"] for d in held_1 + held_2) == list(range(1, 21))


def test_a_claim_that_lost_its_jobs_reads_none_of_them_back(mongo_uri: str) -> None:
    # The second claim comes after the first has them pending: it moves nothing and must not report them as its own.
    async def scenario(db: Database):
        await db.jobs.insert_many([ready_job(jid, 5) for jid in (1, 2, 3)])
        entries = [(jid, 5) for jid in (1, 2, 3)]
        first = await transitions.mark_pending(db, entries, 1, "first")
        second = await transitions.mark_pending(db, entries, 2, "second")
        docs = await workflows.find_by_ids(db.jobs, [1, 2, 3])
        return first, second, [(d["status"], d["claim_token"], d["active_compute_node_id"], d["queue_ticket"])
                               for d in docs]  # fmt: skip

    (moved, held), second, docs = run(mongo_uri, scenario)
    assert moved == 3 and [(d["_id"], d["claim_token"]) for d in held] == [(1, "first"), (2, "first"), (3, "first")]
    assert second == (0, [])
    assert docs == [("pending", "first", 1, None)] * 3


RR2 = {**RR, "_id": 2, "num_cpus": 2}


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


def test_repair_queues_only_this_workflows_lost_jobs_and_leaves_live_ones_alone(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await queue.create_queues(db, 2, [RR2])
        await db.jobs.insert_many([ready_job(jid, 5) for jid in range(1, 151)])
        await queue.enqueue(db, 1, {1: list(range(1, 151))}, 5)
        claimed = await transitions.mark_pending(db, await queue.take(db, 1, 1, 2), 1, "tok")
        await db.jobs.insert_one(ready_job(151, 5))  # ready, but at no position: lost
        await db.jobs.insert_one({**ready_job(1001, 6), "workflow_id": 2, "rr_id": 2})  # lost in workflow 2
        repaired = await queue.repair(db, 1)
        tickets = {d["_id"]: d["queue_ticket"] async for d in db.jobs.find({}, {"queue_ticket": 1})}
        rest = []
        while entries := await queue.take(db, 1, 1, 97):
            rest += entries
        return claimed[0], repaired, tickets, rest

    claimed, repaired, tickets, rest = run(mongo_uri, scenario)
    assert claimed == 2 and repaired == 1
    fresh = tickets[151]
    assert isinstance(fresh, int) and fresh != 5
    assert {jid: t for jid, t in tickets.items() if jid != 151} == {1: None, 2: None, 1001: 6,
                                                                     **{jid: 5 for jid in range(3, 151)}}
    assert rest == [(jid, 5) for jid in range(3, 151)] + [(151, fresh)]


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


def test_mark_pending_counts_the_jobs_of_every_ticket(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await db.jobs.insert_many([ready_job(1, 11), ready_job(2, 12)])
        return await transitions.mark_pending(db, [(1, 11), (2, 12)], 1, "tok")

    moved, docs = run(mongo_uri, scenario)
    assert moved == 2 and [d["_id"] for d in docs] == [1, 2]
