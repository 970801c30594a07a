"""Torc's bulk creation of files and user_data (`POST /bulk_files`, `POST /bulk_user_data`).

As `POST /bulk_jobs` (`edits.create_jobs`): the records of one request are of one workflow,
and are stored in one transaction, all or none; the answer lists them in the order sent.
Unlike jobs, files and user_data may be added to a workflow that has run (jobs read and
write them by id, so a new record changes no job).
"""

from __future__ import annotations

from typing import Any

from api.storage import edits, records, workflows
from api.storage.db import Database
from torc_client.contract import File, TorcFile, TorcUserData, UserData


async def create_files(db: Database, batch: list[TorcFile]) -> list[File]:
    docs = [{"workflow_id": f.workflow_id, "name": f.name, "path": f.path,
             **({"st_mtime": f.st_mtime} if f.st_mtime is not None else {})} for f in batch]  # fmt: skip
    return await _create(db, records.files, edits.one_workflow(batch, "files"), docs)


async def create_user_data(db: Database, batch: list[TorcUserData]) -> list[UserData]:
    docs = [{"workflow_id": u.workflow_id, "name": u.name, "data": u.data, "is_ephemeral": bool(u.is_ephemeral)}
            for u in batch]  # fmt: skip
    return await _create(db, records.user_data, edits.one_workflow(batch, "user_data"), docs)


async def _create(db: Database, store: records.Store, wid: int, docs: list[dict[str, Any]]) -> list[Any]:
    """Insert `docs` into the workflow `wid` in one transaction; their ids are taken before it, in order."""
    await workflows.get_doc(db, wid)
    first = await db.allocate_ids(store.collection, len(docs))
    for offset, doc in enumerate(docs):
        doc["_id"] = first + offset

    async def body(db: Database) -> None:
        await db.collection(store.collection).insert_many(docs, ordered=False)

    await db.atomic(wid, body)
    return [store.to_record(doc) for doc in docs]
