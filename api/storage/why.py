"""Why a job waits: its unfinished upstream jobs, the unblocked jobs at the root of them, and its missing inputs.

Everything is read by id: the job, its workflow, then the jobs in its `waiting_on`, level by level
down to unfinished jobs that are not blocked (the root causes), each level one `$in` per 50 known
ids. A walk reads at most `READ_BUDGET` jobs (`PER_LEVEL` of each level), and an answer looks at
most at `INPUTS_READ` inputs and `UPSTREAM_SCAN` upstream jobs, so a job behind a million others
answers in bounded time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from api.storage import paths, workflows
from api.storage.db import Database, chunks
from torc_client.analysis import dependencies
from torc_client.contract import JobRef, JobWhy, MissingInput, RootCause
from torc_client.core import states
from torc_client.core.errors import NotFound

S = states.JobStatus

#: Most jobs one root walk reads, and most it reads of one level (the rest of a level is counted, not read).
READ_BUDGET = 2000
PER_LEVEL = 500
#: Direct upstream jobs listed (all are counted).
LISTED = 50
#: Roots listed unless the caller asks for another number (all found are counted).
DEFAULT_ROOTS = 50
#: Input files and input user_data records looked at, each.
INPUTS_READ = 500
#: Upstream jobs searched for the producers of missing inputs, or for the failures behind a cancellation.
UPSTREAM_SCAN = 2000

_JOB = {"name": 1, "status": 1, "workflow_id": 1, "waiting_on": 1, "upstream": 1, "input_files": 1,
        "input_user_data": 1, "cancel_on_blocking_job_failure": 1}  # fmt: skip
_WALK = {"name": 1, "status": 1, "waiting_on": 1}
_CAUSE = {"name": 1, "status": 1, "upstream": 1}
_PRODUCER = {"name": 1, "status": 1, "waiting_on": 1, "output_files": 1, "output_user_data": 1}

Present = Callable[[str], str]


class _Walk(msgspec.Struct):
    direct: list[JobRef] = []
    roots: list[RootCause] = []
    num_roots: int = 0
    complete: bool = True
    read: int = 0


async def why(db: Database, jid: int, max_roots: int = DEFAULT_ROOTS) -> JobWhy:
    """What job `jid` waits for (see the module's docstring for what is read)."""
    doc = await db.jobs.find_one({"_id": jid}, _JOB)
    if doc is None:
        raise NotFound("job", jid)
    wf = await workflows.get_doc(db, doc["workflow_id"])
    present: Present = (lambda status: status) if wf["is_initialized"] else (lambda _: S.UNINITIALIZED.value)
    waiting = doc.get("waiting_on") or []
    blocked = doc["status"] == S.BLOCKED.value
    walk = await _walk(db, waiting, present, max_roots) if blocked else _Walk()
    unfinished = not states.is_done(doc["status"])
    files, data = await _missing_inputs(db, wf, doc, present) if unfinished else ([], [])
    canceled_by = await _canceled_by(db, doc) if doc["status"] == S.CANCELED.value else []
    num_waiting = len(waiting) if blocked else 0
    answer = JobWhy(
        job=JobRef(id=jid, name=doc["name"], status=present(doc["status"]), num_waiting_on=num_waiting),
        workflow_id=wf["_id"], workflow_initialized=wf["is_initialized"], workflow_canceled=wf["is_canceled"],
        cancel_on_blocking_job_failure=doc.get("cancel_on_blocking_job_failure", True),
        num_upstream=len(doc.get("upstream", [])), num_waiting_on=num_waiting,
        waiting_on=walk.direct, roots=walk.roots, num_roots=walk.num_roots, walk_complete=walk.complete,
        jobs_read=walk.read, missing_files=files, missing_user_data=data, canceled_by=canceled_by,
    )  # fmt: skip
    return msgspec.structs.replace(answer, verdict=dependencies.verdict(answer))


async def _walk(db: Database, start: list[int], present: Present, max_roots: int) -> _Walk:
    """Breadth first from `start` through blocked jobs to the unfinished jobs that are not blocked.

    Each level reads at most `PER_LEVEL` of its jobs and the walk at most `READ_BUDGET`, so behind a wide fan-in
    it still reaches roots (a sample of them) instead of spending everything on the first level.
    """
    walk = _Walk()
    visited = set(start)
    frontier, first = sorted(visited), True
    while frontier and walk.read < READ_BUDGET:
        take = frontier[: min(PER_LEVEL, READ_BUDGET - walk.read)]
        walk.complete = walk.complete and len(take) == len(frontier)
        walk.read += len(take)
        found = []
        for d in await workflows.find_by_ids(db.jobs, take, _WALK):
            waiting = d.get("waiting_on") or []
            if d["status"] != S.BLOCKED.value or not waiting:
                walk.num_roots += 1
                if len(walk.roots) < max_roots:
                    walk.roots.append(RootCause(id=d["_id"], name=d["name"], status=present(d["status"]),
                                                note=dependencies.root_note(present(d["status"]))))  # fmt: skip
                waiting = []
            if first and len(walk.direct) < LISTED:
                walk.direct.append(JobRef(id=d["_id"], name=d["name"], status=present(d["status"]),
                                          num_waiting_on=len(waiting)))  # fmt: skip
            found.extend(u for u in waiting if u not in visited)
            visited.update(waiting)
        frontier, first = found, False
    walk.complete = walk.complete and not frontier
    return walk


async def _missing_inputs(db: Database, wf: dict[str, Any], doc: dict[str, Any],
                          present: Present) -> tuple[list[MissingInput], list[MissingInput]]:  # fmt: skip
    """Input files not produced yet or not on disk, and input user_data records still empty."""
    file_ids = doc.get("input_files", [])[:INPUTS_READ]
    data_ids = doc.get("input_user_data", [])[:INPUTS_READ]
    if not file_ids and not data_ids:
        return [], []
    files = await workflows.find_by_ids(db.files, file_ids, {"name": 1, "path": 1})
    data = await workflows.find_by_ids(db.user_data, data_ids, {"name": 1, "data": 1})
    empty = [d for d in data if d.get("data") is None]
    writers = await _producers(db, doc.get("upstream", []), {f["_id"] for f in files}, {d["_id"] for d in empty})
    missing_files = [m for f in files
                     if (m := _file(wf, f, writers.get(("file", f["_id"])), present, db.private_files))]  # fmt: skip
    missing_data = [_user_data(d, writers.get(("user_data", d["_id"])), present) for d in empty]
    return missing_files, missing_data


async def _producers(db: Database, upstream: list[int], files: set[int], data: set[int]) -> dict[tuple, dict]:
    """("file" | "user_data", id) -> the upstream job document that writes it, for the ids asked about."""
    wanted = {("file", fid) for fid in files} | {("user_data", uid) for uid in data}
    found: dict[tuple, dict] = {}
    for part in chunks(upstream[:UPSTREAM_SCAN]):
        if len(found) == len(wanted):
            break
        async for d in db.jobs.find({"_id": {"$in": part}}, _PRODUCER):
            for key in [("file", fid) for fid in d.get("output_files", [])] + [
                    ("user_data", uid) for uid in d.get("output_user_data", [])]:  # fmt: skip
                if key in wanted:
                    found[key] = d
    return found


def _file(wf: dict[str, Any], f: dict[str, Any], writer: dict | None, present: Present,
          private: bool) -> MissingInput | None:  # fmt: skip
    if writer is not None and not states.is_done(writer["status"]):
        reason = f"not produced yet: {writer['name']} ({present(writer['status'])}) writes it"
    else:
        found = paths.mtime(f["path"], wf.get("working_dir"), wf.get("user", ""), private)
        if found is not None:  # there, or not the server's to check
            return None
        reason = (f"does not exist, although {writer['name']} ({writer['status']}) writes it" if writer else
                  "does not exist, and no job writes it: it must exist before the job runs")  # fmt: skip
    return MissingInput(kind="file", id=f["_id"], name=f["name"], path=f["path"], reason=reason,
                        producer=_ref(writer, present))  # fmt: skip


def _user_data(d: dict[str, Any], writer: dict | None, present: Present) -> MissingInput:
    if writer is None:
        reason = f"empty, and no job writes it: set it with `torc user-data update {d['_id']} --data JSON`"
    elif states.is_done(writer["status"]):
        reason = f"empty, although {writer['name']} ({writer['status']}) writes it"
    else:
        reason = f"empty until {writer['name']} ({present(writer['status'])}) writes it"
    return MissingInput(kind="user_data", id=d["_id"], name=d["name"], reason=reason, producer=_ref(writer, present))


def _ref(d: dict[str, Any] | None, present: Present) -> JobRef | None:
    if d is None:
        return None
    waiting = len(d.get("waiting_on") or []) if d["status"] == S.BLOCKED.value else 0
    return JobRef(id=d["_id"], name=d["name"], status=present(d["status"]), num_waiting_on=waiting)


async def _canceled_by(db: Database, doc: dict[str, Any]) -> list[JobRef]:
    """For a canceled job: the upstream jobs whose failure canceled it, found through the canceled jobs between."""
    failures = sorted(s.value for s in states.UPSTREAM_FAILURES)
    frontier = doc.get("upstream", [])[:UPSTREAM_SCAN]
    visited = set(frontier)
    found: list[JobRef] = []
    read = 0
    while frontier and read < READ_BUDGET:
        take, frontier = frontier[: READ_BUDGET - read], []
        read += len(take)
        for part in chunks(take):
            async for d in db.jobs.find({"_id": {"$in": part}, "status": {"$in": failures}}, _CAUSE):
                ups = d.get("upstream") or []
                if d["status"] == S.CANCELED.value and ups:  # canceled in turn: look further up
                    frontier.extend(u for u in ups if u not in visited)
                    visited.update(ups)
                else:
                    found.append(JobRef(id=d["_id"], name=d["name"], status=d["status"]))
    return sorted(found, key=lambda r: r.id)[:LISTED]
