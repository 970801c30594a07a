"""The ready queue: ready jobs at numbered positions, one queue per resource requirement.

A queue document holds `head` and `tail`; positions live in block documents of
`BLOCK` consecutive positions each (`"{queue}:b{block}"`, a map of offset to entry),
so a claim of a few hundred jobs reads a handful of documents and queueing 100,000
jobs writes 1,000. Enqueueing reserves positions with one `$inc` of `tail` and writes
its entries into the blocks (upserts: enqueuers of neighbouring ranges share a block);
taking moves `head` forward with one conditional pipeline update (`head < tail`,
`head = min(head + k, tail)`), so each position is handed to exactly one claimer
without any query over the ready jobs.

Tickets make an entry worth one claim at most. An entry is a job id and the ticket the
job was queued under, and a ready job holds the ticket of the one entry that may hand
it out (`queue_ticket`). Whoever makes a job ready sets a fresh ticket in the same
update (`ticketed`) and then calls `enqueue` with it; claiming is a guarded update on
`status: ready` *and* that ticket, and clears the ticket. So an entry whose job was
claimed, canceled or queued again since is dead: it can never hand the job out again,
even to the claim that already holds it.

A position reserved but not yet written when a claimer passes it would leave its job
ready but at no live entry: the claimer waits briefly for the write, and `repair` finds
what is still lost (an enqueuer that died half-way) and queues it under a new ticket
with the same guard, so a repair racing a claim in flight lets exactly one of them win.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError

from api.storage.db import Database, chunks
from torc_client.core.resources import Shape

#: Positions per block document.
BLOCK = 100
#: Positions reserved, built and written at a time by one `enqueue` (a multiple of BLOCK).
ENQUEUE_RUN = 5 * BLOCK * BLOCK
DUPLICATE_KEY = 11000
#: Pauses (seconds) of a claimer that passed positions reserved but not yet written, before it skips them.
UNWRITTEN_WAITS = (0.002, 0.005, 0.01, 0.02, 0.04)

#: A taken queue entry: (job id, ticket); the ticket is None for entries written by older versions.
Entry = tuple[int, "int | None"]


def new_ticket() -> int:
    """A ticket for one enqueue: unique in practice (62 random bits)."""
    return secrets.randbits(62)


def ticketed(ticket: int) -> dict[str, int]:
    """The job fields to set, in the update that makes jobs ready, before `enqueue(..., ticket)`."""
    return {"queue_ticket": ticket}


def queue_id(wid: int, rr_id: int) -> str:
    return f"{wid}:{rr_id}"


def shape_of(doc: dict[str, Any]) -> Shape:
    return Shape(doc["rr_id"], doc["num_cpus"], int(doc["memory_bytes"]), doc["num_gpus"], doc["num_nodes"],
                 doc["runtime_s"])  # fmt: skip


async def create_queues(db: Database, wid: int, requirements: list[dict[str, Any]]) -> None:
    """One empty queue per resource requirement (documents carry the shape, so a claim reads one collection)."""
    docs = [_queue_document(wid, rr) for rr in requirements]
    if docs:
        await db.queues.insert_many(docs, ordered=False)


def _queue_document(wid: int, rr: dict[str, Any]) -> dict[str, Any]:
    return {"_id": queue_id(wid, rr["_id"]), "workflow_id": wid, "rr_id": rr["_id"], "head": 0, "tail": 0,
            **{key: rr[key] for key in ("num_cpus", "memory_bytes", "num_gpus", "num_nodes", "runtime_s")}}  # fmt: skip


async def update_shape(db: Database, wid: int, rr: dict[str, Any]) -> None:
    """Keep a queue's shape in step with its resource requirement (or create the queue)."""
    doc = _queue_document(wid, rr)
    shape = {k: doc[k] for k in ("num_cpus", "memory_bytes", "num_gpus", "num_nodes", "runtime_s")}
    await db.queues.update_one({"_id": doc["_id"]}, {"$set": shape, "$setOnInsert": {
        "workflow_id": wid, "rr_id": rr["_id"], "head": 0, "tail": 0}}, upsert=True)  # fmt: skip


async def drop(db: Database, wid: int, rr_id: int) -> None:
    """Remove the queue of a resource requirement that is being deleted, with its blocks of positions."""
    await db.slots.delete_many({"workflow_id": wid, "rr": rr_id})
    await db.queues.delete_one({"_id": queue_id(wid, rr_id)})


async def queues(db: Database, wid: int) -> list[dict[str, Any]]:
    return [doc async for doc in db.queues.find({"workflow_id": wid})]


def block_id(qid: str, block: int) -> str:
    return f"{qid}:b{block}"


def block_writes(wid: int, rr_id: int, first: int, job_ids: list[int],
                 ticket: int) -> tuple[list[dict], list[UpdateOne]]:  # fmt: skip
    """What puts `job_ids` (queued under `ticket`) at positions `first`, `first + 1`, ... of a queue.

    Returns whole block documents for the blocks these positions fill completely
    (nobody else can hold a position in them, so they are plain inserts) and upserts
    for the blocks they share with neighbouring reservations.
    """
    qid = queue_id(wid, rr_id)
    blocks: dict[int, dict[str, list[int]]] = {}
    for pos, jid in enumerate(job_ids, start=first):
        blocks.setdefault(pos // BLOCK, {})[str(pos % BLOCK)] = [jid, ticket]
    whole, shared = [], []
    for block, entries in blocks.items():
        if len(entries) == BLOCK:
            whole.append({"_id": block_id(qid, block), "workflow_id": wid, "rr": rr_id, "block": block, "jobs": entries})
        else:
            shared.append(UpdateOne({"_id": block_id(qid, block)}, {
                "$set": {f"jobs.{offset}": jid for offset, jid in entries.items()},
                "$setOnInsert": {"workflow_id": wid, "rr": rr_id, "block": block}}, upsert=True))  # fmt: skip
    return whole, shared


async def write_blocks(db: Database, whole: list[dict], shared: list[UpdateOne]) -> None:
    """Write queue blocks; two enqueuers creating a shared block race on its insert, and the loser retries."""
    if whole:
        await db.slots.insert_many(whole, ordered=False)
    for attempt in range(3):
        try:
            if shared:
                await db.slots.bulk_write(shared, ordered=False)
            return
        except BulkWriteError as error:
            errors = error.details["writeErrors"]
            if attempt == 2 or any(e["code"] != DUPLICATE_KEY for e in errors):
                raise
            shared = [shared[e["index"]] for e in errors]


async def enqueue_once_committed(db: Database, wid: int, by_rr: Mapping[int, Sequence[int]], ticket: int) -> None:
    """`enqueue` jobs made ready in the transaction under way, once it commits (a claim in the same transaction, which
    could not take them, then waits for its own: `claims.serve_exchanges`); nothing when there are none."""
    if any(by_rr.values()):
        await db.after_commit(enqueue, wid, by_rr, ticket)


async def enqueue(db: Database, wid: int, by_rr: Mapping[int, Sequence[int]], ticket: int) -> None:
    """Append ready jobs to the queue of their resource requirement, under the ticket they were made ready with.

    A long list goes in runs of `ENQUEUE_RUN` positions, so that queueing a million jobs holds the
    block documents of one run at a time. (A job listed twice gets one live entry: the second
    position's claim finds its ticket already used.)
    """
    whole, shared = [], []
    for rr_id, ids in by_rr.items():
        for start in range(0, len(ids), ENQUEUE_RUN):
            job_ids = list(dict.fromkeys(ids[start:start + ENQUEUE_RUN]))
            doc = await db.queues.find_one_and_update(
                {"_id": queue_id(wid, rr_id)}, {"$inc": {"tail": len(job_ids)}}, return_document=ReturnDocument.AFTER
            )
            if doc is None:
                break
            w, s = block_writes(wid, rr_id, doc["tail"] - len(job_ids), job_ids, ticket)
            whole += w
            shared += s
            if len(whole) * BLOCK >= ENQUEUE_RUN:
                await write_blocks(db, whole, shared)
                whole, shared = [], []
    await write_blocks(db, whole, shared)


async def take(db: Database, wid: int, rr_id: int, count: int) -> list[Entry]:
    """Move the head of a queue forward by up to `count`; returns the entries at the positions passed."""
    qid = queue_id(wid, rr_id)
    # The old head is captured inside the same update and read from the document after it (in a claim's transaction,
    # no other take comes between): the embedded server's BEFORE image is not reliable under concurrent updates.
    after = await db.update_and_read("queues", {"_id": qid, "$expr": {"$lt": ["$head", "$tail"]}},
                                     [{"$set": {"taken_from": "$head",
                                                "head": {"$min": [{"$add": ["$head", count]}, "$tail"]}}}],
                                     {"head": 1, "taken_from": 1}, own=True)  # fmt: skip
    if after is None:
        return []
    start, end = after["taken_from"], after["head"]
    entries = await _read_positions(db, qid, start, end)
    for pause in UNWRITTEN_WAITS:
        missing = [pos for pos in range(start, end) if pos not in entries]
        if not missing:
            break
        # Its enqueuer reserved the position and is writing it: wait for it rather than lose the job to `repair`.
        await asyncio.sleep(pause)
        entries.update(await _read_positions(db, qid, missing[0], missing[-1] + 1))
    return [entries[pos] for pos in range(start, end) if pos in entries]


async def _read_positions(db: Database, qid: str, start: int, end: int) -> dict[int, Entry]:
    """The written entries at positions start..end-1 of a queue."""
    # Passed positions stay in their blocks until the queue is cleared or the workflow deleted:
    # removing them here would cost every claim a write.
    block_ids = [block_id(qid, b) for b in range(start // BLOCK, (end - 1) // BLOCK + 1)]
    entries: dict[int, Entry] = {}
    for part in chunks(block_ids):
        async for doc in db.slots.find({"_id": {"$in": part}}):
            for offset, value in doc["jobs"].items():
                pos = doc["block"] * BLOCK + int(offset)
                if start <= pos < end:
                    entries[pos] = _entry(value)
    return entries


def _entry(value: Any) -> Entry:
    return (value, None) if isinstance(value, int) else (value[0], value[1])


async def clear(db: Database, wid: int) -> None:
    """Empty every queue of a workflow (before its jobs are queued afresh)."""
    await db.slots.delete_many({"workflow_id": wid})
    await db.queues.update_many({"workflow_id": wid}, [{"$set": {"head": "$tail"}}])


async def live_entries(db: Database, wid: int) -> set[Entry]:
    """Every entry at a position that no claim has passed yet."""
    heads = {q["rr_id"]: q["head"] for q in await queues(db, wid)}
    live: set[Entry] = set()
    async for doc in db.slots.find({"workflow_id": wid}):
        if "block" not in doc:  # not a block of positions (left by an older version)
            continue
        head = heads.get(doc["rr"], 0)
        live |= {_entry(value) for offset, value in doc["jobs"].items() if doc["block"] * BLOCK + int(offset) >= head}
    return live


async def repair(db: Database, wid: int) -> int:
    """Queue again the ready jobs that no live entry can hand out; returns how many (O(ready jobs)).

    Each is given a new ticket only if it still holds the one it was seen with (and is
    still ready): a claim that took the job's entry and is marking it right now holds
    the same guard, so exactly one of the two wins and the job is never handed out twice.
    """
    live = await live_entries(db, wid)
    lost = [doc async for doc in db.jobs.find({"workflow_id": wid, "status": "ready"}, {"rr_id": 1, "queue_ticket": 1})
            if (doc["_id"], doc.get("queue_ticket")) not in live]  # fmt: skip
    if not lost:
        return 0
    ticket = new_ticket()
    for part in chunks(lost, 1000):
        # A transaction, as every write of jobs during a run: on the embedded database a plain write that waits for a
        # transaction's job would hold up that transaction's next write of jobs, and neither would ever finish.
        ops = [UpdateOne({"_id": d["_id"], "status": "ready", "queue_ticket": d.get("queue_ticket")},
                         {"$set": ticketed(ticket)}) for d in part]  # fmt: skip
        await db.atomic(wid, lambda db, ops=ops: db.jobs.bulk_write(ops, ordered=False))
    by_rr: dict[int, list[int]] = {}
    for part in chunks([d["_id"] for d in lost]):
        async for doc in db.jobs.find({"_id": {"$in": part}, "queue_ticket": ticket}, {"rr_id": 1}):
            by_rr.setdefault(doc["rr_id"], []).append(doc["_id"])
    await enqueue(db, wid, by_rr, ticket)
    return sum(len(ids) for ids in by_rr.values())
