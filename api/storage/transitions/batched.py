"""Several compute nodes' start and end reports served together, in a few commands inside one transaction.

Which jobs move is decided from one read; the updates are guarded by status and by the reported
tokens, and every planned move must happen: anything else raises `Uncombinable`, and the caller
serves the reports one at a time (`claimed.start`, `claimed.finish`).
"""

from __future__ import annotations

from api.storage import workflows
from api.storage.db import Database
from api.storage.transitions.claimed import fenced, judge, rejection
from api.storage.transitions.moves import move_many
from api.storage.workflows import Event
from torc_client.core import states
from torc_client.core.units import count

S = states.JobStatus


class Uncombinable(RuntimeError):
    """Reports served together that cannot be (two name the same job): the batch is served one report at a time."""


async def start_many(db: Database, wid: int, reports: list[tuple[int, list[tuple[int, str]]]]) -> list[tuple]:
    """`start` for several compute nodes' reports (node, starts) at once, inside the caller's transaction, with one
    read and one update for all; one (accepted ids, rejections) per report.

    Which jobs move is decided from the read (token, workflow, node) and the update is
    guarded by status and by the reported tokens: a job that changed in between makes the
    count fall short, and `Uncombinable` then has the reports served one at a time.
    """
    docs = {d["_id"]: d for d in await workflows.find_by_ids(db.jobs, [jid for _, starts in reports
                                                                       for jid, _ in starts])}  # fmt: skip
    go: dict[int, str] = {}
    for node_id, starts in reports:
        for jid, token in starts:
            doc = docs.get(jid)
            if doc and doc["status"] == S.PENDING.value and doc["claim_token"] == token and fenced(doc, wid, node_id):
                go[jid] = token
    await move_exactly(db, list(go), S.PENDING, S.RUNNING, set(go.values()), {})
    for jid in go:
        docs[jid] = {**docs[jid], "status": S.RUNNING.value}
    out, events = [], []
    for node_id, starts in reports:
        accepted, rejected = judge(docs, starts, {S.RUNNING.value}, wid, node_id)
        out.append((accepted, rejected))
        mine = [jid for jid, _ in starts if jid in go]
        if mine:
            events.append(Event("job", f"{count(len(mine), 'job')} started on compute node {node_id}",
                                status="running", job_ids=accepted, compute_node_id=node_id))  # fmt: skip
    if go:
        await workflows.record(db, wid, {S.PENDING: -len(go), S.RUNNING: len(go)}, events)
    return out


async def finish_many(db: Database, wid: int, reports: list[tuple[int, list[tuple[int, str, str]]]]) -> list[tuple]:
    """`finish` for several compute nodes' reports (node, outcomes) at once, in a few commands in all, inside the
    caller's transaction; one (accepted documents, moved ids, rejections, count changes) per report.

    Which jobs move is decided from the read; the updates (one per source and target
    status) are guarded by status and by the reported tokens, and every planned move must
    happen: anything else (a job changed in between, two reports of one job in the batch)
    raises `Uncombinable`, and the reports are then served one at a time by `finish`.
    """
    wanted = [({jid: (token, status) for jid, token, status in outs}, node_id) for node_id, outs in reports]
    ids = [jid for want, _ in wanted for jid in want]
    if len(ids) != len(set(ids)):
        raise Uncombinable("two reports served together name the same job")
    docs = {d["_id"]: d for d in await workflows.find_by_ids(db.jobs, ids)}
    plans: list[tuple] = []
    moves: dict[tuple[str, str], tuple[list[int], set[str]]] = {}
    for want, node_id in wanted:
        accepted, repeated, groups = [], set(), {}
        for jid in sorted(want):
            doc, (token, status) = docs.get(jid), want[jid]
            if doc is None or doc["claim_token"] != token or doc["workflow_id"] != wid:
                continue
            if doc["status"] == status:  # a repeated report: already done, nothing changes
                accepted.append(doc)
                repeated.add(jid)
            elif states.can_move(doc["status"], status) and fenced(doc, wid, node_id):
                groups.setdefault((doc["status"], status, token), []).append(doc)
        for (source, status, token), group in groups.items():
            merged = moves.setdefault((source, status), ([], set()))
            merged[0].extend(d["_id"] for d in group)
            merged[1].add(token)
        plans.append((accepted, repeated, groups))
    for (source, status), (ids, tokens) in moves.items():
        await move_exactly(db, ids, source, status, tokens, {"active_compute_node_id": None})
    out = []
    for (want, node_id), (accepted, repeated, groups) in zip(wanted, plans):
        delta: dict[str, int] = {}
        for (source, status, _), group in groups.items():
            delta[source] = delta.get(source, 0) - len(group)
            delta[status] = delta.get(status, 0) + len(group)
            accepted += [{**d, "status": status} for d in group]
        done = {d["_id"] for d in accepted}
        rejected = [(jid, rejection(list(docs.values()), jid, wid, node_id)) for jid in want if jid not in done]
        out.append((accepted, done - repeated, rejected, delta))
    return out


async def move_exactly(db: Database, ids: list[int], from_: str, to: str, tokens: set[str], sets: dict) -> None:
    """Move exactly these jobs (chosen from a read in this transaction), guarded by status and claim tokens."""
    moved = await move_many(db, [(ids, from_, to, {"claim_token": {"$in": sorted(tokens)}}, sets)]) if ids else 0
    if moved != len(ids):
        raise Uncombinable(f"{len(ids) - moved} of the jobs reported together changed between their read and write")
