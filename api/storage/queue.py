"""The ready queue: ready jobs at numbered positions, one queue per resource requirement.

A queue document holds `head` and `tail`; positions live in block documents of
`BLOCK` consecutive positions each (`"{queue}:b{block}"`, a map of offset to job id),
so a claim of a few hundred jobs reads a handful of documents and queueing 100,000
jobs writes 1,000. Enqueueing reserves positions with one `$inc` of `tail` and writes
its offsets into the blocks (upserts: enqueuers of neighbouring ranges share a block);
taking moves `head` forward with one conditional pipeline update (`head < tail`,
`head = min(head + k, tail)`), so each position is handed to exactly one claimer
without any query over the ready jobs. A claimer then marks the jobs pending with a
guard on their status, so a stale position (a job canceled or requeued since) is harmless.

A position reserved but not yet written when a claimer passes it leaves its job ready
but unqueued; `repair` finds such jobs when the counts show more ready jobs than the
queues hold, and queues them again.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError

from api.storage.db import Database, chunks
from torc_client.resources import Shape

#: Positions per block document.
BLOCK = 100
DUPLICATE_KEY = 11000


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


async def queues(db: Database, wid: int) -> list[dict[str, Any]]:
    return [doc async for doc in db.queues.find({"workflow_id": wid})]


def block_id(qid: str, block: int) -> str:
    return f"{qid}:b{block}"


def block_writes(wid: int, rr_id: int, first: int, job_ids: list[int]) -> tuple[list[dict], list[UpdateOne]]:
    """What puts `job_ids` at positions `first`, `first + 1`, ... of a queue.

    Returns whole block documents for the blocks these positions fill completely
    (nobody else can hold a position in them, so they are plain inserts) and upserts
    for the blocks they share with neighbouring reservations.
    """
    qid = queue_id(wid, rr_id)
    blocks: dict[int, dict[str, int]] = {}
    for pos, jid in enumerate(job_ids, start=first):
        blocks.setdefault(pos // BLOCK, {})[str(pos % BLOCK)] = jid
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


async def enqueue(db: Database, wid: int, by_rr: dict[int, list[int]]) -> None:
    """Append ready jobs to the queue of their resource requirement."""
    whole, shared = [], []
    for rr_id, job_ids in by_rr.items():
        if not job_ids:
            continue
        doc = await db.queues.find_one_and_update(
            {"_id": queue_id(wid, rr_id)}, {"$inc": {"tail": len(job_ids)}}, return_document=ReturnDocument.AFTER
        )
        if doc is not None:
            w, s = block_writes(wid, rr_id, doc["tail"] - len(job_ids), job_ids)
            whole += w
            shared += s
    await write_blocks(db, whole, shared)


async def take(db: Database, wid: int, rr_id: int, count: int) -> list[int]:
    """Move the head of a queue forward by up to `count`; returns the job ids at the positions passed."""
    qid = queue_id(wid, rr_id)
    # The old head is captured inside the same update and read from the AFTER document:
    # the embedded server's BEFORE image is not reliable under concurrent updates.
    after = await db.queues.find_one_and_update(
        {"_id": qid, "$expr": {"$lt": ["$head", "$tail"]}},
        [{"$set": {"taken_from": "$head", "head": {"$min": [{"$add": ["$head", count]}, "$tail"]}}}],
        projection={"head": 1, "taken_from": 1},
        return_document=ReturnDocument.AFTER,
    )
    if after is None:
        return []
    start, end = after["taken_from"], after["head"]
    # Passed positions stay in their blocks until the queue is cleared or the workflow deleted:
    # removing them here would cost every claim a write.
    block_ids = [block_id(qid, b) for b in range(start // BLOCK, (end - 1) // BLOCK + 1)]
    jobs: dict[int, int] = {}
    for part in chunks(block_ids):
        async for doc in db.slots.find({"_id": {"$in": part}}):
            jobs.update({doc["block"] * BLOCK + int(offset): jid for offset, jid in doc["jobs"].items()})
    # A position reserved but not written yet is skipped: `repair` queues its job again.
    return [jobs[pos] for pos in range(start, end) if pos in jobs]


async def clear(db: Database, wid: int) -> None:
    """Empty every queue of a workflow (before its jobs are queued afresh)."""
    await db.slots.delete_many({"workflow_id": wid})
    await db.queues.update_many({"workflow_id": wid}, [{"$set": {"head": "$tail"}}])


async def queued_job_ids(db: Database, wid: int) -> set[int]:
    """Every job id at a position that no claim has passed yet."""
    heads = {q["rr_id"]: q["head"] for q in await queues(db, wid)}
    queued = set()
    async for doc in db.slots.find({"workflow_id": wid}):
        if "block" not in doc:  # not a block of positions (left by an older version)
            continue
        head = heads.get(doc["rr"], 0)
        queued |= {jid for offset, jid in doc["jobs"].items() if doc["block"] * BLOCK + int(offset) >= head}
    return queued


async def repair(db: Database, wid: int) -> int:
    """Queue again the ready jobs that sit at no queue position; returns how many (O(ready jobs))."""
    queued = await queued_job_ids(db, wid)
    lost: dict[int, list[int]] = {}
    async for doc in db.jobs.find({"workflow_id": wid, "status": "ready"}, {"rr_id": 1}):
        if doc["_id"] not in queued:
            lost.setdefault(doc["rr_id"], []).append(doc["_id"])
    await enqueue(db, wid, lost)
    return sum(len(ids) for ids in lost.values())

