"""Claiming: hand ready jobs that fit a runner to exactly one runner.

A claim reads the workflow document and its queue documents (one per resource
requirement, a handful), decides with `torc_client.core.resources.pack` how many jobs of
each shape fit, takes that many positions from each queue atomically, and marks those
jobs pending under a fresh claim token. No query here scans the ready jobs.
"""

from __future__ import annotations

from typing import Any

from api.storage import (
    completion,
    expiry,
    leases,
    node_writes,
    queue,
    records,
    transitions,
    workflows,
)
from api.storage.db import Combined, Database
from api.storage.workflows import Event
from torc_client.contract import (
    ClaimedJob,
    ClaimRequest,
    ClaimResponse,
    CompleteReport,
    FileRef,
    StdioConfig,
    UnfitGroup,
)
from torc_client.core import resources, settings, states
from torc_client.core.units import count

S = states.JobStatus
#: Rounds of taking when stale positions leave room for more (a queued job that left the queue since).
MAX_ROUNDS = 6
#: Most jobs one claim hands out (what fits now plus the backlog).
MAX_CLAIM = 1000


async def claim(db: Database, wid: int, req: ClaimRequest, lease_seconds: float) -> ClaimResponse:
    """Up to `req.limit` ready jobs that fit the runner's free resources, now pending and leased to it.

    The node is read first, on arrival (with the other exchanges of the workflow arriving
    meanwhile: `expiry.renew_together`), and its lease renewed then if it is running out, so
    a request that then waits its turn at this server cannot lose its runner the lease. The
    report and the claim (a lease renewal that is due, the lease check, the taking and
    marking, the counts and events) are then one transaction, which this process
    runs together with the other exchanges of the workflow that arrive meanwhile (group
    commit, `Database.atomic`: `serve_exchanges`). Only when the report makes jobs ready
    does the claim wait for a transaction of its own: those jobs are queued once the report
    commits, and the claim must be able to take them.
    """
    node = await expiry.renew_together(db, req.compute_node_id, lease_seconds, wid)
    report = None
    if req.outcomes or req.starts or req.returned:
        report = CompleteReport(compute_node_id=req.compute_node_id, outcomes=req.outcomes, starts=req.starts,
                                returned=req.returned)  # fmt: skip
    report, served = await db.atomic(wid, Combined(("exchanges", wid), (wid, node, req, lease_seconds, report),
                                                   serve_exchanges))  # fmt: skip
    if served is None:  # the report made jobs ready, queued once it committed: now the claim can take them
        served = await db.atomic(wid, Combined(("claims", wid), (wid, node, req, lease_seconds), serve_claims))
    wf, reason, won, shapes, replayed = served
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


async def claim_unleased(db: Database, wid: int, req: ClaimRequest) -> tuple[dict[str, Any], str | None, list[dict]]:
    """Up to `req.limit` ready jobs that fit `req`'s free resources, pending under a fresh claim token and held by no
    compute node, in one transaction: Torc's claim calls, which name no runner. Returns the workflow document, why
    nothing could be claimed (or None) and the claimed job documents.

    Such jobs hold no lease (nothing expires them); the compute node that starts them is
    named when it reports the start.
    """

    async def body(db: Database) -> tuple[dict[str, Any], str | None, list[dict]]:
        wf = await workflows.get_doc(db, wid)
        reason = _refusal(wf)
        if reason is not None or req.limit <= 0:
            return wf, reason, []
        node = {"_id": None, "workflow_id": wid, "num_cpus": req.num_cpus, "memory_gb": req.memory_gb,
                "num_gpus": req.num_gpus, "num_nodes": req.num_nodes}  # fmt: skip
        want = _Want(req, node, transitions.new_token())
        _, wf = await _take_many(db, wf, [want])
        return wf, reason, sorted(want.won.values(), key=lambda d: d["_id"])

    return await db.atomic(wid, body)


async def serve_exchanges(db: Database, items: list[tuple]) -> list[tuple]:
    """Several runners' exchanges on one workflow, inside one transaction: their reports together
    (`completion.serve_reports`), then their claims together (`serve_claims`), so that an exchange waits for one
    transaction, not two; the leases that are due are renewed first (`expiry.renew_in_transaction`). Each item is
    (workflow id, node document, request, lease, report or None) and gets (the
    report's answer or None, the claim's result); the claim's result is None when the reports made jobs ready (or
    gave jobs back): those are queued only once this transaction commits, so the claims are served after it."""
    wid = items[0][0]
    expiry.renew_in_transaction(db, wid, [(item[1], item[3]) for item in items])
    reporting = [i for i, item in enumerate(items) if item[4] is not None]
    queued_after = len(db.after)
    answers = await completion.serve_reports(db, [(wid, items[i][4]) for i in reporting]) if reporting else []
    reports: list[Any] = [None] * len(items)
    for i, answer in zip(reporting, answers):
        reports[i] = answer
    if len(db.after) > queued_after:
        return [(report, None) for report in reports]
    served = await serve_claims(db, [item[:4] for item in items])
    if not reporting:
        return [(None, result) for result in served]
    # A claim that took nothing holds the workflow as it was read: the reports' counts say whether it is complete now.
    wf = await workflows.current(db, wid)
    return [(report, (wf, *rest)) for report, (_, *rest) in zip(reports, served)]


async def serve_claims(db: Database, items: list[tuple]) -> list[tuple]:
    """Several runners' claims on one workflow, inside one transaction (`Database.atomic` hands over the claims
    that arrived together): one read of the workflow and its queues, one move of each queue's head for all, one
    update marking every claimed job, one read back. Each item is (workflow id, node document, request, lease)
    and gets (workflow document, refusal, jobs won, shapes, replayed or None)."""
    if len(items) == 1:
        return [await _exchange(db, *items[0])]
    wid, lease_seconds = items[0][0], items[0][3]
    wf = await workflows.get_doc(db, wid)
    await expiry.expire_due(db, wf, lease_seconds)
    reason = _refusal(wf)
    results: list[Any] = [(wf, reason, [], {}, None)] * len(items)
    wants: list[tuple[int, _Want]] = []
    for i, (_, node, req, _) in enumerate(items):
        replayed = await _replay(db, node, req)
        if replayed is not None:
            results[i] = (wf, reason, *replayed, replayed)
        elif reason is None and (req.limit > 0 or req.backlog > 0):
            wants.append((i, _Want(req, node, transitions.new_token())))
    if wants:
        _remember_all(db, [(w.node, w.req, w.token) for _, w in wants])
        shapes, wf = await _take_many(db, wf, [w for _, w in wants])
        for i, w in wants:
            results[i] = (wf, reason, list(w.won.values()), shapes, None)
    return results


async def _exchange(db: Database, wid: int, node: dict[str, Any], req: ClaimRequest, lease_seconds: float):
    """One claim inside its transaction: the lease check when due, then the taking and marking."""
    wf = await workflows.get_doc(db, wid)
    await expiry.expire_due(db, wf, lease_seconds)
    reason = _refusal(wf)
    won: list[dict[str, Any]] = []
    shapes: dict[int, resources.Shape] = {}
    replayed = await _replay(db, node, req)
    if replayed is not None:
        won, shapes = replayed
    elif reason is None and (req.limit > 0 or req.backlog > 0):
        want = _Want(req, node, transitions.new_token())
        _remember_all(db, [(node, req, want.token)])
        shapes, wf = await _take_many(db, wf, [want])
        won = list(want.won.values())
    return wf, reason, won, shapes, replayed


async def _replay(db: Database, node: dict[str, Any], req: ClaimRequest):
    """The jobs of this node's last claim when this request repeats it (same `request_id`), else None.

    The claim's token is kept on the node in the transaction that takes the jobs, so a claim
    whose answer was lost is found again by its token.
    """
    last = node.get("last_claim")
    if not req.request_id or not last or last["request_id"] != req.request_id:
        return None
    docs = sorted([d for d in await leases.held_by(db, node) if d["claim_token"] == last["token"]],
                  key=lambda d: d["_id"])  # fmt: skip
    queues = await queue.queues(db, node["workflow_id"])
    return docs, {q["rr_id"]: queue.shape_of(q) for q in queues}


def _remember_all(db: Database, claims: list[tuple[dict[str, Any], ClaimRequest, str]]) -> None:
    """Keep each claim's fresh token on its node with the request id, so that the runner may retry the claim (written
    with the transaction's other writes to its nodes: `node_writes`). Kept in the transaction that takes the jobs,
    even a claim whose answer was lost, or whose server stopped after it committed, is found again by its token.
    A claim without a request id cannot be retried: it clears the token instead. Either way its node is written, and
    so checked to be live, by the transaction that hands it jobs."""
    for node, req, token in claims:
        last = {"request_id": req.request_id, "token": token} if req.request_id else None
        node_writes.set_fields(db, node["workflow_id"], node["_id"], {"last_claim": last})


def _refusal(wf: dict[str, Any]) -> str | None:
    if not wf["is_initialized"]:
        return f"workflow {wf['_id']} is not initialized: run `torc workflows init {wf['_id']}`"
    if wf["is_canceled"]:
        return f"workflow {wf['_id']} is canceled"
    if wf["is_archived"]:
        return f"workflow {wf['_id']} is archived"
    return None


class _Want:
    """What one claim still wants while claims are served together: jobs that fit its free resources now, then its
    backlog (jobs that fit its node at all)."""

    def __init__(self, req: ClaimRequest, node: dict[str, Any], token: str) -> None:
        self.req, self.node, self.token = req, node, token
        self.total = _node_capacity(node, req.time_limit_seconds)
        self.free = resources.Capacity.from_gb(req.num_cpus, req.memory_gb, req.num_gpus, req.num_nodes,
                                               req.time_limit_seconds)  # fmt: skip
        self.limit = min(req.limit, MAX_CLAIM)
        self.backlog = min(max(req.backlog, 0), MAX_CLAIM - self.limit)
        self.won: dict[int, dict[str, Any]] = {}
        self.for_now = True

    def plan(self, available: dict[int, int], shapes: dict[int, resources.Shape], sort: str) -> list:
        """How many of each shape to take this round; moves on to the backlog when nothing more fits now."""
        req = self.req
        while True:
            self.for_now = self.limit > 0
            if not self.for_now:
                runnable = [s for s in shapes.values() if (self._in_time(s) if req.ignore_resources
                                                           else resources.how_many_fit(s, self.total))]  # fmt: skip
                plan = resources.pack_ignoring_resources(available, runnable, self.backlog) if self.backlog > 0 else []
            elif req.ignore_resources:  # resources ignored (`--max-parallel-jobs`), the time left is not
                plan = resources.pack_ignoring_resources(available, [s for s in shapes.values() if self._in_time(s)],
                                                         self.limit)  # fmt: skip
            else:
                plan = resources.pack(available, shapes.values(), self.free, self.limit, sort)
            if not plan and self.for_now and self.backlog > 0:
                self.limit = 0  # nothing more fits now: go on to the backlog
                continue
            return plan

    def _in_time(self, shape: resources.Shape) -> bool:
        """A job of `shape` can finish in the time the runner has left."""
        left = self.req.time_limit_seconds
        return left is None or shape.runtime_s <= left

    def got(self, docs: list[dict[str, Any]], shapes: dict[int, resources.Shape]) -> None:
        mine = [d for d in docs if d["_id"] not in self.won]
        self.won.update((d["_id"], d) for d in mine)
        for d in mine:
            if self.for_now:
                self.free = resources.take(self.free, shapes[d["rr_id"]], 1)
                self.limit -= 1
            else:
                self.backlog -= 1

    @property
    def satisfied(self) -> bool:
        return self.limit <= 0 and self.backlog <= 0


async def _take_many(db: Database, wf: dict[str, Any], wants: list[_Want]):
    """Take and mark jobs for every claim in `wants`, a round at a time: each queue's head moves once a round for
    all of them, and one update marks the jobs of every claim (each under its own token). A round takes again
    what stale positions (a job that left the queue since it was queued) left short."""
    queues = await queue.queues(db, wf["_id"])
    shapes = {q["rr_id"]: queue.shape_of(q) for q in queues}
    available = {q["rr_id"]: q["tail"] - q["head"] for q in queues}
    active = list(wants)
    for _ in range(MAX_ROUNDS):
        asked: dict[int, list[tuple[_Want, int]]] = {}
        for want in active:
            for shape, n in want.plan(available, shapes, wf.get("jobs_sort_method", "none")):
                available[shape.key] = max(0, available[shape.key] - n)
                asked.setdefault(shape.key, []).append((want, n))
        if not asked:
            break
        taken: dict[int, list] = {}
        for key, asks in asked.items():
            entries = await queue.take(db, wf["_id"], key, sum(n for _, n in asks))
            if len(entries) < sum(n for _, n in asks):
                available[key] = 0  # the queue ran dry
            for want, n in asks:
                taken.setdefault(id(want), []).extend(entries[:n])
                entries = entries[n:]
        served = [w for w in active if taken.get(id(w))]
        if served:
            wf = await _pend(db, wf, served, [(taken[id(w)], w.node["_id"], w.token) for w in served], shapes)
        active = [w for w in served if not w.satisfied]
        if not active:
            break
    return shapes, wf


async def _pend(db: Database, wf: dict[str, Any], wants: list[_Want], claimed: list, shapes: dict) -> dict[str, Any]:
    """The jobs at the taken entries, now pending (with `start`, running) under each claim's token, counted and logged
    in the transaction; returns the workflow document as it now stands."""
    moved, held = await transitions.mark_pending_many(db, claimed)
    starting = [w for w in wants if w.req.start and held[w.token]]
    started = await transitions.move_many(db, [([d["_id"] for d in held[w.token]], S.PENDING, S.RUNNING,
                                                {"claim_token": w.token}, {}) for w in starting])  # fmt: skip
    events = []
    for w in wants:
        docs = held[w.token]
        w.got(docs, shapes)
        if docs:
            verb = "claimed and started" if w.req.start else "claimed"
            by = "with no lease (Torc's claim call)" if w.node["_id"] is None else f"by compute node {w.node['_id']}"
            events.append(Event("job", f"{count(len(docs), 'job')} {verb} {by}",
                                status="running" if w.req.start else "pending", job_ids=[d["_id"] for d in docs],
                                compute_node_id=w.node["_id"]))  # fmt: skip
    return await workflows.record(db, wf["_id"], {S.READY: -moved, S.PENDING: moved - started, S.RUNNING: started},
                                  events)  # fmt: skip


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
            failure_rules=rules.get(d.get("fh_id"), []), env=d.get("env") or {},
            stdio=StdioConfig(**d["stdio"]) if d.get("stdio") else None,
        ))  # fmt: skip
    return jobs


async def unfit(db: Database, wid: int, total: resources.Capacity) -> list[UnfitGroup]:
    """Unfinished jobs whose requirements exceed what a runner has in total, grouped by requirement (404: no such
    workflow)."""
    await workflows.get_doc(db, wid)
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
