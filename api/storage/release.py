"""Dependency release: what happens downstream when jobs finish, inside the same request.

A finished job is pulled from the `waiting_on` list of each job it blocks (`$pull`
is idempotent, so a retried request does no harm). A dependent left waiting on
nothing moves blocked -> ready with a guarded update, so when two upstream jobs
finish at once exactly one request releases it, and it is queued at once.

An upstream failure (failed, canceled, terminated) cancels the dependents that have
`cancel_on_blocking_job_failure`, and their dependents in turn; dependents without
the flag treat the failed job as done and run.
"""

from __future__ import annotations

from typing import Any

from api.storage import priority, queue, workflows
from api.storage.db import Database, chunks
from api.storage.transitions import move
from api.storage.workflows import Event
from torc_client.core import states
from torc_client.core.units import count

S = states.JobStatus
_PROJECTION = {"status": 1, "blocks": 1, "waiting_on": 1, "rr_id": 1, "cancel_on_blocking_job_failure": 1,
               "name": 1, priority.FIELD: 1}  # fmt: skip


async def release(db: Database, wid: int, finished: list[dict[str, Any]]) -> list[int]:
    """Release or cancel the dependents of `finished` job documents, recursively for cancellations.

    Returns the ids of the jobs this request made ready.
    """
    done = [d for d in finished if d["status"] not in states.UPSTREAM_FAILURES]
    failed = [d for d in finished if d["status"] in states.UPSTREAM_FAILURES]
    touched: set[int] = set()
    if done:
        touched |= await _pull(db, done)
    while failed:
        dependents = await workflows.find_by_ids(db.jobs, _blocked_ids(failed), _PROJECTION)
        to_cancel = [d for d in dependents if d["cancel_on_blocking_job_failure"]]
        runs_anyway = [d for d in dependents if not d["cancel_on_blocking_job_failure"]]
        touched |= await _pull(db, failed, only={d["_id"] for d in runs_anyway})
        failed = await _cancel(db, wid, to_cancel, upstream=failed)
    return await _make_ready(db, wid, sorted(touched)) if touched else []


def _blocked_ids(docs: list[dict[str, Any]]) -> list[int]:
    return sorted({jid for doc in docs for jid in doc.get("blocks", [])})


async def _pull(db: Database, upstream: list[dict[str, Any]], only: set[int] | None = None) -> set[int]:
    """Remove `upstream` from the waiting lists of the jobs they block; returns those jobs' ids."""
    dependents = [jid for jid in _blocked_ids(upstream) if only is None or jid in only]
    finished_ids = [doc["_id"] for doc in upstream]
    for part in chunks(dependents):
        await db.jobs.update_many({"_id": {"$in": part}}, {"$pull": {"waiting_on": {"$in": finished_ids}}})
    return set(dependents)


async def _cancel(db: Database, wid: int, docs: list[dict[str, Any]], upstream: list[dict]) -> list[dict]:
    """Cancel blocked dependents of failed jobs; returns the ones this request canceled."""
    if not docs:
        return []
    ids = [d["_id"] for d in docs]
    moved = await move(db, ids, S.BLOCKED, S.CANCELED)
    if not moved:
        return []
    canceled = [d for d in await workflows.find_by_ids(db.jobs, ids, _PROJECTION) if d["status"] == S.CANCELED.value]
    causes = ", ".join(sorted(d["name"] for d in upstream)[:5])
    await workflows.record(db, wid, {S.BLOCKED: -moved, S.CANCELED: moved},
                           [Event("job", f"{count(moved, 'job')} canceled because an upstream job did not succeed ({causes})",
                                  status="canceled", job_ids=[d["_id"] for d in canceled])])  # fmt: skip
    return canceled


async def _make_ready(db: Database, wid: int, ids: list[int]) -> list[int]:
    """blocked -> ready for those of `ids` that wait on nothing any more, and queue them; returns their ids."""
    docs = await workflows.find_by_ids(db.jobs, ids, _PROJECTION)
    candidates = [d for d in docs if d["status"] == S.BLOCKED.value and not d["waiting_on"]]
    if not candidates:
        return []
    ticket = queue.new_ticket()
    moved = await move(db, [d["_id"] for d in candidates], S.BLOCKED, S.READY, where={"waiting_on": []},
                       sets=queue.ticketed(ticket))  # fmt: skip
    if not moved:
        return []
    mine = candidates
    if moved < len(candidates):  # a concurrent release moved some: the fresh ticket tells this one's apart
        again = await workflows.find_by_ids(db.jobs, [d["_id"] for d in candidates], {"queue_ticket": 1, "rr_id": 1})
        mine = [d for d in again if d.get("queue_ticket") == ticket]
    by_rr: dict[int, list[int]] = {}
    for doc in mine:
        by_rr.setdefault(doc["rr_id"], []).append(doc["_id"])
    await queue.enqueue_once_committed(db, wid, priority.ordered_queues(by_rr, priority.of(candidates)), ticket)
    await workflows.record(db, wid, {S.BLOCKED: -moved, S.READY: moved},
                           [Event("job", f"{count(moved, 'job')} ready", status="ready", job_ids=[d["_id"] for d in mine])])
    return [d["_id"] for d in mine]
