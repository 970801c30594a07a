"""Leases kept and leases lost: renewal, heartbeats, and the jobs of a runner that stopped renewing going
back to the queue, exactly once.

There is no timer in the API: whichever request first finds a workflow's lease check due
(`workflows.take_turn`) looks for nodes whose lease ran out, puts their pending and running jobs back
in the queue exactly once, and marks the nodes inactive. A job whose runners keep dying fails after
`DEFAULT_MAX_LEASE_RETRIES` losses, with return code -128 (Torc's "orphaned"); these losses never count
against the job's own retry budget.
"""

from __future__ import annotations

import time
from typing import Any


from pymongo import UpdateMany

from api.storage import completion, leases, node_writes, transitions, workflows
from api.storage.db import Database, chunks
from api.storage.workflows import Event
from torc_client.contract import Heartbeat
from torc_client.core import states
from torc_client.core.errors import NotFound
from torc_client.core.settings import DEFAULT_MAX_LEASE_RETRIES
from torc_client.core.units import count

S = states.JobStatus
ORPHANED_RETURN_CODE = -128
#: A runner's exchange renews its lease only once less than this part of the lease asked for is left to run.
RENEW_WHEN_LEFT = 0.75
#: With less than this part left, the exchange renews on arrival, before it waits its turn at the server; with more
#: (but less than `RENEW_WHEN_LEFT`), inside its transaction (`renew_in_transaction`).
RENEW_ON_ARRIVAL_LEFT = 0.5


async def renew(db: Database, node_id: int, lease_seconds: float, wid: int | None = None) -> dict[str, Any]:
    """Extend an active node's lease; a node whose lease already expired must not carry on.

    With `wid`, only a node of that workflow is renewed: a claim naming another workflow's node
    is refused (409) without touching that node's lease.

    A lease that ran out while the server was checking leases is over, even if no check
    has got round to it yet: the node is expired on the spot. One that ran out while
    nobody checked (the server was down) is renewed: see `expire_due`.
    """
    now = time.time()
    own = {} if wid is None else {"workflow_id": wid}
    doc = await db.update_and_read("compute_nodes", {"_id": node_id, **own, "is_active": True,
                                                     "lease_until": {"$gte": now}}, leases.extended(now, lease_seconds))
    if doc is not None:
        return doc
    doc = await db.compute_nodes.find_one({"_id": node_id})
    if doc is None:
        raise NotFound("compute_node", node_id)
    if wid is not None:
        leases.check_member(doc, wid)
    if doc["is_active"]:
        wf = await workflows.get_doc(db, doc["workflow_id"])
        if leases.checks_ran(wf, now, lease_seconds):
            await _expire(db, wf, doc)
        else:
            renewed = await db.update_and_read("compute_nodes", {"_id": node_id, "is_active": True},
                                               leases.extended(now, lease_seconds))
            if renewed is not None:
                return renewed
    raise leases.lost(node_id)


async def renew_together(db: Database, node_id: int, lease_seconds: float, wid: int) -> dict[str, Any]:
    """`renew` for a runner's exchange on arrival: read together with the exchanges of the workflow arriving
    meanwhile, one read for all of them and one update for those whose lease is running out (`batches`); a node that
    batch did not renew is renewed, or refused, alone. A lease that is due but not running out is renewed later, by
    the exchange's transaction (`renew_in_transaction`)."""
    doc = await db.batches.together(db, ("renew", wid), (node_id, wid, lease_seconds), _renew_all)
    return doc if doc is not None else await renew(db, node_id, lease_seconds, wid)


async def _renew_all(db: Database, items: list[tuple[int, int, float]]) -> list[dict[str, Any] | None]:
    """Renew the running-out leases of nodes of one workflow, each item (node, workflow, lease) at once; each node's
    document when its lease lasts at least `RENEW_ON_ARRIVAL_LEFT` of a lease now, else None (gone, of another
    workflow, inactive or expired: `renew` says which).

    Only a lease with less than `RENEW_ON_ARRIVAL_LEFT` of it left is written here, before the exchange waits its
    turn, so that a request queued at the server cannot lose its runner the lease. One with more left is read and
    left as it is: if it is due (`RENEW_WHEN_LEFT`), the exchange's transaction renews it, in an update of the node
    it makes anyway. Written here, outside the transaction, each renewal was a command of its own, and cost the
    embedded database four times what a statement in the transaction costs: a tenth of its time per job in a
    1,000-runner fleet."""
    wid = items[0][1]
    lease_seconds = max(lease for _, _, lease in items)  # leases grow with the server's pace: none is shortened
    ids = sorted({node_id for node_id, _, _ in items})
    now = time.time()
    lasting = now + RENEW_ON_ARRIVAL_LEFT * lease_seconds
    docs = {d["_id"]: d for d in await workflows.find_by_ids(db.compute_nodes, ids)}
    due = [node_id for node_id in ids if not _live(docs.get(node_id), wid, lasting)]
    alive = [node_id for node_id in due if _live(docs.get(node_id), wid, now)]
    if alive:
        live = leases.live(wid, now)
        done = await db.compute_nodes.bulk_write([UpdateMany({"_id": {"$in": part}, **live}, leases.extended(
            now, lease_seconds)) for part in chunks(alive)], ordered=False)  # fmt: skip
        if done.matched_count == len(alive):  # each as read, renewed: no need to read it back
            docs.update((node_id, leases.as_extended(docs[node_id], now, lease_seconds)) for node_id in alive)
        else:  # one changed meanwhile (stopped, or expired by a lease check)
            docs.update((d["_id"], d) for d in await workflows.find_by_ids(db.compute_nodes, alive))
    return [docs[node_id] if _live(docs.get(node_id), wid, lasting) else None for node_id, _, _ in items]


def renew_in_transaction(db: Database, wid: int, nodes: list[tuple[dict[str, Any], float]]) -> None:
    """Renew, in an exchange's transaction, the leases that are due but were not running out on arrival: each item is
    a node document as `renew_together` answered it and the lease to give it. The renewals are written with the
    transaction's other writes to its nodes (`node_writes`), a statement a node. A node that stopped or was expired
    since its exchange arrived fails the transaction; in a group of exchanges that fails the group, whose exchanges
    are then served one by one (`Database.atomic`), so the refusal reaches that runner alone."""
    now = time.time()
    for node, lease_seconds in nodes:
        if node["lease_until"] < now + RENEW_WHEN_LEFT * lease_seconds:
            node_writes.renew(db, wid, node["_id"], lease_seconds)


def _live(doc: dict[str, Any] | None, wid: int, until: float) -> bool:
    """Whether a node document is of workflow `wid`, active, and leased until `until` at least."""
    return doc is not None and doc["workflow_id"] == wid and doc["is_active"] and doc["lease_until"] >= until


async def heartbeat(db: Database, node_id: int, lease_seconds: float) -> Heartbeat:
    doc = await renew(db, node_id, lease_seconds)
    wf = await workflows.get_doc(db, doc["workflow_id"])
    await expire_due(db, wf, lease_seconds)
    return Heartbeat(compute_node_id=node_id, lease_expires_at=doc["lease_expires_at"], lease_seconds=lease_seconds,
                     is_active=True, is_canceled=wf["is_canceled"])  # fmt: skip


async def expire_due(db: Database, wf: dict[str, Any], lease_seconds: float) -> None:
    """If this workflow's lease check is due and this request wins it, expire dead nodes.

    After a time in which nobody checked (the API was down, so no runner could renew),
    leases that ran out meanwhile say nothing about which runners are alive: every active
    node first gets a full lease to check in, so live runners keep their jobs whatever
    order their requests arrive in, and the dead expire one lease later.
    """
    checked_before = wf.get("lease_check_at", 0.0)
    if not await workflows.take_turn(db, wf, "lease_check_at", max(0.5, lease_seconds / 4)):
        return
    now = time.time()
    if checked_before and not leases.checks_ran({"lease_check_at": checked_before}, now, lease_seconds):
        await db.compute_nodes.update_many({"workflow_id": wf["_id"], "is_active": True, "lease_until": {"$lt": now}},
                                           leases.extended(now, lease_seconds))  # fmt: skip
        await workflows.record(db, wf["_id"], {}, [Event("compute_node", f"lease checks resume after "
                                                         f"{now - checked_before:.0f} s: every active runner has "
                                                         f"{lease_seconds:.0f} s to check in")])  # fmt: skip
        return
    async for node in db.compute_nodes.find({"workflow_id": wf["_id"], "is_active": True, "lease_until": {"$lt": now}}):
        await _expire(db, wf, node)


async def _expire(db: Database, wf: dict[str, Any], node: dict[str, Any]) -> None:
    wid = wf["_id"]
    mine = await leases.held_by(db, node)
    reason = f"compute node {node['_id']} on {node['hostname']} stopped renewing its lease"
    exhausted = [d for d in mine if d.get("lease_losses", 0) + 1 > DEFAULT_MAX_LEASE_RETRIES or wf["is_canceled"]]
    retry = [d for d in mine if d not in exhausted]
    await transitions.requeue(db, wid, retry, reason)
    if exhausted:
        await _fail_orphans(db, wf, exhausted, reason)
    await db.compute_nodes.update_one({"_id": node["_id"]}, {"$set": {
        "is_active": False, "expired": True, "duration_seconds": leases.now_since(node)}})  # fmt: skip
    await workflows.record(db, wid, {}, [Event("compute_node", f"{reason}; {count(len(retry), 'job')} requeued, "
                                               f"{len(exhausted)} failed", compute_node_id=node["_id"])])  # fmt: skip


async def _fail_orphans(db: Database, wf: dict[str, Any], docs: list[dict[str, Any]], reason: str) -> None:
    """Jobs out of lease retries (or in a canceled workflow) end with Torc's orphan return code."""
    outcomes = [completion.Outcome(doc["_id"], doc["claim_token"], S.TERMINATED if wf["is_canceled"] else S.FAILED,
                                   ORPHANED_RETURN_CODE) for doc in docs]  # fmt: skip
    await completion.complete_outcomes(db, wf["_id"], None, outcomes, reason=reason)
