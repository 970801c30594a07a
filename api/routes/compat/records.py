"""Torc's record operations beside this server's own: events at `/events` (ids unique across workflows), results
stored or changed on their own, a compute node's record updated whole (Torc's runner marks itself inactive so),
failure handlers created and deleted, and an allocation's record deleted."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, post, put
from litestar.params import Parameter

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset, WorkflowId
from api.storage import Database, actions
from api.storage.compat import records as torc_records
from torc_client.contract import (
    ComputeNode,
    Event,
    Page,
    Result,
    ScheduledComputeNode,
    TorcComputeNode,
    TorcEvent,
    TorcFailureHandler,
    TorcResult,
)


class TorcRecordController(Controller):
    tags = ["events"]

    @post("/events", status_code=200, opt=rules.CREATE)
    async def create_event(self, db: Database, data: TorcEvent) -> Event:
        """Add an event to a workflow's log: `data` is kept whole (its `category` and `message`, if any, are the
        event's own)."""
        return await torc_records.add_event(db, data)

    @get("/events", opt=rules.LIST)
    async def list_events(self, db: Database, workflow_id: WorkflowId, offset: Offset = 0,
                          limit: Limit = DEFAULT_LIMIT, category: str | None = None,
                          after_timestamp: Annotated[int | None, Parameter(
                              description="Only events after this time (milliseconds since the epoch).")] = None,
                          ) -> Page[Event]:  # fmt: skip
        """A workflow's events, oldest first."""
        return await torc_records.events_page(db, workflow_id, offset, limit, category, after_timestamp)

    @post("/results", status_code=200, opt=rules.CREATE)
    async def create_result(self, db: Database, data: TorcResult) -> Result:
        """Store a result on its own (`complete_job` stores a job's result with its completion)."""
        return await torc_records.add_result(db, data)

    @put("/compute_nodes/{node_id:int}", opt=rules.record("compute_nodes", "node_id"))
    async def update_compute_node(self, db: Database, lease: float, node_id: int, data: TorcComputeNode) -> ComputeNode:
        """Torc's update of a compute node: `is_active: false` ends it (its held jobs go back to the queue); any other
        update renews its lease."""
        return await torc_records.update_compute_node(db, node_id, data.is_active, lease)

    @post("/failure_handlers", status_code=200, opt=rules.CREATE)
    async def create_failure_handler(self, db: Database, data: TorcFailureHandler) -> dict[str, Any]:
        """Add a failure handler (its rules a JSON array, as text or as JSON)."""
        return await torc_records.create_failure_handler(db, data)

    @delete("/failure_handlers/{handler_id:int}", status_code=200, opt=rules.record("failure_handlers", "handler_id"))
    async def delete_failure_handler(self, db: Database, handler_id: int) -> dict[str, Any]:
        """Delete a failure handler that no job uses."""
        return await torc_records.delete_failure_handler(db, handler_id)

    @get("/events/{event_id:int}", opt=rules.record("events", "event_id"))
    async def get_event(self, db: Database, event_id: int) -> Event:
        """One event, by the id `/events` gives it."""
        return await torc_records.get_event(db, event_id)

    @put("/events/{event_id:int}", opt=rules.record("events", "event_id"))
    async def update_event(self, db: Database, event_id: int, data: TorcEvent) -> Event:
        """Replace an event's data."""
        return await torc_records.update_event(db, event_id, data)

    @delete("/events/{event_id:int}", status_code=200, opt=rules.record("events", "event_id"))
    async def delete_event(self, db: Database, event_id: int) -> Event:
        """Delete one event."""
        return await torc_records.delete_event(db, event_id)

    @put("/results/{result_id:int}", opt=rules.record("results", "result_id"))
    async def update_result(self, db: Database, result_id: int, data: TorcResult) -> Result:
        """Change a result's outcome and measures (no job status changes)."""
        return await torc_records.update_result(db, result_id, data)

    @delete("/scheduled_compute_nodes/{node_id:int}", status_code=200,
            opt=rules.record("scheduled_compute_nodes", "node_id"))  # fmt: skip
    async def delete_scheduled_compute_node(self, db: Database, node_id: int) -> ScheduledComputeNode:
        """Delete the record of one allocation."""
        return await actions.scheduled_compute_nodes.delete(db, node_id)

