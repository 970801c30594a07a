"""Edits to a workflow's contents through the API (outside spec creation).

Adding or removing jobs, or changing what they read and write, changes the graph;
such edits are allowed only before the workflow's first run and mark it for a full
rebuild at initialisation, which recomputes every relationship and checks cycles.
A deletion takes the references to the deleted record with it (as NREL Torc's
cascading tables do), except for resource requirements, which are refused while jobs
use them (Torc would delete those jobs).
"""

from __future__ import annotations

import re
from typing import Any

from pymongo import UpdateOne

from api.storage import job_names, jobs, queue, records, workflows
from api.storage.db import Database
from api.storage.hashes import DEFINITION_FIELDS, definition_hash
from torc_client.contract import Job, JobCreate, Page, UserData
from torc_client.core import states
from torc_client.core.errors import Conflict, InvalidRequest, NotFound
from torc_client.core.units import count

S = states.JobStatus
#: Job fields that name the jobs upstream of it (cleared of a deleted job).
UPSTREAM_FIELDS = ("depends_on", "upstream", "waiting_on")
#: The resource requirements every workflow has, used by jobs added without any.
DEFAULT_RR = "default"
#: Job names quoted in a message about many jobs.
NAMES_SHOWN = 5


async def _editable(db: Database, wid: int, what: str) -> dict[str, Any]:
    wf = await workflows.get_doc(db, wid, full=True)
    if wf["is_initialized"]:
        raise Conflict(f"workflow {wid} is initialised: {what} only before its first run "
                       "(create a new workflow, or reset it with `torc workflows reset-status`)")  # fmt: skip
    return wf


async def create_job(db: Database, data: JobCreate) -> Job:
    return (await create_jobs(db, [data]))[0]


async def create_jobs(db: Database, batch: list[JobCreate]) -> list[Job]:
    """Add jobs to one workflow that has not run yet, all in one transaction (or none); returns them in order."""
    wf = await _editable(db, one_workflow(batch, "jobs"), "jobs can be added")
    default_rr = await _default_rr(db, wf["_id"])
    await _check_members(db, wf["_id"], batch)
    first = await db.allocate_ids("jobs", len(batch))
    docs = [jobs.new_document(
        first + i, data.workflow_id, name=data.name, command=data.command, invocation_script=data.invocation_script,
        rr_id=data.resource_requirements_id or default_rr,
        cancel_on_blocking_job_failure=data.cancel_on_blocking_job_failure,
        supports_termination=data.supports_termination, depends_on=sorted(data.depends_on_job_ids),
        upstream=data.depends_on_job_ids, input_files=data.input_file_ids, output_files=data.output_file_ids,
        input_user_data=data.input_user_data_ids, output_user_data=data.output_user_data_ids,
        scheduler_id=data.scheduler_id,
        **_launch_settings(wf, data),
    ) for i, data in enumerate(batch)]  # fmt: skip

    async def body(db: Database) -> None:
        await db.jobs.insert_many(docs, ordered=False)
        blocked_by: dict[int, list[int]] = {}
        for doc in docs:  # both directions, so that deleting an upstream job finds this one by id
            for upstream in doc["upstream"]:
                blocked_by.setdefault(upstream, []).append(doc["_id"])
        if blocked_by:
            await db.jobs.bulk_write([UpdateOne({"_id": up}, {"$addToSet": {"blocks": {"$each": ids}}})
                                      for up, ids in blocked_by.items()], ordered=False)  # fmt: skip
        blocks = with_job_ids((await workflows.get_doc(db, wf["_id"], full=True))["job_blocks"],
                              [doc["_id"] for doc in docs])  # fmt: skip
        statuses: dict[str, int] = {}
        for doc in docs:
            statuses[f"counts.{doc['status']}"] = statuses.get(f"counts.{doc['status']}", 0) + 1
        await db.workflows.update_one({"_id": wf["_id"]}, {"$set": {"job_blocks": blocks, "needs_full_init": True},
                                                           "$inc": statuses})  # fmt: skip
        await job_names.forget(db, wf["_id"])

    await db.atomic(wf["_id"], body)
    return [jobs.to_record(doc, initialized=False) for doc in docs]


def one_workflow(batch: list[Any], kind: str) -> int:
    """The one workflow the records of a bulk creation name (`kind` is what the body calls them)."""
    wids = sorted({data.workflow_id for data in batch})
    if not wids:
        raise InvalidRequest(f"no {kind} given: '{kind}' is empty")
    if len(wids) > 1:
        raise InvalidRequest(f"the {kind} of one request must be of one workflow; these name workflows "
                             f"{', '.join(map(str, wids))}")  # fmt: skip
    return wids[0]


#: An environment variable's name, as a shell takes it (the spec schema's rule).
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _launch_settings(wf: dict[str, Any], data: JobCreate) -> dict[str, Any]:
    """A new job's `env` (the workflow's with its own over it) and `stdio`, as a spec would have set them."""
    for name, value in (data.env or {}).items():
        if not ENV_NAME.fullmatch(name):
            raise InvalidRequest(f"env: {name!r} is not a valid environment variable name: use letters, digits and _, "
                                 "not a leading digit")  # fmt: skip
        if "\x00" in value:
            raise InvalidRequest(f"env.{name}: a value cannot hold a NUL character")
    env = {**wf.get("env", {}), **(data.env or {})}
    return {**({"env": env} if env else {}), **({"stdio": data.stdio.to_dict()} if data.stdio else {})}


async def delete_job(db: Database, jid: int) -> Job:
    """Remove a job before the first run, and every edge to it: its dependents no longer wait for it.

    As in NREL Torc (whose junction tables cascade), the edges go with the job; the
    workflow is marked for a full rebuild at initialisation, where files and user_data
    the job wrote become inputs that must exist.
    """
    doc = await jobs.get_doc(db, jid)
    wf = await _editable(db, doc["workflow_id"], "jobs can be deleted")

    async def body(db: Database) -> dict[str, Any] | None:
        gone = await db.jobs.find_one_and_delete({"_id": jid})
        if gone is None:
            return None
        await _remove_from_jobs(db, gone.get("blocks", []), UPSTREAM_FIELDS, jid)
        await _remove_from_jobs(db, sorted(set(gone.get("upstream", [])) | set(gone.get("depends_on", []))),
                                ("blocks",), jid)  # fmt: skip
        blocks = _remove_from_blocks((await workflows.get_doc(db, wf["_id"], full=True))["job_blocks"], jid)
        await db.workflows.update_one({"_id": wf["_id"]}, {"$set": {"job_blocks": blocks, "needs_full_init": True},
                                                           "$inc": {f"counts.{gone['status']}": -1}})  # fmt: skip
        await job_names.forget(db, wf["_id"])
        return gone

    gone = await db.atomic(wf["_id"], body)
    if gone is None:
        raise NotFound("job", jid)
    return jobs.to_record(gone, initialized=False)


async def delete_all_jobs(db: Database, wid: int) -> int:
    """Remove every job of a workflow that has not run yet; returns how many went."""
    await _editable(db, wid, "jobs can be deleted")

    async def body(db: Database) -> int:
        gone = (await db.jobs.delete_many({"workflow_id": wid})).deleted_count
        await db.workflows.update_one({"_id": wid}, {"$set": {"job_blocks": [], "needs_full_init": True,
                                                              "counts": {}}})  # fmt: skip
        return gone

    return await db.atomic(wid, body)


async def _remove_from_jobs(db: Database, ids: list[int], fields: tuple[str, ...], rid: int) -> None:
    """Take id `rid` out of these list fields of these jobs, and refresh their definition hashes."""
    if not ids:
        return
    projection = {field: 1 for field in (*DEFINITION_FIELDS, *fields)}
    ops = []
    for doc in await workflows.find_by_ids(db.jobs, ids, projection):
        changed = {field: [v for v in doc.get(field, []) if v != rid] for field in fields if rid in doc.get(field, [])}
        if changed:
            fingerprint = definition_hash({**doc, **changed})
            ops.append(UpdateOne({"_id": doc["_id"]}, {"$set": {**changed, "definition_hash": fingerprint}}))
    if ops:
        await db.jobs.bulk_write(ops, ordered=False)


async def _default_rr(db: Database, wid: int) -> int:
    doc = await db.resource_requirements.find_one({"workflow_id": wid, "name": DEFAULT_RR})
    if doc is None:
        raise NotFound("resource_requirements", DEFAULT_RR)
    return doc["_id"]


async def _check_members(db: Database, wid: int, batch: list[JobCreate]) -> None:
    """Every record the jobs name exists in their workflow (one read per kind for the whole batch)."""
    wanted: dict[str, set[int]] = {"jobs": set(), "files": set(), "user_data": set(), "resource_requirements": set(),
                                   "slurm_schedulers": set()}  # fmt: skip
    for data in batch:
        wanted["jobs"].update(data.depends_on_job_ids)
        wanted["files"].update(data.input_file_ids + data.output_file_ids)
        wanted["user_data"].update(data.input_user_data_ids + data.output_user_data_ids)
        wanted["resource_requirements"].update([data.resource_requirements_id] if data.resource_requirements_id else [])
        wanted["slurm_schedulers"].update([data.scheduler_id] if data.scheduler_id is not None else [])
    for collection, ids in wanted.items():
        found = {d["_id"] for d in await workflows.find_by_ids(db.collection(collection), sorted(ids), {"workflow_id": 1})
                 if d["workflow_id"] == wid}  # fmt: skip
        missing = sorted(ids - found)
        if missing:
            raise NotFound(collection, missing[0] if len(missing) == 1 else missing)


def with_job_ids(blocks: list[list[int]], ids: list[int]) -> list[list[int]]:
    """A workflow's `job_blocks` (runs of consecutive job ids) with new, ascending job ids added."""
    for jid in ids:
        blocks = _add_to_blocks(blocks, jid)
    return blocks


def _add_to_blocks(blocks: list[list[int]], jid: int) -> list[list[int]]:
    if blocks and blocks[-1][0] + blocks[-1][1] == jid:
        return blocks[:-1] + [[blocks[-1][0], blocks[-1][1] + 1]]
    return blocks + [[jid, 1]]


def _remove_from_blocks(blocks: list[list[int]], jid: int) -> list[list[int]]:
    result = []
    for start, size in blocks:
        if start <= jid < start + size:
            result += [[s, n] for s, n in ((start, jid - start), (jid + 1, start + size - jid - 1)) if n > 0]
        else:
            result.append([start, size])
    return result


async def mark_graph_changed(db: Database, wid: int) -> None:
    await _editable(db, wid, "what jobs read and write can change")
    await workflows.change(db, wid, {"$set": {"needs_full_init": True}})


async def create_resources(db: Database, fields: dict[str, Any]) -> Any:
    await workflows.get_doc(db, fields["workflow_id"])
    await _check_name_free(db, fields["workflow_id"], fields["name"])
    record = await records.resource_requirements.create(db, records.resources_document(fields))
    await queue.update_shape(db, fields["workflow_id"], {"_id": record.id, **records.resources_document(fields)})
    return record


async def update_resources(db: Database, rid: int, changes: dict[str, Any]) -> Any:
    doc = await records.resource_requirements.get_doc(db, rid)
    if changes.get("name", doc["name"]) != doc["name"]:
        if doc["name"] == DEFAULT_RR:
            raise Conflict(f"resource requirements {rid} are workflow {doc['workflow_id']}'s default (jobs added "
                           "without requirements use them): they keep the name 'default'; change their amounts, "
                           "or create a new group")  # fmt: skip
        await _check_name_free(db, doc["workflow_id"], changes["name"])
    merged = records.resources_document({**doc, **changes})
    record = await records.resource_requirements.update(db, rid, {k: v for k, v in merged.items() if k != "_id"})
    await queue.update_shape(db, doc["workflow_id"], merged)
    return record


async def delete_resources(db: Database, rid: int) -> Any:
    """Delete resource requirements that no job uses (never the workflow's `default`), and their ready queue."""
    doc = await records.resource_requirements.get_doc(db, rid)
    wid = doc["workflow_id"]
    if doc["name"] == DEFAULT_RR:
        raise Conflict(f"resource requirements {rid} are workflow {wid}'s default (jobs added without requirements "
                       "use them) and cannot be deleted")  # fmt: skip

    async def body(db: Database) -> Any:
        users = [d["name"] async for d in db.jobs.find({"workflow_id": wid, "rr_id": rid}, {"name": 1})]
        if users:
            raise Conflict(f"resource requirements {rid} ({doc['name']}) are used by {count(len(users), 'job')} of "
                           f"workflow {wid}: {_some(users)}; give them other requirements first (`torc jobs update "
                           "JOB -r NAME`) or delete them", job_count=len(users))  # fmt: skip
        record = await records.resource_requirements.delete(db, rid)
        await queue.drop(db, wid, rid)
        return record

    return await db.atomic(wid, body)


async def _check_name_free(db: Database, wid: int, name: str) -> None:
    """As in Torc, two groups may share a name, but not `default`: jobs added without requirements get that one."""
    if name != DEFAULT_RR:
        return
    taken = await db.resource_requirements.find_one({"workflow_id": wid, "name": name}, {"_id": 1})
    if taken is not None:
        raise Conflict(f"workflow {wid} already has resource requirements named {name!r} (id {taken['_id']}), which "
                       "jobs added without requirements use; choose another name")  # fmt: skip


async def delete_file(db: Database, fid: int) -> Any:
    """Delete a file record; before the first run also from the jobs that read or write it (after it, refused)."""
    return await _delete_referenced(db, records.files, fid, "files")


async def delete_user_data(db: Database, uid: int) -> Any:
    """Delete a user_data record; before the first run also from the jobs that read or write it (after it, refused)."""
    return await _delete_referenced(db, records.user_data, uid, "user_data")


async def _delete_referenced(db: Database, store: records.Store, rid: int, kind: str) -> Any:
    """Delete a file or user_data record and every reference to it, or refuse once the workflow has run.

    References go as in NREL Torc: jobs stop reading or writing it, the workflow stops
    requiring it, and the graph is rebuilt at initialisation. After the first run the
    graph is fixed, so a record that jobs use stays.
    """
    fields = (f"input_{kind}", f"output_{kind}")
    doc = await store.get_doc(db, rid)
    wid = doc["workflow_id"]

    async def body(db: Database) -> Any:
        users = [d async for d in db.jobs.find({"workflow_id": wid, "$or": [{f: rid} for f in fields]},
                                               {"name": 1, **{f: 1 for f in fields}})]  # fmt: skip
        if users:
            if (await workflows.get_doc(db, wid))["is_initialized"]:
                raise Conflict(_in_use(store.kind, rid, doc["name"], wid, users, fields), job_count=len(users))
            await _remove_from_jobs(db, [d["_id"] for d in users], fields, rid)
            await mark_graph_changed(db, wid)
        record = await store.delete(db, rid)
        await db.workflow_inputs.update_one({"_id": wid}, {"$pull": {kind: rid}})
        return record

    return await db.atomic(wid, body)


def _in_use(kind: str, rid: int, name: str, wid: int, users: list[dict], fields: tuple[str, str]) -> str:
    readers = [d["name"] for d in users if rid in d.get(fields[0], [])]
    writers = [d["name"] for d in users if rid in d.get(fields[1], [])]
    uses = [f"{verb} by {count(len(names), 'job')} ({_some(names)})"
            for verb, names in (("read", readers), ("written", writers)) if names]  # fmt: skip
    return (f"{kind} {rid} ({name}) is {' and '.join(uses)} of workflow {wid}, which has run: its jobs' inputs and "
            "outputs are fixed at the first run, so it cannot be deleted (create a new workflow without it)")


def _some(names: list[str]) -> str:
    """A few names, and how many more."""
    shown = ", ".join(sorted(names)[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


async def create_in_workflow(db: Database, store: records.Store, fields: dict[str, Any]) -> Any:
    await workflows.get_doc(db, fields["workflow_id"])
    return await store.create(db, fields)


async def list_user_data(db: Database, wid: int, name: str | None, consumer_job_id: int | None,
                         producer_job_id: int | None, offset: int, limit: int, sort_by: str | None = None,
                         reverse: bool = False, is_ephemeral: bool | None = None) -> Page[UserData]:  # fmt: skip
    """A workflow's user_data, optionally only what one job reads or writes."""
    await workflows.get_doc(db, wid)
    ephemeral = None if is_ephemeral is None else (True if is_ephemeral else {"$ne": True})  # older records lack it
    query: dict[str, Any] = {"workflow_id": wid, "name": name, "is_ephemeral": ephemeral}
    for jid, field in ((consumer_job_id, "input_user_data"), (producer_job_id, "output_user_data")):
        if jid is not None:
            ids = (await jobs.get_doc(db, jid)).get(field, [])
            query["_id"] = {"$in": sorted(set(ids) & set(query["_id"]["$in"])) if "_id" in query else ids}
    return await records.user_data.list_page(db, query, offset, limit, sort_by or "id", reverse)
