"""Leases renewed together (`expiry.renew_together`): the exchanges of a workflow arriving at once renew with one
update and one read, and each still gets its own answer, on the real embedded database."""

from __future__ import annotations

import asyncio
import time

import pytest

from api.storage import claims, expiry, leases
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


def test_on_arrival_a_lease_running_out_is_renewed_and_one_merely_due_is_read_not_written(mongo_uri) -> None:
    """A fleet's exchanges renew a lease on arrival only once less than `RENEW_ON_ARRIVAL_LEFT` of it is left: the
    others read their node and leave it as it is, in the same batch as the renewals that are running out (a lease
    that is due is renewed by the exchange's transaction: `renew_in_transaction`)."""

    async def scenario(db: Database):
        wid = await workflow(db)
        fresh, due, old = await node(db, wid), await node(db, wid, hostname="due"), await node(db, wid, hostname="old")
        now = time.time()
        kept = {fresh: now + expiry.RENEW_WHEN_LEFT * LEASE + 5,  # not due
                due: now + expiry.RENEW_ON_ARRIVAL_LEFT * LEASE + 5}  # due, not running out  # fmt: skip
        for nid, until in kept.items():
            await db.compute_nodes.update_one({"_id": nid}, {"$set": {"lease_until": until}})
        await db.compute_nodes.update_one({"_id": old}, {"$set": {
            "lease_until": now + expiry.RENEW_ON_ARRIVAL_LEFT * LEASE - 5}})  # fmt: skip
        stamps = {d["_id"]: d["lease_expires_at"] async for d in db.compute_nodes.find({"_id": {"$in": list(kept)}})}
        answers = await asyncio.gather(*(expiry.renew_together(db, nid, LEASE, wid) for nid in (fresh, due, old)))
        stored = {d["_id"]: d async for d in db.compute_nodes.find({"_id": {"$in": [fresh, due, old]}})}
        return (fresh, due, old), now, kept, stamps, answers, stored

    (fresh, due, old), now, kept, stamps, answers, stored = run(mongo_uri, scenario)
    for nid, answer in zip((fresh, due), answers):
        assert answer["_id"] == nid and answer["lease_until"] == stored[nid]["lease_until"] == kept[nid]
        assert stored[nid]["lease_expires_at"] == stamps[nid]  # not written
    assert answers[2]["_id"] == old and now + LEASE <= answers[2]["lease_until"] == stored[old]["lease_until"]


def test_an_exchange_renews_a_due_lease_in_its_transaction_and_leaves_a_fresh_one(mongo_uri) -> None:
    """A lease that is due but was not running out on arrival is renewed by the exchange's transaction, by a full
    lease; one with more than `RENEW_WHEN_LEFT` of it left is not written at all."""
    from tests.storage.test_group_commit import _claim

    async def scenario(db: Database):
        wid = await workflow(db, n_jobs=4)
        fresh, due = await node(db, wid), await node(db, wid, hostname="due")

        async def claim(db, wid, nid, limit):  # with a request id: the claim's token is kept on the node
            return (await claims.claim(db, wid, _claim(nid, limit), LEASE)).jobs

        now = time.time()
        kept = now + expiry.RENEW_WHEN_LEFT * LEASE + 5
        await db.compute_nodes.update_one({"_id": fresh}, {"$set": {"lease_until": kept}})
        await db.compute_nodes.update_one({"_id": due}, {"$set": {
            "lease_until": now + expiry.RENEW_ON_ARRIVAL_LEFT * LEASE + 5}})  # fmt: skip
        stamp = (await db.compute_nodes.find_one({"_id": fresh}))["lease_expires_at"]
        won = await asyncio.gather(claim(db, wid, fresh, 2), claim(db, wid, due, 2), return_exceptions=True)
        stored = {d["_id"]: d async for d in db.compute_nodes.find({"_id": {"$in": [fresh, due]}})}
        return fresh, due, now, kept, stamp, won, stored

    fresh, due, now, kept, stamp, won, stored = run(mongo_uri, scenario)
    assert [len(jobs) for jobs in won] == [2, 2], won
    assert stored[fresh]["lease_until"] == kept and stored[fresh]["lease_expires_at"] == stamp
    assert now + LEASE <= stored[due]["lease_until"] <= time.time() + LEASE
    assert [stored[nid]["last_claim"]["request_id"] for nid in (fresh, due)] == [f"r{fresh}-2", f"r{due}-2"]


@pytest.mark.parametrize("due,request_id", [(True, True), (False, True), (False, False)])
def test_a_node_stopped_after_its_exchange_arrived_is_refused_by_the_transaction_and_the_others_are_served(
        mongo_uri, monkeypatch, due, request_id) -> None:  # fmt: skip
    """A runner's exchange reads its node on arrival and finds its lease due (not running out), or not due; the node
    then stops (or a lease check expires it) before the exchange's transaction runs. The transaction's write to the
    node (the renewal, the claim's token, or the token cleared by a claim without a request id) finds no live node:
    that exchange is refused and takes no job, and an exchange of another runner in the same group is served as if it
    had come alone."""
    import msgspec

    from tests.storage.test_group_commit import _claim

    arrived = expiry.renew_together

    async def claim(db, wid, nid, limit, with_id=True):
        req = _claim(nid, limit) if with_id else msgspec.structs.replace(_claim(nid, limit), request_id=None)
        return (await claims.claim(db, wid, req, LEASE)).jobs

    async def scenario(db: Database):
        wid = await workflow(db, n_jobs=4)
        other, doomed = await node(db, wid), await node(db, wid, hostname="doomed")
        until = time.time() + (expiry.RENEW_ON_ARRIVAL_LEFT if due else expiry.RENEW_WHEN_LEFT) * LEASE + 5
        await db.compute_nodes.update_one({"_id": doomed}, {"$set": {"lease_until": until}})

        async def arrive_then_stop(db, node_id, lease_seconds, wid):
            doc = await arrived(db, node_id, lease_seconds, wid)
            if node_id == doomed:
                await db.compute_nodes.update_one({"_id": doomed}, {"$set": {"is_active": False}})
            return doc

        monkeypatch.setattr(expiry, "renew_together", arrive_then_stop)
        answers = await asyncio.gather(claim(db, wid, other, 2), claim(db, wid, doomed, 2, request_id),
                                       return_exceptions=True)
        held = {d["_id"]: d.get("active_compute_node_id") async for d in db.jobs.find({"workflow_id": wid})}
        return other, doomed, until, answers, held, await db.compute_nodes.find_one({"_id": doomed})

    other, doomed, until, (served, refused), held, stored = run(mongo_uri, scenario)
    assert isinstance(refused, LeaseExpired) and f"compute node {doomed} is no longer active" in str(refused)
    assert len(served) == 2 and sorted(j.id for j in served) == sorted(j for j, n in held.items() if n == other)
    assert doomed not in held.values() and stored["lease_until"] == until  # not renewed


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


def test_a_group_writes_each_node_once_for_its_claim_token_and_its_due_lease(mongo_uri, monkeypatch) -> None:
    """Exchanges whose leases are due and whose claims keep their tokens write their nodes with one update command a
    transaction (`node_writes`): each node gets its renewed lease and its claim's token from one statement."""
    from pymongo.asynchronous.collection import AsyncCollection

    from tests.storage.test_group_commit import _claim

    writes = []
    bulk_write = AsyncCollection.bulk_write

    async def counted(self, requests, *args, **kwargs):
        if self.name == "compute_nodes":
            writes.append(len(requests))
        return await bulk_write(self, requests, *args, **kwargs)

    async def scenario(db: Database):
        wid = await workflow(db, n_jobs=20)
        ids = [await node(db, wid, hostname=f"h{i}") for i in range(5)]
        due = time.time() + expiry.RENEW_ON_ARRIVAL_LEFT * LEASE + 5
        await db.compute_nodes.update_many({"_id": {"$in": ids}}, {"$set": {"lease_until": due}})
        before, groups = time.time(), db.groups_run
        monkeypatch.setattr(AsyncCollection, "bulk_write", counted)
        try:  # every claim ends before the database is dropped, whatever one of them raises
            answers = await asyncio.gather(*(claims.claim(db, wid, _claim(nid, 2), LEASE) for nid in ids),
                                           return_exceptions=True)  # fmt: skip
        finally:
            monkeypatch.setattr(AsyncCollection, "bulk_write", bulk_write)
        stored = {d["_id"]: d async for d in db.compute_nodes.find({"_id": {"$in": ids}})}
        return ids, before, db.groups_run - groups, answers, stored

    ids, before, groups, answers, stored = run(mongo_uri, scenario)
    assert [len(a.jobs) for a in answers] == [2] * 5, answers
    for nid in ids:
        assert before + LEASE <= stored[nid]["lease_until"] <= time.time() + LEASE
        assert stored[nid]["last_claim"]["request_id"] == f"r{nid}-2"
    assert len(writes) == groups < 5 and sum(writes) == 5  # a statement a node, a command a transaction


def test_a_transaction_writing_a_stopped_node_names_it_and_writes_nothing(mongo_uri) -> None:
    """`node_writes` writes only live nodes: when one of the nodes a transaction writes has stopped, the transaction
    fails, naming that node (not the first it writes), and no node's lease or token is written."""
    from api.storage import node_writes

    async def scenario(db: Database):
        wid = await workflow(db)
        await node(db, wid, hostname="unused")  # the others' ids are not the first
        live, stopped = await node(db, wid), await node(db, wid, hostname="stopped")
        await db.compute_nodes.update_one({"_id": stopped}, {"$set": {"is_active": False}})
        before = {d["_id"]: d async for d in db.compute_nodes.find({"_id": {"$in": [live, stopped]}})}

        async def body(db: Database) -> None:
            node_writes.renew(db, wid, live, 10 * LEASE)
            for nid in (live, stopped):  # the stopped node only gets a claim's token: it is refused all the same
                node_writes.set_fields(db, wid, nid, {"last_claim": {"request_id": "r", "token": "t"}})

        try:
            await db.atomic(wid, body)
        except LeaseExpired as error:
            refused = error
        else:
            refused = None
        after = {d["_id"]: d async for d in db.compute_nodes.find({"_id": {"$in": [live, stopped]}})}
        return stopped, refused, before, after

    stopped, refused, before, after = run(mongo_uri, scenario)
    assert refused is not None and str(refused).startswith(f"compute node {stopped} is no longer active")
    assert after == before
