"""Job documents: how they look, how they are read and listed, and the edits allowed before a run.

Status changes are not made here: they belong to `transitions.py`, which asks
`torc_client.core.states` what is allowed.

A job document holds its relationships in both directions: `upstream` (every job it
waits for, explicit and implied by files and user_data), `blocks` (the jobs that wait
for it) and `waiting_on` (the upstream jobs not yet done in this run). Completing a
job therefore touches its dependents by id, never by a query over the workflow.
"""

from __future__ import annotations

from typing import Any

import msgspec

from api.storage import job_names, name_match, transitions, workflows
from api.storage.db import Database
from api.storage.hashes import definition_hash
from torc_client.contract import Job, Page, StdioConfig
from torc_client.core import states
from torc_client.core.errors import Conflict, InvalidRequest, NotFound

S = states.JobStatus

#: A status-filtered page walks the jobs in id order (instead of asking the index for every match) when the
#: status has at least this many jobs and the walk should read at most `WALK_MAX_READS` jobs.
DENSE_MIN_MATCHES = 2000
WALK_MAX_READS = 5000
#: Job ids read per step of that walk (`$in` is fastest over a few dozen on the embedded server).
WALK_CHUNK = 50

#: Fields a caller may change only before the workflow is initialised.
STRUCTURAL_FIELDS = ("name", "command", "invocation_script")


def new_document(jid: int, wid: int, **fields: Any) -> dict[str, Any]:
    """A job document with every field a job needs."""
    upstream = sorted(set(fields.pop("upstream", [])))
    doc = {
        "_id": jid, "workflow_id": wid, "invocation_script": None, "rr_id": None, "fh_id": None,
        "cancel_on_blocking_job_failure": True, "supports_termination": False, "attempt_id": 1,
        "depends_on": [], "blocks": [], "input_files": [], "output_files": [], "input_user_data": [],
        "output_user_data": [], "claim_token": None, "active_compute_node_id": None, "lease_losses": 0,
        **fields,
    }  # fmt: skip
    doc["upstream"] = upstream
    doc["waiting_on"] = list(upstream)
    doc["status"] = S.BLOCKED.value if upstream else S.READY.value
    doc["definition_hash"] = definition_hash(doc)
    return doc


def to_record(doc: dict[str, Any], initialized: bool) -> Job:
    return Job(
        id=doc["_id"], workflow_id=doc["workflow_id"], name=doc["name"], command=doc["command"],
        status=doc["status"] if initialized else S.UNINITIALIZED.value,
        invocation_script=doc.get("invocation_script"), resource_requirements_id=doc.get("rr_id"),
        failure_handler_id=doc.get("fh_id"),
        cancel_on_blocking_job_failure=doc.get("cancel_on_blocking_job_failure", True),
        supports_termination=doc.get("supports_termination", False), attempt_id=doc.get("attempt_id", 1),
        depends_on_job_ids=doc.get("upstream", []), input_file_ids=doc.get("input_files", []),
        output_file_ids=doc.get("output_files", []), input_user_data_ids=doc.get("input_user_data", []),
        output_user_data_ids=doc.get("output_user_data", []),
        active_compute_node_id=doc.get("active_compute_node_id"),
        spec_command=doc.get("spec_command"), spec_invocation_script=doc.get("spec_invocation_script"),
        scheduler=doc.get("scheduler"), priority=doc.get("priority", 0), scheduler_id=doc.get("scheduler_id"), env=doc.get("env"),
        stdio=StdioConfig(**doc["stdio"]) if doc.get("stdio") else None,
    )  # fmt: skip


async def get_doc(db: Database, jid: int) -> dict[str, Any]:
    doc = await db.jobs.find_one({"_id": jid})
    if doc is None:
        raise NotFound("job", jid)
    return doc


async def get(db: Database, jid: int) -> Job:
    doc = await get_doc(db, jid)
    wf = await workflows.get_doc(db, doc["workflow_id"])
    return to_record(doc, wf["is_initialized"])


async def list_page(db: Database, wid: int, status: str | None, offset: int, limit: int,
                    name: str | None = None, name_pattern: str | None = None, sort_by: str | None = None,
                    reverse: bool = False, links: dict[str, int] | None = None) -> Page[Job]:  # fmt: skip
    """One page of a workflow's jobs in id order, optionally only those with one status, one name or names like a
    pattern (`name_match`).

    Without a filter the page is read by id from the workflow's id blocks, so the first
    page of a 100,000-job workflow costs one page of point reads, not a scan. Another order
    (`sort_by`, `reverse`), or `links` (only jobs that read file `input_files` or wait for job
    `upstream`), reads every matching job.
    """
    wf = await workflows.get_doc(db, wid, full=True)
    initialized = wf["is_initialized"]
    if status is not None:
        states.parse(status)
    by_name = name_match.condition(name, name_pattern)
    if (sort_by or "id") != "id" or reverse or links:
        return await _sorted_page(db, wf, status, by_name, offset, limit, sort_by or "id", reverse, links or {})
    if by_name is None and (status is None or (not initialized and status == S.UNINITIALIZED.value)):
        total = sum(n for _, n in wf["job_blocks"])
        docs = await workflows.find_by_ids(db.jobs, workflows.id_page(wf["job_blocks"], offset, limit))
    else:
        docs, total = await _filtered(db, wf, status if initialized else None, by_name, offset, limit)
        if not initialized and status not in (None, S.UNINITIALIZED.value):
            docs, total = [], 0
    items = [to_record(doc, initialized) for doc in docs]
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=total,
                has_more=offset + len(items) < total)  # fmt: skip


async def downstream_page(db: Database, wid: int, jid: int, offset: int, limit: int) -> Page[Job]:
    """One page of the jobs that wait directly for job `jid`, in id order: read by id from its `blocks`."""
    doc = await db.jobs.find_one({"_id": jid}, {"workflow_id": 1, "blocks": 1})
    if doc is None or doc["workflow_id"] != wid:
        raise NotFound("job", jid)
    wf = await workflows.get_doc(db, wid)
    blocks = sorted(doc.get("blocks", []))
    docs = await workflows.find_by_ids(db.jobs, blocks[offset : offset + limit])
    items = [to_record(d, wf["is_initialized"]) for d in docs]
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(blocks),
                has_more=offset + len(items) < len(blocks))  # fmt: skip


async def _filtered(db: Database, wf: dict[str, Any], status: str | None, by_name: Any, offset: int,
                    limit: int):  # fmt: skip
    wid = wf["_id"]
    if by_name is None and status is not None and _dense(wf, status, offset, limit):
        return await _walk(db, wf, status, offset, limit), wf["counts"].get(status, 0)
    ids = await _named_ids(db, wf, status, by_name) if by_name is not None else None
    if ids is None:
        query: dict[str, Any] = {"workflow_id": wid}
        if status is not None:
            query["status"] = status
        if by_name is not None:
            query["name"] = by_name
        ids = sorted([doc["_id"] async for doc in db.jobs.find(query, {"_id": 1})])
    return await workflows.find_by_ids(db.jobs, ids[offset : offset + limit]), len(ids)


async def _named_ids(db: Database, wf: dict[str, Any], status: str | None, by_name: Any) -> list[int] | None:
    """The ids a name filter (and a status) selects, from the workflow's stored names; None if it has none."""
    ids = await job_names.matching_ids(db, wf["_id"], by_name, sum(n for _, n in wf["job_blocks"]))
    if ids is None or status is None:
        return ids
    return await job_names.with_status(db, ids, status)


#: The orders a job listing can take (Torc's `sort_by`).
JOB_SORTS = ("id", "name", "status", "priority")


async def _sorted_page(db: Database, wf: dict[str, Any], status: str | None, by_name: Any, offset: int,
                       limit: int, sort_by: str, reverse: bool, links: dict[str, int]) -> Page[Job]:  # fmt: skip
    if sort_by not in JOB_SORTS:
        raise InvalidRequest(f"cannot sort jobs by {sort_by!r}; use one of {', '.join(JOB_SORTS)}")
    initialized = wf["is_initialized"]
    query: dict[str, Any] = {"workflow_id": wf["_id"], "status": status if initialized else None, "name": by_name,
                             **links}
    if not initialized and status not in (None, S.UNINITIALIZED.value):
        query["_id"] = {"$in": []}
    docs = [doc async for doc in db.jobs.find({k: v for k, v in query.items() if v is not None})]
    items = sorted((to_record(doc, initialized) for doc in docs), key=lambda j: (getattr(j, sort_by), j.id),
                   reverse=reverse)[offset : offset + limit]  # fmt: skip
    return Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(docs),
                has_more=offset + len(items) < len(docs))  # fmt: skip


def _dense(wf: dict[str, Any], status: str, offset: int, limit: int) -> bool:
    """Whether walking the jobs in id order finds this page sooner than asking the index for every match.

    The index hands over every matching job before a page can be cut (about 1.4 s for
    50,000 matches on the embedded server); a walk reads about `(offset + limit) / share`
    jobs, which is cheap for the first pages of a common status.
    """
    count = wf.get("counts", {}).get(status, 0)
    total = sum(n for _, n in wf["job_blocks"])
    return count >= DENSE_MIN_MATCHES and (offset + limit) * total <= WALK_MAX_READS * count


async def _walk(db: Database, wf: dict[str, Any], status: str, offset: int, limit: int) -> list[dict[str, Any]]:
    """One page of the jobs with `status`, found by reading the workflow's jobs in id order, a chunk at a time."""
    found: list[dict[str, Any]] = []
    skip = offset
    position = 0
    total = sum(n for _, n in wf["job_blocks"])
    while position < total and len(found) < limit:
        ids = workflows.id_page(wf["job_blocks"], position, WALK_CHUNK)
        position += len(ids)
        docs = [d async for d in db.jobs.find({"_id": {"$in": ids}, "status": status})]
        docs.sort(key=lambda d: d["_id"])
        if skip >= len(docs):
            skip -= len(docs)
            continue
        found.extend(docs[skip:])
        skip = 0
    return found[:limit]


async def names(db: Database, ids: list[int]) -> dict[int, str]:
    return {doc["_id"]: doc["name"] for doc in await workflows.find_by_ids(db.jobs, ids, {"name": 1})}


async def update(db: Database, jid: int, changes: dict[str, Any]) -> Job:
    """Apply a caller's edit. Name, command and script only before initialisation; status only to disabled."""
    doc = await get_doc(db, jid)
    wf = await workflows.get_doc(db, doc["workflow_id"])
    changes = _differing(to_record(doc, wf["is_initialized"]), changes)
    structural = [key for key in STRUCTURAL_FIELDS if key in changes]
    if structural and wf["is_initialized"] and doc["status"] in states.LEASED | {S.READY}:
        raise Conflict(f"job {jid} is {doc['status']}: {', '.join(structural)} cannot change while it is queued or "
                       "running; a change to a finished job takes effect at `torc workflows reinitialize`")  # fmt: skip
    if "status" in changes:
        await _disable(db, wf, doc, changes.pop("status"))
    if "resource_requirements_id" in changes:
        changes["rr_id"] = changes.pop("resource_requirements_id")
        await _check_owned(db, "resource_requirements", changes["rr_id"], doc["workflow_id"])
    if "name" in changes:
        await job_names.forget(db, doc["workflow_id"])
    if changes.get("scheduler_id") is not None:
        await _check_owned(db, "slurm_schedulers", changes["scheduler_id"], doc["workflow_id"])
    if changes:
        # A command set by hand is the text itself: the spec's text, kept for export, no longer applies.
        stale = {f"spec_{key}": "" for key in ("command", "invocation_script") if key in changes}
        await db.jobs.update_one({"_id": jid}, {"$set": changes, **({"$unset": stale} if stale else {})})
    return await get(db, jid)


def _differing(job: Job, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes that differ from the job as a caller sees it: a job read and sent back whole changes nothing."""
    return {key: value for key, value in changes.items() if getattr(job, key, msgspec.UNSET) != value}


async def _disable(db: Database, wf: dict, doc: dict, status: str) -> None:
    if status != S.DISABLED.value:
        raise InvalidRequest(f"a job's status can only be set to disabled through an update, not {status!r}")
    await transitions.disable(db, wf, doc)


async def _check_owned(db: Database, collection: str, rid: int, wid: int) -> None:
    doc = await db.collection(collection).find_one({"_id": rid}, {"workflow_id": 1})
    if doc is None or doc["workflow_id"] != wid:
        raise NotFound(collection.rstrip("s"), rid)
