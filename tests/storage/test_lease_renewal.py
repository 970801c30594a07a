"""Renewing a compute node's lease (api.storage.expiry): in time, too late, never shorter, and by heartbeat; on the
real embedded database, in this process (no API server, so `make mutation` sees the code these tests run)."""

from __future__ import annotations

import time

import pytest

from api.storage import expiry, leases
from api.storage.db import Database
from tests.storage.test_leases import LEASE, checked, claim, jobs, lapse, lapsed_holding_one, node, workflow
from tests.storage.test_storage import run
from torc_client.core.errors import Conflict, LeaseExpired, NotFound


def test_a_renewal_in_time_extends_the_lease_by_a_full_lease(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        await db.compute_nodes.update_one({"_id": nid}, {"$set": {"lease_until": time.time() + 1}})
        before = time.time()
        renewed = await expiry.renew(db, nid, LEASE)
        return before, renewed, await db.compute_nodes.find_one({"_id": nid})

    before, renewed, doc = run(mongo_uri, scenario)
    assert before + LEASE <= renewed["lease_until"] == doc["lease_until"] <= time.time() + LEASE
    assert renewed["lease_expires_at"] == doc["lease_expires_at"] and renewed["is_active"]


def test_a_renewal_never_shortens_a_longer_lease(mongo_uri) -> None:
    """A paced runner's claim leases it for several paces; a renewal with the server's lease (a Torc client's record
    update) arriving next must leave that lease as it is, or the runner could lose its jobs before its next claim."""

    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        paced = await expiry.renew(db, nid, 10 * LEASE)
        plain = await expiry.renew(db, nid, LEASE)
        together = await expiry.renew_together(db, nid, LEASE, wid)
        return paced, plain, together, await db.compute_nodes.find_one({"_id": nid})

    paced, plain, together, doc = run(mongo_uri, scenario)
    assert paced["lease_until"] > time.time() + 9 * LEASE
    for renewed in (plain, together, doc):
        assert (renewed["lease_until"], renewed["lease_expires_at"]) == (paced["lease_until"], paced["lease_expires_at"])


def test_a_lease_that_ran_out_while_leases_were_checked_is_expired_on_renewal(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, nid, job = await lapsed_holding_one(db, time.time() - LEASE / 2)
        with pytest.raises(LeaseExpired) as refused:
            await expiry.renew(db, nid, LEASE)
        again = None
        try:
            await expiry.renew(db, nid, LEASE)
        except LeaseExpired as error:
            again = error
        return nid, job.id, str(refused.value), again, await db.compute_nodes.find_one({"_id": nid}), await jobs(db, wid)

    nid, jid, message, again, doc, states = run(mongo_uri, scenario)
    assert message == (f"compute node {nid} is no longer active (its lease expired or it stopped); its jobs were "
                       "handed to other runners: register a new compute node to continue")
    assert again is not None  # an inactive node stays refused
    assert (doc["is_active"], doc["expired"]) == (False, True)
    assert states[jid] == ("ready", 1, None)


def test_a_lease_that_ran_out_while_nobody_checked_is_renewed(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, nid, job = await lapsed_holding_one(db, time.time() - 3 * LEASE)
        before = time.time()
        renewed = await expiry.renew(db, nid, LEASE)
        return before, job.id, nid, renewed, await jobs(db, wid)

    before, jid, nid, renewed, states = run(mongo_uri, scenario)
    assert renewed["_id"] == nid and renewed["is_active"]
    assert before + LEASE <= renewed["lease_until"] <= time.time() + LEASE
    assert states[jid] == ("pending", 0, nid)


def test_renew_of_an_unknown_node_is_not_found_and_of_a_stopped_one_is_refused(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        await leases.deactivate(db, nid)
        with pytest.raises(NotFound) as missing:
            await expiry.renew(db, nid + 1000, LEASE)
        with pytest.raises(LeaseExpired):
            await expiry.renew(db, nid, LEASE)
        with pytest.raises(NotFound) as gone:
            await leases.deactivate(db, nid + 1000)
        return str(missing.value), str(gone.value), nid

    message, gone, nid = run(mongo_uri, scenario)
    assert message == gone == f"compute_node {nid + 1000} does not exist"


def test_a_node_reports_only_through_its_own_workflow(mongo_uri) -> None:
    async def scenario(db: Database):
        mine, other = await workflow(db), await workflow(db)
        nid = await node(db, mine)
        found = await leases.reporting_node(db, mine, nid)
        with pytest.raises(Conflict) as refused:
            await leases.reporting_node(db, other, nid)
        with pytest.raises(NotFound) as missing:
            await leases.reporting_node(db, mine, nid + 1000)
        return mine, other, nid, found, str(refused.value), str(missing.value)

    mine, other, nid, found, message, missing = run(mongo_uri, scenario)
    assert missing == f"compute_node {nid + 1000} does not exist"
    assert found == {"_id": nid, "workflow_id": mine}
    assert message == f"compute node {nid} belongs to workflow {mine}, not {other}: report through its own workflow"


def test_a_claim_naming_another_workflows_node_is_refused_without_renewing_its_lease(mongo_uri) -> None:
    async def scenario(db: Database):
        mine, other = await workflow(db), await workflow(db)
        nid = await node(db, mine)
        await db.compute_nodes.update_one({"_id": nid}, {"$set": {"lease_until": time.time() + 5}})
        before = (await db.compute_nodes.find_one({"_id": nid}))["lease_until"]
        with pytest.raises(Conflict) as refused:
            await claim(db, other, nid, 1)
        return nid, mine, other, before, (await db.compute_nodes.find_one({"_id": nid}))["lease_until"], refused.value

    nid, mine, other, before, after, refused = run(mongo_uri, scenario)
    assert str(refused) == f"compute node {nid} belongs to workflow {mine}, not {other}: report through its own workflow"
    assert after == before  # a dead runner's jobs still go back to the queue when its lease runs out


def test_a_heartbeat_renews_the_lease_says_whether_to_stop_and_expires_dead_nodes_when_due(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        alive, dead = await node(db, wid), await node(db, wid)
        (job,) = await claim(db, wid, dead, 1)
        await lapse(db, dead)
        await checked(db, wid, LEASE / 2)
        beat = await expiry.heartbeat(db, alive, LEASE)
        await db.workflows.update_one({"_id": wid}, {"$set": {"is_canceled": True}})
        canceled = await expiry.heartbeat(db, alive, 3 * LEASE)
        return alive, dead, job.id, beat, canceled, await db.compute_nodes.find_one({"_id": alive}), await jobs(db, wid)

    alive, dead, jid, beat, canceled, doc, states = run(mongo_uri, scenario)
    assert (beat.compute_node_id, beat.lease_seconds, beat.is_active, beat.is_canceled) == (alive, LEASE, True, False)
    assert (canceled.lease_seconds, canceled.is_canceled) == (3 * LEASE, True)
    assert canceled.lease_expires_at == doc["lease_expires_at"] > beat.lease_expires_at
    assert states[jid] == ("ready", 1, None)  # the dead node's job, requeued by the first heartbeat's check
