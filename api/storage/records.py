"""Simple workflow-scoped records: files, user_data, resource requirements, failure handlers,
results and compute nodes. One generic store does their create, read, update, delete
and listing; the conversions from documents live next to it."""

from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar


from api.storage.db import Database
from torc_client import contract as c
from torc_client.core.errors import InvalidRequest, NotFound
from torc_client.core.units import (
    format_duration,
    format_memory,
    parse_duration,
    parse_memory,
)

R = TypeVar("R")


class Store(Generic[R]):
    """CRUD and paged listing for one collection of workflow-scoped documents."""

    def __init__(self, collection: str, kind: str, to_record: Callable[[dict], R], sortable: tuple[str, ...] = ()):
        self.collection = collection
        self.kind = kind
        self.to_record = to_record
        self.sortable = ("id",) + sortable

    def _coll(self, db: Database):
        return db.collection(self.collection)

    async def insert(self, db: Database, docs: list[dict[str, Any]]) -> list[int]:
        """Insert documents (without `_id`); returns their new ids."""
        if not docs:
            return []
        first = await db.allocate_ids(self.collection, len(docs))
        for offset, doc in enumerate(docs):
            doc["_id"] = first + offset
        await self._coll(db).insert_many(docs, ordered=False)
        return [doc["_id"] for doc in docs]

    async def create(self, db: Database, doc: dict[str, Any]) -> R:
        await self.insert(db, [doc])
        return self.to_record(doc)

    async def get_doc(self, db: Database, rid: int) -> dict[str, Any]:
        doc = await self._coll(db).find_one({"_id": rid})
        if doc is None:
            raise NotFound(self.kind, rid)
        return doc

    async def get(self, db: Database, rid: int) -> R:
        return self.to_record(await self.get_doc(db, rid))

    async def update(self, db: Database, rid: int, changes: dict[str, Any]) -> R:
        if not changes:
            return await self.get(db, rid)
        doc = await db.update_and_read(self.collection, {"_id": rid}, {"$set": changes})
        if doc is None:
            raise NotFound(self.kind, rid)
        return self.to_record(doc)

    async def delete(self, db: Database, rid: int) -> R:
        doc = await self._coll(db).find_one_and_delete({"_id": rid})
        if doc is None:
            raise NotFound(self.kind, rid)
        return self.to_record(doc)

    async def list_page(
        self, db: Database, query: dict[str, Any], offset: int, limit: int, sort_by: str = "id", reverse: bool = False
    ) -> c.Page[R]:
        if sort_by not in self.sortable:
            raise InvalidRequest(f"cannot sort {self.kind} records by {sort_by!r}; use one of {', '.join(self.sortable)}")
        field = "_id" if sort_by == "id" else sort_by
        docs = [doc async for doc in self._coll(db).find({k: v for k, v in query.items() if v is not None})]
        docs.sort(key=lambda d: (d.get(field) is None, d.get(field)), reverse=reverse)
        items = [self.to_record(doc) for doc in docs[offset : offset + limit]]
        return c.Page(items=items, offset=offset, max_limit=limit, count=len(items), total_count=len(docs),
                      has_more=offset + len(items) < len(docs))  # fmt: skip


def _file(doc: dict) -> c.File:
    return c.File(id=doc["_id"], workflow_id=doc["workflow_id"], name=doc["name"], path=doc["path"],
                  st_mtime=doc.get("st_mtime"))  # fmt: skip


def _user_data(doc: dict) -> c.UserData:
    return c.UserData(id=doc["_id"], workflow_id=doc["workflow_id"], name=doc["name"], data=doc.get("data"),
                      is_ephemeral=doc.get("is_ephemeral", False))  # fmt: skip


def _resources(doc: dict) -> c.ResourceRequirements:
    return c.ResourceRequirements(
        id=doc["_id"], workflow_id=doc["workflow_id"], name=doc["name"], num_cpus=doc["num_cpus"],
        num_gpus=doc["num_gpus"], num_nodes=doc["num_nodes"], memory=doc["memory"], runtime=doc["runtime"],
        memory_bytes=doc["memory_bytes"], runtime_s=doc["runtime_s"],
    )  # fmt: skip


def from_fields(record_type: type[R], doc: dict) -> R:
    """A record from the document's fields that the record has (internal bookkeeping stays behind)."""
    fields = {k: doc[k] for k in record_type.__struct_fields__ if k in doc and k != "id"}
    return record_type(id=doc["_id"], **fields)


def _result(doc: dict) -> c.Result:
    return from_fields(c.Result, doc)


def _compute_node(doc: dict) -> c.ComputeNode:
    return from_fields(c.ComputeNode, doc)


def resources_document(fields: dict[str, Any]) -> dict[str, Any]:
    """A resource-requirements document with its memory and runtime parsed; bad values raise InvalidRequest."""
    doc = dict(fields)
    try:
        doc["memory_bytes"] = parse_memory(str(doc.get("memory", "1m")))
        doc["runtime_s"] = parse_duration(str(doc.get("runtime", "PT1H")))
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    doc["memory"] = str(doc.get("memory", format_memory(doc["memory_bytes"])))
    doc["runtime"] = str(doc.get("runtime", format_duration(doc["runtime_s"])))
    for key, minimum in (("num_cpus", 1), ("num_gpus", 0), ("num_nodes", 1)):
        if int(doc.get(key, minimum)) < minimum:
            raise InvalidRequest(f"{key} must be at least {minimum}, got {doc[key]}")
    return doc


def _failure_handler(doc: dict) -> dict:
    return {"id": doc["_id"], "workflow_id": doc["workflow_id"], "name": doc["name"], "rules": doc["rules"]}


files = Store("files", "file", _file, ("name", "path"))
user_data = Store("user_data", "user_data", _user_data, ("name",))
resource_requirements = Store("resource_requirements", "resource_requirements", _resources,
                              ("name", "num_cpus", "num_gpus", "num_nodes", "memory_bytes", "runtime_s"))  # fmt: skip
failure_handlers = Store("failure_handlers", "failure_handler", _failure_handler, ("name",))
results = Store("results", "result", _result, ("job_id", "run_id", "return_code", "completion_time"))
compute_nodes = Store("compute_nodes", "compute_node", _compute_node, ("hostname", "start_time", "is_active"))
