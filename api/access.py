"""Who may touch which workflow (`--enforce-access-control`): its owner, its access groups, the admin users.

One check in front of every operation, so no handler can forget it. The workflow a
request is about is found the same way for all of them: in the path
(`/workflows/{id}/...`), through the record the path names (`/jobs/{id}`, `/files/{id}`,
... belong to one workflow each), in the `workflow_id` query parameter of every list, or
in the `workflow_id` of a body that creates a record. A request about a workflow whose
caller may not use (see `api.storage.groups`) is refused with 403 before its handler
runs; one about a record that does not exist goes on, to be answered 404. The list of
workflows shows a caller only those they may use. Creating a workflow needs nobody's
permission: it belongs to its creator.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import msgspec
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.storage import groups
from torc_client import settings

#: Path collections whose records belong to one workflow each, and where they are stored.
RECORDS = {"jobs": "jobs", "files": "files", "user_data": "user_data", "resource_requirements": "resource_requirements",
           "failure_handlers": "failure_handlers", "results": "results", "compute_nodes": "compute_nodes",
           "slurm_schedulers": "slurm_schedulers", "workflow_actions": "workflow_actions",
           "scheduled_compute_nodes": "scheduled_compute_nodes"}  # fmt: skip


class AccessMiddleware:
    """Refuses (403) requests about another user's workflow; runs after `AuthMiddleware` has named the caller."""

    def __init__(self, app: ASGIApp, enforce: bool, admins: frozenset[str]) -> None:
        self.app, self.enforce, self.admins = app, enforce, admins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if not self.enforce or scope["type"] != "http" or not path.startswith(settings.API_PREFIX):
            await self.app(scope, receive, send)
            return
        user = scope.get("state", {}).get("user")
        if user in self.admins or path == f"{settings.API_PREFIX}/ping":
            await self.app(scope, receive, send)
            return
        parts = [p for p in path[len(settings.API_PREFIX):].split("/") if p]
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if parts == ["workflows"] and scope["method"] == "GET":  # the list: the caller's own and those shared
            scope.setdefault("state", {})["visible_to"] = user
            await self.app(scope, receive, send)
            return
        db = scope["app"].state.db
        wid = await _workflow_of(db, parts, query)
        if wid is None and scope["method"] in ("POST", "PUT", "PATCH") and parts[:1] != ["workflows"]:
            receive, body = await _buffered(receive)  # a record created in a workflow names it in its body
            wid = _named_in(body)
        if wid is not None:
            wf = await db.workflows.find_one({"_id": wid}, {"user": 1})
            if wf is not None and not await groups.may_use(db, wf, user, self.admins):
                await _forbidden(scope, send, f"workflow {wid} belongs to another user and is not shared with "
                                 f"{user}: its owner can share it through an access group")  # fmt: skip
                return
        await self.app(scope, receive, send)


async def _workflow_of(db: Any, parts: list[str], query: dict[str, list[str]]) -> int | None:
    """The workflow a request's path or query is about (None: none named, or a record that does not exist)."""
    if len(parts) >= 2 and parts[0] == "workflows" and parts[1].isdigit():
        return int(parts[1])
    if len(parts) >= 2 and parts[0] in RECORDS and parts[1].isdigit():
        doc = await db.collection(RECORDS[parts[0]]).find_one({"_id": int(parts[1])}, {"workflow_id": 1})
        return None if doc is None else doc.get("workflow_id")
    if query.get("workflow_id", [""])[0].isdigit():
        return int(query["workflow_id"][0])
    return None


def _named_in(body: bytes) -> int | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None  # the handler says what is wrong with it
    wid = value.get("workflow_id") if isinstance(value, dict) else None
    return wid if isinstance(wid, int) else None


async def _buffered(receive: Receive) -> tuple[Receive, bytes]:
    """Read the whole request body, and a `receive` that hands it to the application again."""
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay, body


async def _forbidden(scope: Scope, send: Send, detail: str) -> None:
    body = msgspec.json.encode({"type": "about:blank", "title": "Forbidden", "status": 403, "detail": detail,
                                "instance": scope["path"]})  # fmt: skip
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
