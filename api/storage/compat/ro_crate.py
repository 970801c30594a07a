"""A workflow's RO-Crate entities (Torc's `/ro_crate_entities`): JSON-LD records of its provenance, each optionally
describing one of its files, kept until changed, deleted, or deleted with the workflow.

Within a workflow an `entity_id` (the entity's `@id`) names one entity, and a file has at most
one entity. Both rules hold under concurrent requests through one unique index on
(`workflow_id`, `entity_id`) and one on (`workflow_id`, `file_link`), where `file_link` is the
file's id, or, for an entity of no file, the entity's own id negated (unique by construction).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from api.storage import records, workflows
from api.storage.compat import paging
from api.storage.db import Database
from torc_client.contract import Page, RoCrateEntitiesDeleted, RoCrateEntity
from torc_client.core.errors import InvalidRequest, NotFound

KIND = "ro_crate_entity"
#: Fields a listing may be ordered by (Torc's columns).
SORTABLE = ("id", "workflow_id", "file_id", "entity_id", "entity_type")


def to_record(doc: dict[str, Any]) -> RoCrateEntity:
    return RoCrateEntity(id=doc["_id"], workflow_id=doc["workflow_id"], file_id=doc.get("file_id"),
                         entity_id=doc["entity_id"], entity_type=doc["entity_type"],
                         metadata=doc["metadata"])  # fmt: skip


async def create(db: Database, entity: RoCrateEntity) -> RoCrateEntity:
    """Store a new entity of an existing workflow (and of one of its files, when `file_id` is given)."""
    await workflows.get_doc(db, entity.workflow_id)
    await _check_file(db, entity)
    await _check_unique(db, entity, None)
    rid = await db.allocate_ids("ro_crate_entities", 1)
    doc = {"_id": rid, **_fields(entity, rid)}
    try:
        await db.ro_crate_entities.insert_one(doc)
    except DuplicateKeyError:  # another request stored the same link meanwhile
        raise InvalidRequest(_duplicate_message(entity)) from None
    return to_record(doc)


async def get(db: Database, rid: int) -> RoCrateEntity:
    doc = await db.ro_crate_entities.find_one({"_id": rid})
    if doc is None:
        raise NotFound(KIND, rid)
    return to_record(doc)


async def update(db: Database, rid: int, entity: RoCrateEntity) -> RoCrateEntity:
    """Replace an entity's file link, `entity_id`, type and metadata (its workflow stays)."""
    before = await get(db, rid)
    if entity.workflow_id != before.workflow_id:
        raise InvalidRequest(f"{KIND} {rid} is of workflow {before.workflow_id}, not {entity.workflow_id}: an "
                             "entity's workflow does not change")  # fmt: skip
    await _check_file(db, entity)
    await _check_unique(db, entity, rid)
    try:
        doc = await db.ro_crate_entities.find_one_and_update({"_id": rid}, {"$set": _fields(entity, rid)},
                                                             return_document=ReturnDocument.AFTER)  # fmt: skip
    except DuplicateKeyError:
        raise InvalidRequest(_duplicate_message(entity)) from None
    if doc is None:
        raise NotFound(KIND, rid)
    return to_record(doc)


async def delete(db: Database, rid: int) -> None:
    if await db.ro_crate_entities.find_one_and_delete({"_id": rid}, projection={"_id": 1}) is None:
        raise NotFound(KIND, rid)


async def delete_all(db: Database, wid: int) -> RoCrateEntitiesDeleted:
    await workflows.get_doc(db, wid)
    deleted = (await db.ro_crate_entities.delete_many({"workflow_id": wid})).deleted_count
    return RoCrateEntitiesDeleted(deleted_count=deleted, message=f"Deleted {deleted} RO-Crate entities")


async def list_page(db: Database, wid: int, offset: int, limit: int, file_id: int | None, entity_id: str | None,
                    sort_by: str | None, reverse: bool) -> Page[RoCrateEntity]:  # fmt: skip
    """A workflow's entities, optionally only those of one file or one `entity_id`, ordered by `sort_by`."""
    await workflows.get_doc(db, wid)
    key = sort_by or "id"
    if key not in SORTABLE:
        raise InvalidRequest(f"sort_by {sort_by!r}: RO-Crate entities are ordered by one of {', '.join(SORTABLE)}")
    query: dict[str, Any] = {"workflow_id": wid}
    if file_id is not None:
        query["file_id"] = file_id
    if entity_id is not None:
        query["entity_id"] = entity_id
    field = "_id" if key == "id" else key
    docs = [doc async for doc in db.ro_crate_entities.find(query)]
    docs.sort(key=lambda d: (d.get(field) is None, d.get(field)), reverse=reverse)
    return paging.page([to_record(doc) for doc in docs], offset, limit)


def _fields(entity: RoCrateEntity, rid: int) -> dict[str, Any]:
    return {"workflow_id": entity.workflow_id, "file_id": entity.file_id, "entity_id": entity.entity_id,
            "entity_type": entity.entity_type, "metadata": entity.metadata,
            "file_link": entity.file_id if entity.file_id is not None else -rid}  # fmt: skip


async def _check_file(db: Database, entity: RoCrateEntity) -> None:
    if entity.file_id is None:
        return
    file = await records.files.get_doc(db, entity.file_id)
    if file["workflow_id"] != entity.workflow_id:
        raise InvalidRequest(f"file {entity.file_id} is of workflow {file['workflow_id']}, not {entity.workflow_id}")


async def _check_unique(db: Database, entity: RoCrateEntity, rid: int | None) -> None:
    """Refuse (422, as Torc does) an `entity_id` or a file that another entity of the workflow already has."""
    same = [{"entity_id": entity.entity_id}] + ([{"file_id": entity.file_id}] if entity.file_id is not None else [])
    query: dict[str, Any] = {"workflow_id": entity.workflow_id, "$or": same}
    if rid is not None:
        query["_id"] = {"$ne": rid}
    if await db.ro_crate_entities.find_one(query, {"_id": 1}) is not None:
        raise InvalidRequest(_duplicate_message(entity))


def _duplicate_message(entity: RoCrateEntity) -> str:
    link = f"file {entity.file_id} or " if entity.file_id is not None else ""
    return (f"RO-Crate entity already exists for this workflow: workflow {entity.workflow_id} already has an entity "
            f"for {link}entity_id {entity.entity_id!r}")
