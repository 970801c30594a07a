"""Leases renewed together (`expiry.renew_together`): the exchanges of a workflow arriving at once renew with one
update and one read, and each still gets its own answer, on the real embedded database."""

from __future__ import annotations

import asyncio
import time

import pytest

from api.storage import expiry, leases
from api.storage.db import Database
from tests.storage.test_leases import LEASE, lapse, node, workflow
from tests.storage.test_storage import run
from torc_client.core.errors import Conflict, LeaseExpired, NotFound


def test_renewals_arriving_together_are_served_in_few_batches_and_each_lease_is_renewed(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        ids = [await node(db, wid, hostname=f"h{i}") for i in range(60)]
        await db.compute_nodes.update_many({"_id": {"$in": ids}}, {"$set": {"lease_until": time.time() + 1}})
        served = db.batches.served
        before = time.time()
        docs = await asyncio.gather(*(expiry.renew_together(db, nid, LEASE, wid) for nid in ids))
        stored = {d["_id"]: d async for d in db.compute_nodes.find({"_id": {"$in": ids}})}
        return ids, before, docs, stored, db.batches.served - served

    ids, before, docs, stored, batches = run(mongo_uri, scenario)
    assert [d["_id"] for d in docs] == ids
    for doc in docs:
        assert before + LEASE <= doc["lease_until"] == stored[doc["_id"]]["lease_until"] <= time.time() + LEASE
        assert doc["lease_expires_at"] == stored[doc["_id"]]["lease_expires_at"]
    assert batches <= 2  # the first alone, then every other one that arrived while it was served


def test_each_renewal_in_a_batch_gets_its_own_refusal(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, other = await workflow(db), await workflow(db)
        live, lapsed, foreign = await node(db, wid), await node(db, wid), await node(db, other)
        stopped = await node(db, wid)
        await leases.deactivate(db, stopped)
        await lapse(db, lapsed)
        await db.workflows.update_one({"_id": wid}, {"$set": {"lease_check_at": time.time() - LEASE / 2}})
        foreign_lease = (await db.compute_nodes.find_one({"_id": foreign}))["lease_until"]
        answers = await asyncio.gather(*(expiry.renew_together(db, nid, LEASE, wid)
                                         for nid in (live, lapsed, foreign, stopped, live + 1000)),
                                       return_exceptions=True)  # fmt: skip
        after = {d["_id"]: d async for d in db.compute_nodes.find({"workflow_id": {"$in": [wid, other]}})}
        return (live, lapsed, foreign, stopped), answers, after, foreign_lease, wid, other

    (live, lapsed, foreign, stopped), answers, after, foreign_lease, wid, other = run(mongo_uri, scenario)
    assert answers[0]["_id"] == live and answers[0]["lease_until"] > time.time() + LEASE - 5
    assert isinstance(answers[1], LeaseExpired) and after[lapsed]["expired"] is True
    assert isinstance(answers[2], Conflict)
    assert str(answers[2]) == (f"compute node {foreign} belongs to workflow {other}, not {wid}: report through its "
                               "own workflow")
    assert after[foreign]["lease_until"] == foreign_lease  # another workflow's node is not renewed
    assert isinstance(answers[3], LeaseExpired) and after[stopped]["is_active"] is False
    assert isinstance(answers[4], NotFound) and str(answers[4]) == f"compute_node {live + 1000} does not exist"


def test_a_batch_renews_every_lease_by_the_longest_lease_asked(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        a, b = await node(db, wid), await node(db, wid, hostname="other")
        before = time.time()
        first = asyncio.ensure_future(expiry.renew_together(db, a, LEASE, wid))
        # These two arrive while the first is served: they are served together, the paced one's lease for both.
        await asyncio.sleep(0)
        together = await asyncio.gather(expiry.renew_together(db, a, LEASE, wid),
                                        expiry.renew_together(db, b, 10 * LEASE, wid))  # fmt: skip
        await first
        return before, together

    before, (doc_a, doc_b) = run(mongo_uri, scenario)
    assert doc_a["lease_until"] == doc_b["lease_until"] >= before + 10 * LEASE


@pytest.mark.parametrize("count", [1, 3])
def test_a_renewal_alone_or_repeated_is_the_same_as_renew(mongo_uri, count) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        docs = await asyncio.gather(*(expiry.renew_together(db, nid, LEASE, wid) for _ in range(count)))
        return nid, docs, await db.compute_nodes.find_one({"_id": nid})

    nid, docs, stored = run(mongo_uri, scenario)
    assert {d["_id"] for d in docs} == {nid} and stored["is_active"]
    assert max(d["lease_until"] for d in docs) == stored["lease_until"]


def test_a_lease_with_most_of_it_left_is_read_not_written_and_one_running_out_is_renewed(mongo_uri) -> None:
    """A fleet's exchanges renew a lease only once less than `RENEW_WHEN_LEFT` of it is left: the others read their
    node and leave it as it is, in the same batch as the renewals that are due."""

    async def scenario(db: Database):
        wid = await workflow(db)
        fresh, old = await node(db, wid), await node(db, wid, hostname="old")
        now = time.time()
        kept = now + expiry.RENEW_WHEN_LEFT * LEASE + 5  # just more than is renewed
        await db.compute_nodes.update_one({"_id": fresh}, {"$set": {"lease_until": kept}})
        running_out = now + expiry.RENEW_WHEN_LEFT * LEASE - 5
        await db.compute_nodes.update_one({"_id": old}, {"$set": {"lease_until": running_out}})
        stamp = (await db.compute_nodes.find_one({"_id": fresh}))["lease_expires_at"]
        answers = await asyncio.gather(expiry.renew_together(db, fresh, LEASE, wid),
                                       expiry.renew_together(db, old, LEASE, wid))  # fmt: skip
        stored = {d["_id"]: d async for d in db.compute_nodes.find({"_id": {"$in": [fresh, old]}})}
        return fresh, old, now, kept, stamp, answers, stored

    fresh, old, now, kept, stamp, (a_fresh, a_old), stored = run(mongo_uri, scenario)
    assert a_fresh["_id"] == fresh and a_fresh["lease_until"] == stored[fresh]["lease_until"] == kept
    assert stored[fresh]["lease_expires_at"] == stamp  # not written
    assert a_old["_id"] == old and now + LEASE <= a_old["lease_until"] == stored[old]["lease_until"]


def test_a_lease_left_unrenewed_outlasts_the_longest_pace_told_with_it() -> None:
    """What is left of a lease an exchange did not renew covers the pace the answer tells (a quarter of the lease at
    most, whatever the load) and as long again for the exchange itself."""
    from api.pacing import Pacer

    pacer = Pacer(rand=lambda: 1.0)  # the longest jitter
    pacer.pace = 10_000.0  # as long as any load makes it
    for lease in (LEASE, 300.0, 3_600.0):
        longest = pacer.advice(lease)
        assert longest is not None and longest <= lease / 4
        assert expiry.RENEW_WHEN_LEFT * lease - longest >= lease / 2


def test_a_node_stopped_between_the_batch_read_and_its_renewal_is_refused_not_renewed(mongo_uri, monkeypatch) -> None:
    """The batch reads its nodes, then renews those that are due: one that stops in between is not renewed by the
    update (its filter wants an active node), and is answered from what the database holds, not from what was read."""
    from api.storage import workflows as workflow_docs

    read = workflow_docs.find_by_ids

    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        await db.compute_nodes.update_one({"_id": nid}, {"$set": {"lease_until": time.time() + 1}})

        stopped = []

        async def read_then_stop(collection, ids, *args, **kwargs):
            docs = await read(collection, ids, *args, **kwargs)
            if collection.name == "compute_nodes" and not stopped:
                stopped.append(nid)
                await leases.deactivate(db, nid)  # the runner signs off just after the batch read its node
            return docs

        monkeypatch.setattr(workflow_docs, "find_by_ids", read_then_stop)
        try:
            await expiry.renew_together(db, nid, LEASE, wid)
        except LeaseExpired as error:
            return nid, error, await db.compute_nodes.find_one({"_id": nid})
        finally:
            monkeypatch.setattr(workflow_docs, "find_by_ids", read)
        return nid, None, None

    nid, refused, stored = run(mongo_uri, scenario)
    assert refused is not None, "a node that stopped was answered as renewed"
    assert stored["is_active"] is False and stored["lease_until"] < time.time() + LEASE / 2
