"""Claiming: hand ready jobs that fit a runner to exactly one runner.

A claim reads the workflow document and its queue documents (one per resource
requirement, a handful), decides with `torc_client.resources.pack` how many jobs of
each shape fit, takes that many positions from each queue atomically, and marks those
jobs pending under a fresh claim token. No query here scans the ready jobs.
"""

from __future__ import annotations

from typing import Any

from api.storage import leases, queue, transitions, workflows
from api.storage.db import Database
from api.storage.workflows import Event
from torc_client import resources, settings, states
from torc_client.contract import ClaimedJob, ClaimRequest, ClaimResponse, CompleteReport, FileRef, UnfitGroup
from torc_client.units import count

S = states.JobStatus
#: Rounds of taking when stale positions leave room for more (a queued job that left the queue since).
MAX_ROUNDS = 6
#: Most jobs one claim hands out (what fits now plus the backlog).
MAX_CLAIM = 1000


async def claim(db: Database, wid: int, req: ClaimRequest, lease_seconds: float) -> ClaimResponse:
    """Up to `req.limit` ready jobs that fit the runner's free resources, now pending and leased to it.

    The lease is renewed first, on arrival, so a request that then waits its turn at
    this server cannot lose its runner the lease. The claim (the lease check, the
    taking and marking, the counts and events) is one transaction, which this process
    runs together with the other exchanges of the workflow that arrive
    meanwhile (group commit, `Database.atomic`); the report before the claim is another,
    so that the jobs it releases are queued before the claim takes.
    """
    node = await leases.renew(db, req.compute_node_id, lease_seconds)
    leases.check_member(node, wid)
    report = None
    if req.outcomes or req.starts or req.returned:
        from api.storage import completion

        # A transaction of its own: the jobs it makes ready are queued once it commits, in time for the claim.
        report = await completion.complete(db, wid, CompleteReport(
            compute_node_id=req.compute_node_id, outcomes=req.outcomes, starts=req.starts, returned=req.returned),
            node_checked=True, atomic=True)  # fmt: skip
    wf, reason, won, shapes, replayed = await db.atomic(wid, lambda db: _exchange(db, wid, node, req, lease_seconds))
    asked = req.limit > 0 or req.backlog > 0
    if not won and asked and reason is None and replayed is None and await _needs_repair(db, wf):
        repaired = await queue.repair(db, wid)
        if repaired:
            wf = await workflows.record(db, wid, {}, [Event("queue", f"{repaired} ready jobs stood at no live queue "
                                                            "position and were queued again", num_jobs=repaired)])
    jobs = await _claimed_jobs(db, wf, won, shapes)
    status = workflows.status_of(wf)
    return ClaimResponse(jobs=jobs, run_id=wf["run_id"], is_canceled=wf["is_canceled"],
                         is_complete=status.is_complete, reason=reason, started=bool(won) and req.start,
                         report=report)  # fmt: skip


async def _exchange(db: Database, wid: int, node: dict[str, Any], req: ClaimRequest, lease_seconds: float):
    """The claim of an exchange, inside its transaction: the lease check when due, then the taking and marking."""
    wf = await workflows.get_doc(db, wid)
    await leases.expire_due(db, wf, lease_seconds)
    reason = _refusal(wf)
    won: list[dict[str, Any]] = []
    shapes: dict[int, resources.Shape] = {}
    replayed = await _replay(db, node, req)
    if replayed is not None:
        won, shapes = replayed
    elif reason is None and (req.limit > 0 or req.backlog > 0):
        token = await _remember(db, node, req)
        won, shapes, wf = await _take(db, wf, req, _node_capacity(node, req.time_limit_seconds), token)
    return wf, reason, won, shapes, replayed


async def _pend(db: Database, wid: int, entries: list, req: ClaimRequest, token: str) -> tuple[list[dict], dict]:
    """The jobs at taken queue entries, now pending (with `start`, running) under `token`, counted and logged in
    one transaction; returns them and the workflow document as it now stands."""
    moved, held = await transitions.mark_pending(db, entries, req.compute_node_id, token)
    started = 0
    if req.start and held:
        started = await transitions.move(db, [d["_id"] for d in held], S.PENDING, S.RUNNING,
                                         where={"claim_token": token})  # fmt: skip
    verb = "claimed and started" if started else "claimed"
    events = [Event("job", f"{count(len(held), 'job')} {verb} by compute node {req.compute_node_id}",
                    status="running" if started else "pending", job_ids=[d["_id"] for d in held],
                    compute_node_id=req.compute_node_id)] if held else []  # fmt: skip
    wf = await workflows.record(db, wid, {S.READY: -moved, S.PENDING: moved - started, S.RUNNING: started}, events)
    return held, wf


async def _replay(db: Database, node: dict[str, Any], req: ClaimRequest):
    """The jobs of this node's last claim when this request repeats it (same `request_id`), else None.

    The claim's token is remembered before any job is taken, so even a claim cut short
    half-way (its answer lost, or the server stopped) is found again by its token.
    """
    last = node.get("last_claim")
    if not req.request_id or not last or last["request_id"] != req.request_id:
        return None
    docs = sorted([d for d in await leases.held_by(db, node) if d["claim_token"] == last["token"]],
                  key=lambda d: d["_id"])  # fmt: skip
    queues = await queue.queues(db, node["workflow_id"])
    return docs, {q["rr_id"]: queue.shape_of(q) for q in queues}


async def _remember(db: Database, node: dict[str, Any], req: ClaimRequest) -> str:
    """A fresh claim token, kept on the node with the request id when the runner may retry this claim."""
    token = transitions.new_token()
    if req.request_id and (req.limit > 0 or req.backlog > 0):
        await db.compute_nodes.update_one({"_id": node["_id"]}, {"$set": {
            "last_claim": {"request_id": req.request_id, "token": token}}})  # fmt: skip
    return token


def _refusal(wf: dict[str, Any]) -> str | None:
    if not wf["is_initialized"]:
        return f"workflow {wf['_id']} is not initialized: run `torc workflows init {wf['_id']}`"
    if wf["is_canceled"]:
        return f"workflow {wf['_id']} is canceled"
    if wf["is_archived"]:
        return f"workflow {wf['_id']} is archived"
    return None


async def _take(db: Database, wf: dict[str, Any], req: ClaimRequest, total: resources.Capacity, token: str):
    """Take jobs that fit the free resources, then up to `req.backlog` more that fit the node at all."""
    queues = await queue.queues(db, wf["_id"])
    shapes = {q["rr_id"]: queue.shape_of(q) for q in queues}
    available = {q["rr_id"]: q["tail"] - q["head"] for q in queues}
    free = resources.Capacity.from_gb(req.num_cpus, req.memory_gb, req.num_gpus, req.num_nodes,
                                      req.time_limit_seconds)  # fmt: skip
    limit = min(req.limit, MAX_CLAIM)
    backlog = min(max(req.backlog, 0), MAX_CLAIM - limit)
    runnable = [s for s in shapes.values() if req.ignore_resources or resources.how_many_fit(s, total) > 0]
    won: dict[int, dict[str, Any]] = {}
    for _ in range(MAX_ROUNDS):
        for_now = limit > 0
        if not for_now:
            plan = resources.pack_ignoring_resources(available, runnable, backlog) if backlog > 0 else []
        elif req.ignore_resources:
            plan = resources.pack_ignoring_resources(available, shapes.values(), limit)
        else:
            plan = resources.pack(available, shapes.values(), free, limit, wf.get("jobs_sort_method", "none"))
        if not plan and for_now and backlog > 0:
            limit = 0  # nothing more fits now: go on to the backlog
            continue
        if not plan:
            break
        for shape, wanted in plan:
            entries = await queue.take(db, wf["_id"], shape.key, wanted)
            available[shape.key] = max(0, available[shape.key] - max(wanted, len(entries)))
            if not entries:
                continue
            held, wf = await db.atomic(wf["_id"], lambda db, entries=entries: _pend(db, wf["_id"], entries, req, token))
            mine = [doc for doc in held if doc["_id"] not in won]
            won.update((doc["_id"], doc) for doc in mine)
            if for_now:
                free = resources.take(free, shape, len(mine))
                limit -= len(mine)
            else:
                backlog -= len(mine)
        if limit <= 0 and backlog <= 0:
            break
    return list(won.values()), shapes, wf


def _node_capacity(node: dict[str, Any], time_limit_s: float | None) -> resources.Capacity:
    """Everything the runner's compute node has: what any one job must fit."""
    return resources.Capacity.from_gb(node.get("num_cpus", 1), node.get("memory_gb", 0.0), node.get("num_gpus", 0),
                                      node.get("num_nodes", 1), time_limit_s)  # fmt: skip


async def _needs_repair(db: Database, wf: dict[str, Any]) -> bool:
    """Ready jobs the queues do not account for: a position was passed before it was written."""
    if wf.get("counts", {}).get(S.READY.value, 0) <= 0:
        return False
    queued = sum(q["tail"] - q["head"] for q in await queue.queues(db, wf["_id"]))
    if wf["counts"][S.READY.value] <= queued:
        return False
    return await workflows.take_turn(db, wf, "repair_at", settings.queue_repair_seconds())


async def _claimed_jobs(db: Database, wf: dict, docs: list[dict], shapes: dict) -> list[ClaimedJob]:
    if not docs:
        return []
    file_ids = sorted({fid for d in docs for fid in d.get("output_files", [])})
    paths = {f["_id"]: f["path"] for f in await workflows.find_by_ids(db.files, file_ids, {"path": 1})}
    handler_ids = sorted({d["fh_id"] for d in docs if d.get("fh_id")})
    rules = {h["_id"]: h["rules"] for h in await workflows.find_by_ids(db.failure_handlers, handler_ids)}
    jobs = []
    for d in docs:
        shape = shapes[d["rr_id"]]
        jobs.append(ClaimedJob(
            id=d["_id"], workflow_id=wf["_id"], name=d["name"], command=d["command"],
            invocation_script=d.get("invocation_script"), run_id=wf["run_id"], attempt_id=d.get("attempt_id", 1),
            claim_token=d["claim_token"], resource_requirements_id=d["rr_id"], num_cpus=shape.cpus,
            num_gpus=shape.gpus, num_nodes=shape.nodes, memory_bytes=shape.memory_bytes, runtime_s=shape.runtime_s,
            supports_termination=d.get("supports_termination", False),
            output_files=[FileRef(id=fid, path=paths[fid]) for fid in d.get("output_files", []) if fid in paths],
            failure_rules=rules.get(d.get("fh_id"), []),
        ))  # fmt: skip
    return jobs


async def unfit(db: Database, wid: int, total: resources.Capacity) -> list[UnfitGroup]:
    """Unfinished jobs whose requirements exceed what a runner has in total, grouped by requirement."""
    from api.storage import records

    rr_docs = [doc async for doc in db.resource_requirements.find({"workflow_id": wid})]
    too_big = {d["_id"]: d for d in rr_docs if resources.shortfalls(queue.shape_of({**d, "rr_id": d["_id"]}), total)}
    if not too_big:
        return []
    names: dict[int, list[str]] = {}
    waiting = [S.UNINITIALIZED.value, S.BLOCKED.value, S.READY.value]
    async for doc in db.jobs.find({"workflow_id": wid, "status": {"$in": waiting}}, {"name": 1, "rr_id": 1}):
        if doc["rr_id"] in too_big:
            names.setdefault(doc["rr_id"], []).append(doc["name"])
    return [UnfitGroup(resource_requirements=records.resource_requirements.to_record(too_big[rr]),
                       num_jobs=len(jobs), job_names=sorted(jobs)[:20],
                       shortfalls=resources.shortfalls(queue.shape_of({**too_big[rr], "rr_id": rr}), total))
            for rr, jobs in sorted(names.items())]  # fmt: skip
