"""Torc's `spawn_jobs`: a running job adds jobs to its (initialised) workflow, as Torc's dynamic workflows do.

The calling job must be held by a runner: running, or pending (its runner started it and
reports the start with its next exchange, which a paced runner makes later). Every new
job waits for it, and for the jobs its `depends_on` names (jobs of the workflow, or
others of the same request); so the new jobs are blocked, and become ready, queued and
claimable through the ordinary release when the caller completes (a dependency that has
already finished is not waited for). The caller is not completed by this call: its
runner completes it when its command exits.

Each call that adds jobs is one generation of a lineage (the caller's name unless the
request names one), kept as Torc keeps it: an ephemeral user_data record
`__torc_lineage__<lineage>__g<NNNNNN>` holding the generation and the request's `state`;
a call without jobs but with a state stores it as the lineage's `__final` record. A
lineage has at most `MAX_GENERATIONS` generations (Torc's default, 1000).
A call repeated with the same names adds nothing and answers with the jobs already made.
The jobs, the edges to them, the counts and the lineage record are written in one
transaction, guarded on the caller still held by its runner.
"""

from __future__ import annotations

import re
from typing import Any

from api.storage import edits, job_names, jobs, workflows
from api.storage.db import Database
from api.storage.workflows import Event
from torc_client.contract import SpawnJob, Spawned, SpawnRequest
from torc_client.core import states
from torc_client.core.errors import Conflict, InvalidRequest
from torc_client.core.graph import find_cycle, format_cycle

S = states.JobStatus
#: Generations a lineage may have (Torc's default `max_spawn_iterations_per_lineage`, which Torc's clients of this
#: API version cannot set).
MAX_GENERATIONS = 1000
#: The environment variable that tells a spawned job its lineage (Torc's name).
LINEAGE_ENV = "TORC_ORCHESTRATOR_LINEAGE_ID"
_PREFIX = "__torc_lineage__"
#: The statuses of a job that has finished: a new job does not wait for it.
DONE = sorted(s.value for s in states.DONE)
#: The statuses of a job its runner holds: it has not finished, so the jobs it spawns are released when it does.
HELD = sorted(s.value for s in states.LEASED)


async def spawn(db: Database, caller_id: int, request: SpawnRequest) -> Spawned:
    """Add `request.jobs` to the caller's workflow, each waiting for the caller; see the module's description."""
    caller = await jobs.get_doc(db, caller_id)
    if caller["status"] not in HELD:
        raise InvalidRequest(f"job {caller_id} is {caller['status']}: only a job that a runner holds (pending or "
                             "running) spawns jobs (jobs waiting for a job that has finished, or that no runner "
                             "runs, might never be released)")  # fmt: skip
    wid, lineage = caller["workflow_id"], request.lineage or caller["name"]
    new = request.jobs
    _check_names(new)
    existing = await _ids_by_name(db, wid, {j.name for j in new} | {d for j in new for d in j.depends_on or []})
    generation = await _generation(db, wid, lineage)
    made = [existing[j.name] for j in new if j.name in existing]
    if new and len(made) == len(new):  # the same request again: nothing more to do
        return Spawned(iteration=generation, spawned_job_ids=made)
    if made:
        raise InvalidRequest(f"jobs {', '.join(sorted(j.name for j in new if j.name in existing)[:5])} already exist "
                             "in the workflow and others of this request do not: a repeated request names the same "
                             "jobs, a new one only new names")  # fmt: skip
    wf = await workflows.get_doc(db, wid, full=True)
    if new:
        if generation >= MAX_GENERATIONS:
            raise InvalidRequest(f"lineage {lineage!r} has had its {MAX_GENERATIONS} generations "
                                 "(max_spawn_iterations_per_lineage)")  # fmt: skip
        generation += 1
    docs = await _documents(db, wf, caller, lineage, new, existing) if new else []
    state = {"generation": generation, "spawn_count": generation, "state": request.state}
    record = (f"{_PREFIX}{lineage}__g{generation:06d}", state) if new else (
        (f"{_PREFIX}{lineage}__final", {**state, "final": True}) if request.state is not None else None)  # fmt: skip
    await _store(db, wid, caller, docs, record)
    return Spawned(iteration=generation, spawned_job_ids=[d["_id"] for d in docs])


def _check_names(new: list[SpawnJob]) -> None:
    """Names unique within the request, priorities not negative, and the dependencies among them without a cycle."""
    seen: set[str] = set()
    for job in new:
        if job.name in seen:
            raise InvalidRequest(f"job name {job.name!r} appears twice in the request: each spawned job needs its own")
        if job.priority is not None and job.priority < 0:
            raise InvalidRequest(f"spawned job {job.name!r} has priority {job.priority}: a priority is 0 or more")
        seen.add(job.name)
    cycle = find_cycle({j.name: [d for d in j.depends_on or [] if d in seen] for j in new})
    if cycle:
        raise InvalidRequest(f"the spawned jobs' depends_on make a {format_cycle(cycle)}")


async def _ids_by_name(db: Database, wid: int, names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    found = db.jobs.find({"workflow_id": wid, "name": {"$in": sorted(names)}}, {"name": 1}).sort("_id", 1)
    ids: dict[str, int] = {}
    async for doc in found:
        ids.setdefault(doc["name"], doc["_id"])
    return ids


async def _generation(db: Database, wid: int, lineage: str) -> int:
    """The lineage's latest generation (0 before its first), from its user_data records."""
    prefix = f"{_PREFIX}{lineage}__g"
    found = db.user_data.find({"workflow_id": wid, "name": {"$regex": f"^{re.escape(prefix)}[0-9]+$"}}, {"name": 1})
    return max([int(doc["name"][len(prefix):]) async for doc in found], default=0)


async def _documents(db: Database, wf: dict[str, Any], caller: dict[str, Any], lineage: str, new: list[SpawnJob],
                     existing: dict[str, int]) -> list[dict[str, Any]]:  # fmt: skip
    """The new jobs' documents: ids, resource requirements, dependencies (caller first) and what they wait for."""
    rr_ids = await _requirements(db, wf["_id"], {j.resource_requirements for j in new} - {None})
    first = await db.allocate_ids("jobs", len(new))
    ids = {**existing, **{job.name: first + i for i, job in enumerate(new)}}
    for job in new:
        unknown = [d for d in job.depends_on or [] if d not in ids]
        if unknown:
            raise InvalidRequest(f"spawned job {job.name!r} depends on {unknown[0]!r}, which is neither a job of "
                                 f"workflow {wf['_id']} nor another job of the request")  # fmt: skip
    finished = await _finished(db, [existing[d] for j in new for d in j.depends_on or [] if d in existing])
    env = {**wf.get("env", {}), LINEAGE_ENV: lineage}
    docs = []
    for i, job in enumerate(new):
        upstream = sorted({caller["_id"], *(ids[d] for d in job.depends_on or [])})
        doc = jobs.new_document(
            first + i, wf["_id"], name=job.name, command=job.command, rr_id=rr_ids[job.resource_requirements],
            cancel_on_blocking_job_failure=job.cancel_on_blocking_job_failure is not False, depends_on=upstream,
            upstream=upstream, env=env, **({"priority": job.priority} if job.priority else {}))  # fmt: skip
        doc["waiting_on"] = [u for u in upstream if u not in finished]
        docs.append(doc)
    return docs


async def _requirements(db: Database, wid: int, names: set[str]) -> dict[str | None, int]:
    """Resource requirement name -> id (the first of that name), with None for the workflow's default."""
    wanted = names | {edits.DEFAULT_RR}
    found = db.resource_requirements.find({"workflow_id": wid, "name": {"$in": sorted(wanted)}}, {"name": 1})
    by_name: dict[str | None, int] = {}
    async for doc in found.sort("_id", 1):
        by_name.setdefault(doc["name"], doc["_id"])
    missing = sorted(wanted - set(by_name))
    if missing:
        raise InvalidRequest(f"workflow {wid} has no resource requirements named {missing[0]!r}")
    by_name[None] = by_name[edits.DEFAULT_RR]
    return by_name


async def _finished(db: Database, ids: list[int]) -> set[int]:
    docs = await workflows.find_by_ids(db.jobs, sorted(set(ids)), {"status": 1})
    return {d["_id"] for d in docs if d["status"] in DONE}


async def _store(db: Database, wid: int, caller: dict[str, Any], docs: list[dict[str, Any]],
                 record: tuple[str, dict[str, Any]] | None) -> None:  # fmt: skip
    """Write the jobs, the edges to them, the counts and the lineage record in one transaction, while the caller
    runs."""
    ud_id = await db.allocate_ids("user_data", 1) if record else None
    ids = [doc["_id"] for doc in docs]
    blocked_by: dict[int, list[int]] = {}  # the jobs each job blocks, so that its completion releases them
    for doc in docs:
        for up in doc["waiting_on"]:
            blocked_by.setdefault(up, []).append(doc["_id"])
    for doc in docs:
        doc["blocks"] = blocked_by.pop(doc["_id"], [])
    blockers = blocked_by.pop(caller["_id"], [])

    async def body(db: Database) -> None:
        held = await db.jobs.update_one({"_id": caller["_id"], "status": {"$in": HELD}},
                                        {"$addToSet": {"blocks": {"$each": blockers}}})  # fmt: skip
        if not held.matched_count:
            raise Conflict(f"job {caller['_id']} finished while it was spawning jobs: nothing was added")
        done: set[int] = set()
        for up, downs in blocked_by.items():  # jobs of the workflow that the new jobs also wait for, if unfinished
            added = await db.jobs.update_one({"_id": up, "status": {"$nin": DONE}},
                                             {"$addToSet": {"blocks": {"$each": downs}}})  # fmt: skip
            if not added.matched_count:  # it finished since it was read: nothing to wait for
                done.add(up)
        if docs:
            await db.jobs.insert_many([{**doc, "waiting_on": [u for u in doc["waiting_on"] if u not in done]}
                                       for doc in docs], ordered=False)  # fmt: skip
            blocks = (await workflows.get_doc(db, wid, full=True))["job_blocks"]
            await db.workflows.update_one({"_id": wid}, {"$set": {"job_blocks": edits.with_job_ids(blocks, ids)}})
            await job_names.forget(db, wid)
            await workflows.record(db, wid, {S.BLOCKED: len(docs)}, [Event(
                "job", f"job {caller['name']} spawned {len(docs)} job(s)", status="blocked", job_ids=ids)])  # fmt: skip
        if record:
            name, data = record
            kept = await db.user_data.find_one({"workflow_id": wid, "name": name}, {"_id": 1})
            if kept:  # a lineage's final state is replaced; a generation's record is always new
                await db.user_data.update_one({"_id": kept["_id"]}, {"$set": {"data": data}})
            else:
                await db.user_data.insert_one({"_id": ud_id, "workflow_id": wid, "name": name, "data": data,
                                               "is_ephemeral": True})  # fmt: skip

    await db.atomic(wid, body)
