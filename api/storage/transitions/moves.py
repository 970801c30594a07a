"""The guarded writes of a job's status, and the moves that are not a runner's: restarts, disabling, restoring.

`move` is the one primitive that writes a status: it checks the transition against
`torc_client.core.states` and puts the source status into the update's filter, so two
requests racing for the same job cannot both win.
"""

from __future__ import annotations

from typing import Any

from pymongo import UpdateMany, UpdateOne

from api.storage import workflows
from api.storage.db import Database, chunks
from api.storage.workflows import Event
from torc_client.core import states
from torc_client.core.errors import InvalidTransition

S = states.JobStatus


async def move(db: Database, ids: list[int], from_: str, to: str, *, where: dict[str, Any] | None = None,
               sets: dict[str, Any] | None = None, inc: dict[str, int] | None = None) -> int:  # fmt: skip
    """Move the jobs among `ids` whose status is `from_` (and that match `where`) to `to`; returns how many moved."""
    if not states.can_move(from_, to):
        raise InvalidTransition(ids[0] if len(ids) == 1 else ids, str(from_), str(to))
    update: dict[str, Any] = {"$set": {"status": str(to), **(sets or {})}}
    if inc:
        update["$inc"] = inc
    moved = 0
    for part in chunks(ids):
        result = await db.jobs.update_many({"_id": {"$in": part}, "status": str(from_), **(where or {})}, update)
        moved += result.modified_count
    return moved


async def move_many(db: Database, moves: list[tuple[list[int], str, str, dict[str, Any], dict[str, Any]]]) -> int:
    """Several `move`s, each (ids, from, to, where, sets), in one command; returns how many jobs moved in all."""
    ops = []
    for ids, from_, to, where, sets in moves:
        if not states.can_move(from_, to):
            raise InvalidTransition(ids[0] if len(ids) == 1 else ids, str(from_), str(to))
        ops += [UpdateMany({"_id": {"$in": part}, "status": str(from_), **where}, {"$set": {"status": str(to), **sets}})
                for part in chunks(ids)]  # fmt: skip
    return (await db.jobs.bulk_write(ops, ordered=False)).modified_count if ops else 0


def restarting(jid: int, from_: str | None, to: str, sets: dict[str, Any]) -> UpdateOne:
    """The update (for a bulk write) that puts one job back at the start of a run, in `to`.

    Any status may go back to the start (to uninitialized, and from there to blocked or ready:
    see `states`). With `from_`, the update applies only while the job still has that status, so a
    change that raced it wins; without, the caller holds the workflow (initialisation).
    """
    _check_restart(jid, from_, to)
    where: dict[str, Any] = {"_id": jid} if from_ is None else {"_id": jid, "status": str(from_)}
    return UpdateOne(where, {"$set": {"status": str(to), **sets}})


async def restart_ready(db: Database, ids: list[int], sets: dict[str, Any]) -> None:
    """Jobs with nothing to wait for back at the start of a run, ready (the workflow is held by the caller)."""
    for part in chunks(ids):
        await db.jobs.update_many({"_id": {"$in": part}}, {"$set": {"status": S.READY.value, **sets}})


def _check_restart(jid: int, from_: str | None, to: str) -> None:
    to_start = to == S.UNINITIALIZED or states.can_move(S.UNINITIALIZED, to)
    leaves = from_ is None or from_ == S.UNINITIALIZED or states.can_move(from_, S.UNINITIALIZED)
    if not (to_start and leaves) or (to == S.UNINITIALIZED and from_ == S.UNINITIALIZED):
        raise InvalidTransition(jid, str(from_), str(to))


async def disable(db: Database, wf: dict[str, Any], doc: dict[str, Any]) -> None:
    """Take a job out of the workflow (it counts as done; its dependents are not released)."""
    if doc["status"] == S.DISABLED.value:
        return
    status = doc["status"]
    if not states.can_move(status, S.DISABLED):
        raise InvalidTransition(doc["_id"], status, S.DISABLED.value)

    async def body(db: Database) -> None:
        if await move(db, [doc["_id"]], status, S.DISABLED):
            await workflows.record(db, wf["_id"], {status: -1, S.DISABLED: 1},
                                   [Event("job", f"job {doc['name']} disabled", status="disabled",
                                          job_ids=[doc["_id"]])])  # fmt: skip

    await db.atomic(wf["_id"], body)


async def restore(db: Database, wid: int, statuses: dict[int, str]) -> int:
    """Set the statuses a finished run left, on the jobs of a workflow imported from an archive; returns how many.

    Not a transition: the jobs were just created from the archive's spec and have never run,
    and they take the statuses they ended that run with on the exporting server (any but
    pending and running, which belong to a runner). Nothing claims them meanwhile: the
    workflow is not initialised until the restore is done.
    """
    groups: dict[str, list[int]] = {}
    for jid, status in statuses.items():
        if S(status) in states.LEASED:
            raise InvalidTransition(jid, "archived", status)
        groups.setdefault(S(status).value, []).append(jid)
    moved = 0
    for status, ids in groups.items():
        for part in chunks(ids, 1000):
            result = await db.jobs.update_many({"_id": {"$in": part}, "workflow_id": wid}, {"$set": {
                "status": status, "waiting_on": [], "claim_token": None, "active_compute_node_id": None,
                "queue_ticket": None}})  # fmt: skip
            moved += result.modified_count
    return moved
