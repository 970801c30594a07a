"""Compute nodes and their leases (api.storage.leases) on the real embedded database, in this process (no API
server, so `make mutation` sees the code these tests run)."""

from __future__ import annotations

import time

import pytest

from api.storage import (
    claims,
    create,
    expiry,
    initialize,
    leases,
    transitions,
    workflows,
)
from api.storage.db import Database
from tests.storage.test_storage import run
from torc_client import contract as c
from torc_client.core.errors import InvalidRequest, NotFound
from torc_client.core.settings import DEFAULT_MAX_LEASE_RETRIES
from torc_client.spec import build_plan

LEASE = 30.0




async def workflow(db: Database, n_jobs: int = 2) -> int:
    spec = {"name": "w", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{n_jobs}"}}]}
    wid = (await create.create_from_plan(db, build_plan(spec), "tester", None)).id
    await initialize.initialize(db, wid)
    return wid


async def node(db: Database, wid: int, hostname: str = "host", **resources) -> int:
    made = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname=hostname, pid=1,
                                                         **{"num_cpus": 8, "memory_gb": 8.0, **resources}), LEASE)
    return made.id


async def claim(db: Database, wid: int, node_id: int, limit: int) -> list[c.ClaimedJob]:
    answer = await claims.claim(db, wid, c.ClaimRequest(compute_node_id=node_id, limit=limit, num_cpus=8,
                                                        memory_gb=8.0), LEASE)  # fmt: skip
    return answer.jobs


async def lapse(db: Database, node_id: int) -> None:
    """The node's lease ran out a second ago."""
    await db.compute_nodes.update_one({"_id": node_id}, {"$set": {"lease_until": time.time() - 1}})


async def lapsed_holding_one(db: Database, lease_check_at: float) -> tuple[int, int, c.ClaimedJob]:
    """A workflow whose one runner holds one job and let its lease lapse, its leases last checked at
    `lease_check_at`: (workflow id, compute node id, the job)."""
    wid = await workflow(db)
    nid = await node(db, wid)
    (job,) = await claim(db, wid, nid, 1)
    await lapse(db, nid)
    await db.workflows.update_one({"_id": wid}, {"$set": {"lease_check_at": lease_check_at}})
    return wid, nid, job


async def checked(db: Database, wid: int, ago: float) -> dict:
    """The workflow's leases were last checked `ago` seconds ago, and a check is due now."""
    await db.workflows.update_one({"_id": wid}, {"$set": {"lease_check_at": time.time() - ago}})
    return await workflows.get_doc(db, wid)


async def jobs(db: Database, wid: int) -> dict[int, tuple]:
    return {d["_id"]: (d["status"], d.get("lease_losses", 0), d["active_compute_node_id"])
            async for d in db.jobs.find({"workflow_id": wid})}  # fmt: skip


async def node_events(db: Database, wid: int) -> list[tuple[str, dict]]:
    return [(e["message"], e["data"]) async for e in db.events.find({"workflow_id": wid, "category": "compute_node"})
            .sort("seq", 1)]  # fmt: skip


@pytest.mark.parametrize(("field", "value", "least"), [
    ("num_cpus", 0, 1), ("memory_gb", -0.5, 0), ("num_gpus", -1, 0), ("num_nodes", 0, 1)])  # fmt: skip
def test_register_refuses_a_node_with_less_than_the_least_of_a_resource(mongo_uri, field, value, least) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        with pytest.raises(InvalidRequest) as refused:
            await node(db, wid, **{field: value})
        return str(refused.value), await db.compute_nodes.count_documents({})

    message, stored = run(mongo_uri, scenario)
    assert message == f"a compute node's {field} must be at least {least}, got {value}"
    assert stored == 0


@pytest.mark.parametrize("hostname", ["", "   ", "node\n1"])
def test_register_refuses_an_empty_or_unprintable_hostname(mongo_uri, hostname) -> None:
    async def scenario(db: Database):
        with pytest.raises(InvalidRequest) as refused:
            await node(db, await workflow(db), hostname=hostname)
        return str(refused.value)

    assert run(mongo_uri, scenario) == (f"a compute node's hostname must be printable and not empty, "
                                        f"got {hostname!r}")  # fmt: skip


def test_register_stores_an_active_node_with_a_full_lease_and_records_its_start(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        before = time.time()
        made = await leases.register(db, c.ComputeNodeCreate(workflow_id=wid, hostname="h1", pid=7, num_cpus=1,
                                                             memory_gb=0.0, num_gpus=0, num_nodes=1), LEASE)
        with pytest.raises(NotFound):
            await leases.register(db, c.ComputeNodeCreate(workflow_id=wid + 1000, hostname="h", pid=1), LEASE)
        return wid, before, made, await db.compute_nodes.find_one({"_id": made.id}), await node_events(db, wid)

    wid, before, made, doc, events = run(mongo_uri, scenario)
    assert (made.workflow_id, made.hostname, made.pid, made.num_cpus) == (wid, "h1", 7, 1)
    assert (doc["is_active"], doc["duration_seconds"], doc["hostname"], doc["pid"]) == (True, None, "h1", 7)
    assert before + LEASE <= doc["lease_until"] <= time.time() + LEASE
    assert before <= doc["started_at"] <= time.time() and doc["start_time"]
    assert doc["lease_expires_at"] == made.lease_expires_at and doc["lease_expires_at"] > doc["start_time"]
    assert events == [(f"compute node {made.id} started on h1", {"compute_node_id": made.id})]


def test_deactivate_puts_held_jobs_back_counting_a_lost_lease_only_for_started_ones(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 4)
        other, nid = await node(db, wid, hostname="other"), await node(db, wid)
        mine = await claim(db, wid, nid, 2)
        (theirs,) = await claim(db, wid, other, 1)
        await transitions.start(db, wid, nid, [(mine[1].id, mine[1].claim_token)])
        record = await leases.deactivate(db, nid)
        doc = await db.compute_nodes.find_one({"_id": nid})
        requeued = [e["message"] async for e in db.events.find({"workflow_id": wid}).sort("seq", 1)
                    if "requeued" in e["message"]]  # fmt: skip
        return (nid, other, [j.id for j in mine], theirs.id, record, doc, await jobs(db, wid), await node_events(db, wid),
                requeued)  # fmt: skip

    nid, other, (unstarted, started), theirs, record, doc, states, events, requeued = run(mongo_uri, scenario)
    assert states[unstarted] == ("ready", 0, None) and states[started] == ("ready", 1, None)
    assert states[theirs] == ("pending", 0, other)
    assert (record.id, record.is_active, doc["is_active"]) == (nid, False, False)
    assert 0 <= doc["duration_seconds"] < 30 and record.duration_seconds == doc["duration_seconds"]
    assert events[-1] == (f"compute node {nid} stopped", {"compute_node_id": nid})
    assert requeued == [f"1 job requeued: compute node {nid} stopped while holding them"] * 2


def test_expire_due_expires_only_lapsed_nodes_and_only_when_the_check_is_due(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 3)
        dead, alive = await node(db, wid, hostname="gone"), await node(db, wid)
        lost, kept = (await claim(db, wid, dead, 2)), (await claim(db, wid, alive, 1))
        await lapse(db, dead)
        wf = await checked(db, wid, LEASE / 2)
        await db.workflows.update_one({"_id": wid}, {"$set": {"lease_check_at": time.time() + 60}})
        await expiry.expire_due(db, await workflows.get_doc(db, wid), LEASE)  # not due yet
        not_yet = await jobs(db, wid)
        await expiry.expire_due(db, wf, LEASE)  # a stale read of the workflow: another request took this turn
        stale = await jobs(db, wid)
        await checked(db, wid, LEASE / 2)
        started = time.time()
        await expiry.expire_due(db, await workflows.get_doc(db, wid), LEASE)
        next_check = (await workflows.get_doc(db, wid))["lease_check_at"]
        docs = {d["_id"]: d async for d in db.compute_nodes.find({"workflow_id": wid})}
        requeued = [e["message"] async for e in db.events.find({"workflow_id": wid}) if "requeued:" in e["message"]]
        return ((dead, alive), [j.id for j in lost], kept[0].id, not_yet, stale, await jobs(db, wid), docs,
                await node_events(db, wid), next_check - started, requeued)  # fmt: skip

    (dead, alive), lost, kept, not_yet, stale, states, docs, events, interval, requeued = run(mongo_uri, scenario)
    assert requeued == [f"2 jobs requeued: compute node {dead} on gone stopped renewing its lease"]
    assert not_yet == stale and all(not_yet[j] == ("pending", 0, dead) for j in lost)
    assert [states[j] for j in lost] == [("ready", 1, None)] * 2 and states[kept] == ("pending", 0, alive)
    assert (docs[dead]["is_active"], docs[dead]["expired"]) == (False, True) and docs[dead]["duration_seconds"] >= 0
    assert (docs[alive]["is_active"], docs[alive].get("expired")) == (True, None)
    assert events[-1] == (f"compute node {dead} on gone stopped renewing its lease; 2 jobs requeued, 0 failed",
                          {"compute_node_id": dead})  # fmt: skip
    assert LEASE / 4 <= interval <= LEASE / 4 + 1  # the next check is due a quarter lease later


def test_a_short_lease_is_checked_at_most_every_half_second(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        await checked(db, wid, 0.1)
        started = time.time()
        await expiry.expire_due(db, await workflows.get_doc(db, wid), 1.0)
        return (await workflows.get_doc(db, wid))["lease_check_at"] - started

    assert 0.5 <= run(mongo_uri, scenario) <= 1.0


def test_after_a_gap_in_checks_every_active_node_gets_a_full_lease_instead_of_expiring(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db)
        nid = await node(db, wid)
        stopped = await node(db, wid)
        await leases.deactivate(db, stopped)
        (job,) = await claim(db, wid, nid, 1)
        await lapse(db, nid)
        await db.compute_nodes.update_one({"_id": stopped}, {"$set": {"lease_until": 5.0}})
        before = time.time()
        await expiry.expire_due(db, await checked(db, wid, 100.0), LEASE)
        docs = {d["_id"]: d async for d in db.compute_nodes.find({"workflow_id": wid})}
        return nid, stopped, job.id, before, docs, await jobs(db, wid), await node_events(db, wid)

    nid, stopped, jid, before, docs, states, events = run(mongo_uri, scenario)
    assert docs[nid]["is_active"] and before + LEASE <= docs[nid]["lease_until"] <= time.time() + LEASE
    assert docs[nid]["lease_expires_at"] > docs[nid]["start_time"]
    assert docs[stopped]["lease_until"] == 5.0  # inactive nodes are not renewed
    assert states[jid] == ("pending", 0, nid)
    assert events[-1] == ("lease checks resume after 100 s: every active runner has 30 s to check in", {})


def test_the_first_lease_check_of_a_workflow_expires_lapsed_nodes_at_once(mongo_uri) -> None:
    async def scenario(db: Database):
        wid, nid, job = await lapsed_holding_one(db, 0.0)
        await expiry.expire_due(db, await workflows.get_doc(db, wid), LEASE)
        return job.id, await jobs(db, wid)

    jid, states = run(mongo_uri, scenario)
    assert states[jid] == ("ready", 1, None)


def test_a_job_out_of_lease_losses_fails_as_orphaned_and_in_a_canceled_workflow_is_terminated(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 3)
        nid = await node(db, wid)
        worn, fresh, last = await claim(db, wid, nid, 3)
        await db.jobs.update_one({"_id": worn.id}, {"$set": {"lease_losses": DEFAULT_MAX_LEASE_RETRIES - 1}})
        await db.jobs.update_one({"_id": last.id}, {"$set": {"lease_losses": DEFAULT_MAX_LEASE_RETRIES}})
        await lapse(db, nid)
        await expiry.expire_due(db, await checked(db, wid, 1.0), LEASE)
        first = await jobs(db, wid)
        # The same again in a canceled workflow: the job is terminated, however few leases it lost.
        other = await node(db, wid)
        (again,) = await claim(db, wid, other, 1)
        await db.workflows.update_one({"_id": wid}, {"$set": {"is_canceled": True}})
        await lapse(db, other)
        await expiry.expire_due(db, await checked(db, wid, 1.0), LEASE)
        results = {r["job_id"]: (r["return_code"], r["status"]) async for r in db.results.find({"workflow_id": wid})}
        names = {d["_id"]: d["name"] async for d in db.jobs.find({"workflow_id": wid})}
        ended = [(e["message"], [names[j] for j in e["data"]["job_ids"]]) async for e in db.events.find({"workflow_id": wid}).sort("seq", 1)
                 if e["message"].startswith("1 job failed") or e["message"].startswith("1 job terminated")]  # fmt: skip
        return ((worn.id, fresh.id, last.id, again.id, nid, other), first, await jobs(db, wid), results,
                await node_events(db, wid), ended, names)  # fmt: skip

    (worn, fresh, last, again, nid, other), first, states, results, events, ended, names = run(mongo_uri, scenario)
    assert ended == [(f"1 job failed: {names[last]} (compute node {nid} on host stopped renewing its lease)",
                      [names[last]]),
                     (f"1 job terminated: {names[again]} (compute node {other} on host stopped renewing its lease)",
                      [names[again]])]  # fmt: skip
    assert first[worn] == ("ready", DEFAULT_MAX_LEASE_RETRIES, None)
    assert first[fresh] == ("ready", 1, None)
    assert first[last][0] == "failed"
    assert states[again][0] == "terminated"
    assert results == {last: (expiry.ORPHANED_RETURN_CODE, "failed"), again: (expiry.ORPHANED_RETURN_CODE, "terminated")}
    assert events[-3][0].endswith("stopped renewing its lease; 2 jobs requeued, 1 failed")
    assert events[-1][0].endswith("stopped renewing its lease; 0 jobs requeued, 1 failed")


def test_held_by_lists_only_the_leased_jobs_of_that_node(mongo_uri) -> None:
    async def scenario(db: Database):
        wid = await workflow(db, 4)
        nid, other = await node(db, wid), await node(db, wid)
        a, b = await claim(db, wid, nid, 2)
        await claim(db, wid, other, 1)
        await transitions.start(db, wid, nid, [(b.id, b.claim_token)])
        held = await leases.held_by(db, await db.compute_nodes.find_one({"_id": nid}))
        await transitions.finish(db, wid, [(a.id, a.claim_token, "completed")], nid)
        after = await leases.held_by(db, await db.compute_nodes.find_one({"_id": nid}))
        return (a.id, b.id), [(d["_id"], d["status"]) for d in held], [d["_id"] for d in after]

    (a, b), held, after = run(mongo_uri, scenario)
    assert sorted(held) == [(a, "pending"), (b, "running")]
    assert after == [b]


def test_now_since_is_the_time_since_the_node_started_and_zero_without_a_start() -> None:
    assert 9.5 <= leases.now_since({"started_at": time.time() - 10}) <= 11
    assert abs(leases.now_since({})) < 1
