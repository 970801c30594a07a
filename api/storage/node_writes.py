"""A transaction's writes to compute nodes, gathered and made with one update just before it commits.

A group of runners' exchanges (`claims.serve_exchanges`) writes each runner's node for two
reasons: the claim's token, kept so that a repeated request finds its jobs again, and the
lease, when it is due. Made as they arise, a node due for both is written twice, by two
commands. Gathered here, each node gets one statement, and the group one command, which the
embedded database serves at a fraction of the cost of separate ones. The transaction makes
them atomic with everything else it does, so when they are written within it changes
nothing. Each statement also checks that its node is still live, at no cost of its own: a
runner whose node stopped since its exchange arrived takes no job.
"""

from __future__ import annotations

import time
from typing import Any

from pymongo import UpdateOne

from api.storage import leases
from api.storage.db import Database

_KEY = "compute_nodes"


def set_fields(db: Database, wid: int, node_id: int, fields: dict[str, Any]) -> None:
    """Set `fields` on node `node_id` when the transaction commits (see `flush`)."""
    _node(db, wid, node_id)["set"].update(fields)


def renew(db: Database, wid: int, node_id: int, lease_seconds: float) -> None:
    """Renew node `node_id`'s lease by `lease_seconds` when the transaction commits (see `flush`)."""
    mine = _node(db, wid, node_id)
    mine["lease"] = max(lease_seconds, mine["lease"] or 0.0)


def _node(db: Database, wid: int, node_id: int) -> dict[str, Any]:
    assert db.session is not None and db.tally is not None, "compute nodes are written this way only in db.atomic"
    key = (_KEY, wid)
    nodes = db.tally.get(key)
    if nodes is None:
        nodes = db.tally[key] = {}
        db.before_commit.append(lambda db, wid=wid: flush(db, wid))
    return nodes.setdefault(node_id, {"set": {}, "lease": None})


async def flush(db: Database, wid: int) -> None:
    """Write what the transaction gathered for the nodes of workflow `wid`: one statement a node, one command.

    Each is written only to an active node of the workflow whose lease has not run out: a node
    that stopped, or was expired by a lease check, since its runner's exchange read it on
    arrival fails the transaction (`leases.lost`, naming it), so that no job is handed to a
    runner that has been told to stop, and nothing the transaction did is kept.
    """
    assert db.tally is not None
    nodes: dict[int, dict[str, Any]] = db.tally.pop((_KEY, wid), None) or {}
    if not nodes:
        return
    now = time.time()
    live = leases.live(wid, now)
    ops = []
    for node_id, mine in sorted(nodes.items()):
        update: dict[str, Any] = leases.extended(now, mine["lease"]) if mine["lease"] is not None else {}
        if mine["set"]:
            update["$set"] = mine["set"]
        ops.append(UpdateOne({"_id": node_id, **live}, update))
    done = await db.compute_nodes.bulk_write(ops, ordered=False)
    if done.matched_count < len(ops):
        lasting = {d["_id"] async for d in db.compute_nodes.find({"_id": {"$in": sorted(nodes)}, **live}, {"_id": 1})}
        raise leases.lost(min(set(nodes) - lasting, default=min(nodes)))
