"""A user_data record created for a job to read (consumer) or write (producer), as Torc's `create_user_data` allows."""

from __future__ import annotations

from typing import Any

from api.storage import edits, jobs, records
from api.storage.db import Database
from api.storage.hashes import definition_hash
from torc_client.contract import UserData
from torc_client.core.errors import NotFound


async def create_for_jobs(db: Database, fields: dict[str, Any], consumer_job_id: int | None,
                          producer_job_id: int | None) -> UserData:  # fmt: skip
    """Create a user_data record; the consumer job reads it and the producer job writes it (before the first run).

    Both jobs are checked before anything is written: each must exist in the record's workflow.
    """
    wid = fields["workflow_id"]
    links = [(jid, field) for jid, field in ((consumer_job_id, "input_user_data"), (producer_job_id,
             "output_user_data")) if jid is not None]  # fmt: skip
    if not links:
        return await edits.create_in_workflow(db, records.user_data, fields)
    await edits.mark_graph_changed(db, wid)
    for jid, _ in links:
        if (await jobs.get_doc(db, jid))["workflow_id"] != wid:
            raise NotFound("job", jid)
    record = await records.user_data.create(db, fields)
    for jid, field in links:
        await db.jobs.update_one({"_id": jid}, {"$addToSet": {field: record.id}})
        doc = await jobs.get_doc(db, jid)
        await db.jobs.update_one({"_id": jid}, {"$set": {"definition_hash": definition_hash(doc)}})
    return record
