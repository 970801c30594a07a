"""Edits to a workflow's contents through the API (outside spec creation).

Adding or removing jobs, or changing what they read and write, changes the graph;
such edits are allowed only before the workflow's first run and mark it for a full
rebuild at initialisation, which recomputes every relationship and checks cycles.
"""

from __future__ import annotations

from typing import Any

from api.storage import jobs, queue, records, workflows
from api.storage.db import Database
from torc_client import states
from torc_client.contract import Job, JobCreate, Page, UserData
from torc_client.errors import Conflict, NotFound

S = states.JobStatus


async def _editable(db: Database, wid: int, what: str) -> dict[str, Any]:
    wf = await workflows.get_doc(db, wid, full=True)
    if wf["is_initialized"]:
        raise Conflict(f"workflow {wid} is initialised: {what} only before its first run "
                       "(create a new workflow, or reset it with `torc workflows reset-status`)")  # fmt: skip
    return wf


async def create_job(db: Database, data: JobCreate) -> Job:
    wf = await _editable(db, data.workflow_id, "jobs can be added")
    rr_id = data.resource_requirements_id or await _default_rr(db, data.workflow_id)
    await _check_members(db, data)
    jid = await db.allocate_ids("jobs", 1)
    doc = jobs.new_document(
        jid, data.workflow_id, name=data.name, command=data.command, invocation_script=data.invocation_script,
        rr_id=rr_id, cancel_on_blocking_job_failure=data.cancel_on_blocking_job_failure,
        supports_termination=data.supports_termination, depends_on=sorted(data.depends_on_job_ids),
        upstream=data.depends_on_job_ids, input_files=data.input_file_ids, output_files=data.output_file_ids,
        input_user_data=data.input_user_data_ids, output_user_data=data.output_user_data_ids,
    )  # fmt: skip

    async def body(db: Database) -> None:
        await db.jobs.insert_one(doc)
        blocks = _add_to_blocks((await workflows.get_doc(db, wf["_id"], full=True))["job_blocks"], jid)
        await db.workflows.update_one({"_id": wf["_id"]}, {"$set": {"job_blocks": blocks, "needs_full_init": True},
                                                           "$inc": {f"counts.{doc['status']}": 1}})  # fmt: skip

    await db.atomic(wf["_id"], body)
    return jobs.to_record(doc, initialized=False)


async def delete_job(db: Database, jid: int) -> Job:
    doc = await jobs.get_doc(db, jid)
    wf = await _editable(db, doc["workflow_id"], "jobs can be deleted")

    async def body(db: Database) -> None:
        gone = await db.jobs.delete_one({"_id": jid})
        if not gone.deleted_count:
            return
        blocks = _remove_from_blocks((await workflows.get_doc(db, wf["_id"], full=True))["job_blocks"], jid)
        await db.workflows.update_one({"_id": wf["_id"]}, {"$set": {"job_blocks": blocks, "needs_full_init": True},
                                                           "$inc": {f"counts.{doc['status']}": -1}})  # fmt: skip

    await db.atomic(wf["_id"], body)
    return jobs.to_record(doc, initialized=False)


async def _default_rr(db: Database, wid: int) -> int:
    doc = await db.resource_requirements.find_one({"workflow_id": wid, "name": "default"})
    if doc is None:
        raise NotFound("resource_requirements", "default")
    return doc["_id"]


async def _check_members(db: Database, data: JobCreate) -> None:
    for collection, ids in (("jobs", data.depends_on_job_ids), ("files", data.input_file_ids + data.output_file_ids),
                            ("user_data", data.input_user_data_ids + data.output_user_data_ids),
                            ("resource_requirements", [data.resource_requirements_id] if
                             data.resource_requirements_id else [])):  # fmt: skip
        found = {d["_id"] for d in await workflows.find_by_ids(db.collection(collection), sorted(set(ids)), {"workflow_id": 1})
                 if d["workflow_id"] == data.workflow_id}  # fmt: skip
        missing = sorted(set(ids) - found)
        if missing:
            raise NotFound(collection, missing[0] if len(missing) == 1 else missing)


def _add_to_blocks(blocks: list[list[int]], jid: int) -> list[list[int]]:
    if blocks and blocks[-1][0] + blocks[-1][1] == jid:
        return blocks[:-1] + [[blocks[-1][0], blocks[-1][1] + 1]]
    return blocks + [[jid, 1]]


def _remove_from_blocks(blocks: list[list[int]], jid: int) -> list[list[int]]:
    result = []
    for start, count in blocks:
        if start <= jid < start + count:
            result += [[s, n] for s, n in ((start, jid - start), (jid + 1, start + count - jid - 1)) if n > 0]
        else:
            result.append([start, count])
    return result


async def mark_graph_changed(db: Database, wid: int) -> None:
    await _editable(db, wid, "what jobs read and write can change")
    await workflows.change(db, wid, {"$set": {"needs_full_init": True}})


async def create_resources(db: Database, fields: dict[str, Any]) -> Any:
    await workflows.get_doc(db, fields["workflow_id"])
    if fields["name"] == "default":
        raise Conflict("every workflow already has resource requirements named 'default'; choose another name")
    record = await records.resource_requirements.create(db, records.resources_document(fields))
    await queue.update_shape(db, fields["workflow_id"], {"_id": record.id, **records.resources_document(fields)})
    return record


async def update_resources(db: Database, rid: int, changes: dict[str, Any]) -> Any:
    doc = await records.resource_requirements.get_doc(db, rid)
    merged = records.resources_document({**doc, **changes})
    record = await records.resource_requirements.update(db, rid, {k: v for k, v in merged.items() if k != "_id"})
    await queue.update_shape(db, doc["workflow_id"], merged)
    return record


async def create_in_workflow(db: Database, store: records.Store, fields: dict[str, Any]) -> Any:
    await workflows.get_doc(db, fields["workflow_id"])
    return await store.create(db, fields)


async def list_user_data(db: Database, wid: int, name: str | None, consumer_job_id: int | None,
                         producer_job_id: int | None, offset: int, limit: int) -> Page[UserData]:  # fmt: skip
    """A workflow's user_data, optionally only what one job reads or writes."""
    await workflows.get_doc(db, wid)
    query: dict[str, Any] = {"workflow_id": wid, "name": name}
    for jid, field in ((consumer_job_id, "input_user_data"), (producer_job_id, "output_user_data")):
        if jid is not None:
            ids = (await jobs.get_doc(db, jid)).get(field, [])
            query["_id"] = {"$in": sorted(set(ids) & set(query["_id"]["$in"])) if "_id" in query else ids}
    return await records.user_data.list_page(db, query, offset, limit)
