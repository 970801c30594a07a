"""Queue tickets on the real database: a claim moves a job only through a live entry (the job still holds the
entry's ticket), and a repair queues lost jobs again under a new ticket, so every job is handed out once."""

from __future__ import annotations

import asyncio

from api.storage import queue, transitions, workflows
from api.storage.db import Database
from tests.integration.queue_db import RR2, ready_job, run


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


def test_mark_pending_counts_the_jobs_of_every_ticket(mongo_uri: str) -> None:
    async def scenario(db: Database):
        await db.jobs.insert_many([ready_job(1, 11), ready_job(2, 12)])
        return await transitions.mark_pending(db, [(1, 11), (2, 12)], 1, "tok")

    moved, docs = run(mongo_uri, scenario)
    assert moved == 2 and [d["_id"] for d in docs] == [1, 2]
