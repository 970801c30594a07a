"""Compute nodes and their leases.

A runner registers as a compute node and renews its lease with heartbeats (a claim
renews it too). There is no timer in the API: whichever request first finds a
workflow's lease check due (`workflows.take_turn`) looks for nodes whose lease ran
out and hands them to `expiry`.
"""

from __future__ import annotations

import time
from typing import Any

from api.storage import records, transitions, workflows
from api.storage.db import Database, iso_from_epoch, iso_now
from api.storage.workflows import Event
from torc_client.contract import ComputeNodeCreate
from torc_client.core import states
from torc_client.core.errors import Conflict, InvalidRequest, LeaseExpired, NotFound

S = states.JobStatus


async def register(db: Database, node: ComputeNodeCreate, lease_seconds: float) -> Any:
    _check_resources(node)
    await workflows.get_doc(db, node.workflow_id)
    now = time.time()
    doc = {f: getattr(node, f) for f in node.__struct_fields__}
    doc.update(start_time=iso_now(), is_active=True, duration_seconds=None, lease_until=now + lease_seconds,
               lease_expires_at=iso_from_epoch(now + lease_seconds), started_at=now)  # fmt: skip
    record = await records.compute_nodes.create(db, doc)
    await workflows.record(db, node.workflow_id, {}, [Event("compute_node", f"compute node {record.id} started on "
                                                            f"{node.hostname}", compute_node_id=record.id)])  # fmt: skip
    return record


def extended(now: float, lease_seconds: float) -> dict[str, Any]:
    """A lease renewed to `lease_seconds` from `now`, or left as it is if it already lasts longer: a paced runner's
    claim is leased for several of its paces (`api.pacing`), and a renewal with the server's lease (a record update,
    a heartbeat) must not cut that short before the runner's next claim is due."""
    until = now + lease_seconds
    return {"$max": {"lease_until": until, "lease_expires_at": iso_from_epoch(until)}}


def as_extended(doc: dict[str, Any], now: float, lease_seconds: float) -> dict[str, Any]:
    """`doc` as the update `extended(now, lease_seconds)` leaves it, without reading it back."""
    until = now + lease_seconds
    return {**doc, "lease_until": max(doc["lease_until"], until),
            "lease_expires_at": max(doc["lease_expires_at"], iso_from_epoch(until))}  # fmt: skip


def checks_ran(wf: dict[str, Any], now: float, lease_seconds: float) -> bool:
    """Whether this workflow's leases were being checked lately (else the server, or all its runners, were away)."""
    return now - wf.get("lease_check_at", 0.0) <= lease_seconds


def _check_resources(node: ComputeNodeCreate) -> None:
    for name, value, least in (("num_cpus", node.num_cpus, 1), ("memory_gb", node.memory_gb, 0),
                               ("num_gpus", node.num_gpus, 0), ("num_nodes", node.num_nodes, 1)):  # fmt: skip
        if value < least:
            raise InvalidRequest(f"a compute node's {name} must be at least {least}, got {value}")
    if not node.hostname.strip() or not node.hostname.isprintable():
        raise InvalidRequest(f"a compute node's hostname must be printable and not empty, got {node.hostname!r}")


def live(wid: int, now: float) -> dict[str, Any]:
    """The filter of a node of workflow `wid` that is active and whose lease has not run out at `now`."""
    return {"workflow_id": wid, "is_active": True, "lease_until": {"$gte": now}}


def lost(node_id: int) -> LeaseExpired:
    """The refusal of a runner whose node is no longer active: it must register a new one."""
    return LeaseExpired(f"compute node {node_id} is no longer active (its lease expired or it stopped); "
                        "its jobs were handed to other runners: register a new compute node to continue")


def check_member(node: dict[str, Any], wid: int) -> None:
    """A compute node reports and claims only through its own workflow."""
    if node["workflow_id"] != wid:
        raise Conflict(f"compute node {node['_id']} belongs to workflow {node['workflow_id']}, not {wid}: "
                       "report through its own workflow")  # fmt: skip


async def reporting_node(db: Database, wid: int, node_id: int) -> dict[str, Any]:
    """The compute node sending a report: it must exist and belong to the workflow reported on."""
    node = await db.compute_nodes.find_one({"_id": node_id}, {"workflow_id": 1})
    if node is None:
        raise NotFound("compute_node", node_id)
    check_member(node, wid)
    return node


async def deactivate(db: Database, node_id: int) -> Any:
    """A runner's exit: its node stops holding a lease, and any job it still holds goes back to the queue.

    A runner that exits cleanly has reported or returned everything; one that could not
    (its last request failed) must not leave jobs pending under a node nobody renews.
    """
    doc = await db.compute_nodes.find_one({"_id": node_id})
    if doc is None:
        raise NotFound("compute_node", node_id)
    duration = time.time() - doc.get("started_at", time.time())
    record = await records.compute_nodes.update(db, node_id, {"is_active": False, "duration_seconds": duration})
    held = await held_by(db, doc)
    reason = f"compute node {node_id} stopped while holding them"
    await transitions.requeue(db, doc["workflow_id"], [d for d in held if d["status"] == S.PENDING.value], reason,
                              lease_lost=False)  # fmt: skip
    await transitions.requeue(db, doc["workflow_id"], [d for d in held if d["status"] == S.RUNNING.value], reason)
    await workflows.record(db, doc["workflow_id"], {}, [Event("compute_node", f"compute node {node_id} stopped",
                                                              compute_node_id=node_id)])  # fmt: skip
    return record


async def held_by(db: Database, node: dict[str, Any]) -> list[dict[str, Any]]:
    """The pending and running jobs leased to a compute node."""
    query = {"workflow_id": node["workflow_id"], "status": {"$in": sorted(states.LEASED)}}
    return [doc async for doc in db.jobs.find(query) if doc.get("active_compute_node_id") == node["_id"]]


def now_since(node: dict[str, Any]) -> float:
    return time.time() - node.get("started_at", time.time())
