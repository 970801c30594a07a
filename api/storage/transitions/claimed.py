"""A claimed job's moves, one claim or report at a time: claimed (ready -> pending), started, finished, retried,
requeued.

Every move is fenced by the claim's token, its workflow and the compute node holding the lease,
so a report from a runner that lost its lease changes nothing; a rejected job is told why.
"""

from __future__ import annotations

import uuid
from typing import Any

from api.storage import queue, workflows
from api.storage.db import Database
from api.storage.queue import Entry
from api.storage.transitions.moves import move, move_many
from api.storage.workflows import Event
from torc_client.core import states
from torc_client.core.units import count

S = states.JobStatus


def new_token() -> str:
    """A fresh claim token: the jobs of one claim carry it, and every report about them must name it."""
    return uuid.uuid4().hex[:16]


async def mark_pending(db: Database, entries: list[Entry], node_id: int, token: str) -> tuple[int, list[dict]]:
    """Claim the jobs at taken queue entries for a runner: ready -> pending, guarded by each entry's ticket.

    An entry hands out its job only while the job is ready and holds the entry's ticket
    (see `queue`), and the claim clears the ticket; a dead entry moves nothing. Returns
    how many jobs moved (what the counts must follow) and the documents of the jobs now
    pending under `token`, each once.
    """
    moved, held = await mark_pending_many(db, [(entries, node_id, token)])
    return moved, held[token]


async def mark_pending_many(db: Database, claims: list[tuple[list[Entry], int, str]]) -> tuple[int, dict[str, list]]:
    """`mark_pending` for several claims (entries, node, token) at once, in two commands or so; returns how many
    jobs moved in all and, by token, the documents of the jobs now pending under it."""
    moves = []
    for entries, node_id, token in claims:
        by_ticket: dict[int | None, list[int]] = {}
        for jid, ticket in entries:
            by_ticket.setdefault(ticket, []).append(jid)
        moves += [(ids, S.READY, S.PENDING, {"queue_ticket": ticket},
                   {"claim_token": token, "active_compute_node_id": node_id, "queue_ticket": None})
                  for ticket, ids in by_ticket.items()]  # fmt: skip
    moved = await move_many(db, moves)
    docs = await workflows.find_by_ids(db.jobs, sorted({jid for entries, _, _ in claims for jid, _ in entries}))
    tokens = {token for _, _, token in claims}
    held: dict[str, list] = {token: [] for token in tokens}
    for doc in docs:
        if doc["claim_token"] in tokens and doc["status"] == S.PENDING.value:
            held[doc["claim_token"]].append(doc)
    return moved, held


def fence(wid: int, node_id: int | None) -> dict[str, int]:
    """What a report's jobs must match besides their claim token: its workflow, and the node holding their lease."""
    return {"workflow_id": wid} if node_id is None else {"workflow_id": wid, "active_compute_node_id": node_id}


def fenced(doc: dict[str, Any], wid: int, node_id: int | None) -> bool:
    return all(doc.get(key) == value for key, value in fence(wid, node_id).items())


async def start(db: Database, wid: int, node_id: int, starts: list[tuple[int, str]],
                fence_node: bool = True) -> tuple[list[int], list]:  # fmt: skip
    """pending -> running for jobs whose claim token matches, of this workflow and node; returns (accepted ids,
    rejections). Without `fence_node` the jobs are held by no node (claimed through Torc's claim calls): `node_id`
    is then only the node that reports the start."""
    holder = node_id if fence_node else None

    async def body(db: Database) -> tuple[list[int], list]:
        moved = 0
        for token, ids in _by_token(starts).items():
            moved += await move(db, ids, S.PENDING, S.RUNNING, where={"claim_token": token, **fence(wid, holder)})
        docs = {d["_id"]: d for d in await workflows.find_by_ids(db.jobs, [jid for jid, _ in starts])}
        accepted, rejected = judge(docs, starts, {S.RUNNING.value}, wid, holder)
        if moved:
            await workflows.record(db, wid, {S.PENDING: -moved, S.RUNNING: moved},
                                   [Event("job", f"{count(moved, 'job')} started on compute node {node_id}", status="running",
                                          job_ids=accepted, compute_node_id=node_id)])  # fmt: skip
        return accepted, rejected

    return await db.atomic(wid, body)


async def finish(db: Database, wid: int, outcomes: list[tuple[int, str, str]],
                 node_id: int | None = None) -> tuple[list[dict], set[int], list, dict]:  # fmt: skip
    """pending or running -> completed / failed / terminated, fenced by claim token, workflow and node.

    `outcomes` are (job id, claim token, status). The jobs are read first, so each
    update goes to the one status its jobs are in; the guards in the updates still
    decide races, and only a race costs a second read. Returns the documents of the
    accepted jobs (a repeated report's too), the ids of those this request moved, the
    rejections, and the count changes made.
    """
    wanted = {jid: (token, status) for jid, token, status in outcomes}
    docs = await workflows.find_by_ids(db.jobs, list(wanted))
    groups: dict[tuple[str, str, str], list[dict]] = {}
    accepted: list[dict] = []
    repeated: set[int] = set()
    for doc in docs:
        token, status = wanted[doc["_id"]]
        if doc["claim_token"] != token or doc["workflow_id"] != wid:
            continue
        if doc["status"] == status:  # a repeated report: already done, nothing changes
            accepted.append(doc)
            repeated.add(doc["_id"])
        elif states.can_move(doc["status"], status) and fenced(doc, wid, node_id):
            groups.setdefault((doc["status"], status, token), []).append(doc)
    delta: dict[str, int] = {}
    for (source, status, token), group in groups.items():
        ids = [d["_id"] for d in group]
        n = await move(db, ids, source, status, where={"claim_token": token, **fence(wid, node_id)},
                       sets={"active_compute_node_id": None})  # fmt: skip
        delta[source] = delta.get(source, 0) - n
        delta[status] = delta.get(status, 0) + n
        if n < len(ids):  # another request changed some of them meanwhile
            group = await workflows.find_by_ids(db.jobs, ids)
        accepted += [{**d, "status": status} for d in group if n == len(ids) or
                     (d["claim_token"] == token and d["status"] == status)]  # fmt: skip
    accepted_ids = {d["_id"] for d in accepted}
    rejected = [(jid, rejection(docs, jid, wid, node_id)) for jid in wanted if jid not in accepted_ids]
    return accepted, accepted_ids - repeated, rejected, delta


async def retry(db: Database, wid: int, outcomes: list[tuple[int, str]],
                node_id: int | None = None) -> tuple[list[dict], dict[str, int]]:  # fmt: skip
    """pending or running -> ready with the next attempt id, for failed jobs their failure handler retries.

    Returns the documents as they were (with the attempt that failed) of the jobs moved.
    """
    before = {d["_id"]: d for d in await workflows.find_by_ids(db.jobs, [jid for jid, _ in outcomes])}
    moved_docs, back, delta = [], {}, {}
    ticket = queue.new_ticket()
    for jid, token in outcomes:
        doc = before.get(jid)
        if doc is None or doc["status"] not in states.LEASED or not fenced(doc, wid, node_id):
            continue
        n = await move(db, [jid], doc["status"], S.READY, where={"claim_token": token, **fence(wid, node_id)},
                       sets={"claim_token": None, "active_compute_node_id": None, **queue.ticketed(ticket)},
                       inc={"attempt_id": 1})  # fmt: skip
        if n:
            moved_docs.append(doc)
            back.setdefault(doc["rr_id"], []).append(jid)
            delta[doc["status"]] = delta.get(doc["status"], 0) - 1
            delta[S.READY] = delta.get(S.READY, 0) + 1
    await queue.enqueue_once_committed(db, wid, back, ticket)
    return moved_docs, delta


def judge(docs: dict[int, dict], reports: list[tuple[int, str]], statuses: set[str], wid: int,
          node_id: int | None) -> tuple[list[int], list]:  # fmt: skip
    """The reported jobs (id, token) that are now in one of `statuses` under their claim, and why each other one is not."""
    accepted, rejected = [], []
    for jid, token in reports:
        doc = docs.get(jid)
        if doc is not None and doc["claim_token"] == token and doc["status"] in statuses and fenced(doc, wid, node_id):
            accepted.append(jid)
        else:
            rejected.append((jid, rejection(list(docs.values()), jid, wid, node_id)))
    return accepted, rejected


def rejection(docs: list[dict], jid: int, wid: int, node_id: int | None) -> str:
    """Why a report about job `jid` was refused, told from the documents read (`docs`)."""
    doc = next((d for d in docs if d["_id"] == jid), None)
    if doc is None:
        return f"job {jid} does not exist"
    if doc["workflow_id"] != wid:
        return f"job {jid} belongs to workflow {doc['workflow_id']}, not {wid}: report it through its own workflow"
    if node_id is not None and doc.get("active_compute_node_id") not in (None, node_id):
        return f"job {jid} is held by compute node {doc['active_compute_node_id']}, not {node_id}"
    return (f"job {jid} is {doc['status']} and no longer held by this claim "
            "(its runner's lease expired and the job was handed out again, or the workflow changed)")  # fmt: skip


def _by_token(reports: list[tuple[int, str]]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for jid, token in reports:
        groups.setdefault(token, []).append(jid)
    return groups


async def requeue(db: Database, wid: int, docs: list[dict[str, Any]], reason: str,
                  lease_lost: bool = True) -> dict[str, int]:  # fmt: skip
    """Leased jobs (pending or running) back to ready, once each; returns the count changes.

    The guard on the claim token makes this exactly-once: a second request that tries
    to requeue the same lease finds the token already cleared. `lease_lost` counts
    the requeue against the job's lease losses (a runner that returns unstarted jobs
    on its way out does not).
    """
    if not docs:
        return {}
    return (await db.atomic(wid, lambda db: _requeue(db, wid, docs, reason, lease_lost)))[0]


async def requeue_next_attempt(db: Database, wid: int, docs: list[dict[str, Any]], reason: str) -> list[int]:
    """Running jobs stopped at their runner's end back to ready as their next attempt (a lost lease), inside the
    caller's transaction; returns the ids moved (none that a concurrent request requeued first)."""
    if not docs:
        return []
    return (await _requeue(db, wid, docs, reason, True, next_attempt=True))[1]


async def _requeue(db: Database, wid: int, docs: list[dict[str, Any]], reason: str, lease_lost: bool,
                   next_attempt: bool = False) -> tuple[dict, list[int]]:  # fmt: skip
    inc = {**({"lease_losses": 1} if lease_lost else {}), **({"attempt_id": 1} if next_attempt else {})}
    delta: dict[str, int] = {}
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for doc in docs:
        groups.setdefault((doc["status"], doc["claim_token"]), []).append(doc)
    back: dict[int, list[int]] = {}
    ticket = queue.new_ticket()
    for (status, token), group in groups.items():
        ids = [d["_id"] for d in group]
        n = await move(db, ids, status, S.READY, where={"claim_token": token},
                       sets={"claim_token": None, "active_compute_node_id": None, **queue.ticketed(ticket)},
                       inc=inc or None)  # fmt: skip
        if not n:
            continue
        if n < len(ids):  # a concurrent request requeued some of them: keep those this one moved
            moved = {d["_id"] for d in await workflows.find_by_ids(db.jobs, ids, {"queue_ticket": 1})
                     if d.get("queue_ticket") == ticket}  # fmt: skip
            group = [d for d in group if d["_id"] in moved]
        delta[status] = delta.get(status, 0) - len(group)
        delta[S.READY] = delta.get(S.READY, 0) + len(group)
        for doc in group:
            back.setdefault(doc["rr_id"], []).append(doc["_id"])
    await queue.enqueue_once_committed(db, wid, back, ticket)
    ids = [jid for group in back.values() for jid in group]
    if ids:
        await workflows.record(db, wid, delta, [Event("job", f"{count(len(ids), 'job')} requeued: {reason}", status="ready",
                                                      job_ids=ids, reason=reason)])  # fmt: skip
    return delta, ids
