"""Torc's RO-Crate entities: a workflow's provenance records (JSON-LD), created, read, replaced and deleted one at a
time, and listed or deleted per workflow."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.params import Parameter

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset, ReverseSort, SortBy
from api.storage import Database
from api.storage.compat import ro_crate
from torc_client.contract import Message, Page, RoCrateEntitiesDeleted, RoCrateEntity

ONE = rules.record("ro_crate_entities", "entity_id", ro_crate.KIND)


class TorcRoCrateController(Controller):
    tags = ["ro_crate_entities"]

    @post("/ro_crate_entities", status_code=200, opt=rules.CREATE)
    async def create_ro_crate_entity(self, db: Database, data: RoCrateEntity) -> RoCrateEntity:
        """Store an RO-Crate entity of a workflow (422 if the workflow already has its `entity_id`, or its file)."""
        return await ro_crate.create(db, data)

    @get("/ro_crate_entities/{entity_id:int}", opt=ONE)
    async def get_ro_crate_entity(self, db: Database, entity_id: int) -> RoCrateEntity:
        """One RO-Crate entity."""
        return await ro_crate.get(db, entity_id)

    @put("/ro_crate_entities/{entity_id:int}", opt=ONE)
    async def update_ro_crate_entity(self, db: Database, entity_id: int, data: RoCrateEntity) -> RoCrateEntity:
        """Replace an entity's file, `entity_id`, type and metadata."""
        return await ro_crate.update(db, entity_id, data)

    @delete("/ro_crate_entities/{entity_id:int}", status_code=200, opt=ONE)
    async def delete_ro_crate_entity(self, db: Database, entity_id: int) -> Message:
        """Delete one RO-Crate entity."""
        await ro_crate.delete(db, entity_id)
        return Message(message="RO-Crate entity deleted successfully")

    @get("/workflows/{workflow_id:int}/ro_crate_entities", opt=rules.WORKFLOW)
    async def list_ro_crate_entities(self, db: Database, workflow_id: int, offset: Offset = 0,
                                     limit: Limit = DEFAULT_LIMIT, file_id: int | None = None,
                                     entity_id: Annotated[str | None, Parameter(
                                         description="Only the entity with this `@id`.")] = None,
                                     sort_by: SortBy = None, reverse_sort: ReverseSort = False,
                                     ) -> Page[RoCrateEntity]:  # fmt: skip
        """The workflow's RO-Crate entities (optionally of one file, or one `entity_id`)."""
        return await ro_crate.list_page(db, workflow_id, offset, limit, file_id, entity_id, sort_by, reverse_sort)

    @delete("/workflows/{workflow_id:int}/ro_crate_entities", status_code=200, opt=rules.WORKFLOW)
    async def delete_ro_crate_entities(self, db: Database, workflow_id: int) -> RoCrateEntitiesDeleted:
        """Delete every RO-Crate entity of the workflow."""
        return await ro_crate.delete_all(db, workflow_id)
