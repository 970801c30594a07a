"""Events: the workflow's log, read since a cursor or followed live as server-sent events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.params import Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.access import rules
from api.routes.params import Limit
from api.storage import Database, history
from torc_client.contract import Event, EventCreate, Page

STREAM_POLL_SECONDS = 0.25
Category = Annotated[str | None, Parameter(description="Only events of this category (job, workflow, ...).")]


class EventController(Controller):
    path = "/workflows/{workflow_id:int}/events"
    tags = ["events"]

    @get("/", opt=rules.WORKFLOW)
    async def list_events(self, db: Database, workflow_id: int,
                          after: Annotated[int, Parameter(ge=0, description="Only events with a larger id.")] = 0,
                          limit: Limit = 1000, category: Category = None) -> Page[Event]:  # fmt: skip
        """Events with an id above `after`, oldest first (page with `after` = the last id you saw)."""
        return await history.events_after(db, workflow_id, after, limit, category)

    @post("/", status_code=200, opt=rules.WORKFLOW)
    async def create_event(self, db: Database, workflow_id: int, data: EventCreate) -> Event:
        """Add an event of your own (jobs may log milestones here)."""
        return await history.add_event(db, workflow_id, data.category, data.message, data.data)

    @get("/{event_id:int}", opt=rules.WORKFLOW)
    async def get_event(self, db: Database, workflow_id: int, event_id: int) -> Event:
        """One event."""
        return await history.get_event(db, workflow_id, event_id)

    @delete("/", status_code=200, opt=rules.WORKFLOW)
    async def delete_events(self, db: Database, workflow_id: int) -> dict[str, int]:
        """Delete a workflow's events."""
        return {"deleted": await history.delete_events(db, workflow_id)}

    @get("/stream", media_type="text/event-stream", opt=rules.WORKFLOW)
    async def stream(self, db: Database, workflow_id: int,
                     after: Annotated[int, Parameter(ge=0)] = 0) -> ServerSentEvent:  # fmt: skip
        """Follow the events live (text/event-stream); each message's id is the event id."""
        await history.events_after(db, workflow_id, after, 1)  # 404 before the stream starts

        async def follow() -> AsyncGenerator[ServerSentEventMessage, None]:
            cursor = after
            while True:
                page = await history.events_after(db, workflow_id, cursor, 500)
                for event in page.items:
                    cursor = event.id
                    yield ServerSentEventMessage(data=msgspec.json.encode(event).decode(), event=event.category,
                                                 id=str(event.id))  # fmt: skip
                if not page.has_more:
                    await asyncio.sleep(STREAM_POLL_SECONDS)

        return ServerSentEvent(follow())
