"""Access rules: what each route touches, declared on the route itself.

Every route handler names its rule in its decorator (`opt=rules.WORKFLOW`, ...). A route
without one is not served: `api.access.guard.prepare` refuses to start such an
application. The rules say where the workflow a request is about comes from; the guard then
resolves it, from the database wherever a record is named, and asks whether the caller may
use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request

from api.storage import Database, ownership
from torc_client.core.errors import InvalidRequest, NotFound

#: The key of a handler's `opt` that holds its rule.
KEY = "access"


class Rule:
    """Where a request's workflow comes from. `workflow` returns it (None: the route is about no one workflow)."""

    async def workflow(self, request: Request, body: Any, db: Database) -> int | None:
        return None


@dataclass(frozen=True)
class Open(Rule):
    """Nothing of anybody's: service endpoints (ping, version, the spec schema)."""


@dataclass(frozen=True)
class CallerScoped(Rule):
    """The handler acts only on what belongs to the caller: creating a workflow (it becomes theirs), the lists it
    filters to what they may see, access groups (whose storage checks roles), their own creations."""


@dataclass(frozen=True)
class WorkflowInPath(Rule):
    """`/workflows/{workflow_id}/...` and the like: the workflow is named in the path."""

    param: str = "workflow_id"

    async def workflow(self, request: Request, body: Any, db: Database) -> int | None:
        return request.path_params[self.param]


@dataclass(frozen=True)
class WorkflowInQuery(Rule):
    """A list of one workflow's records: `?workflow_id=` is required."""

    async def workflow(self, request: Request, body: Any, db: Database) -> int | None:
        if "workflow_id" not in request.query_params:
            raise InvalidRequest("query parameter 'workflow_id' is required: the workflow whose records to list")
        return None  # every value given is read by the guard


@dataclass(frozen=True)
class WorkflowInBody(Rule):
    """A record created in a workflow: the body's `workflow_id` names it."""

    async def workflow(self, request: Request, body: Any, db: Database) -> int | None:
        return None  # the guard reads the body's `workflow_id`, in every spelling


@dataclass(frozen=True)
class RecordsInBody(Rule):
    """Records created in bulk (`POST /bulk_jobs`, `/bulk_files`, `/bulk_user_data`): the body's list under `key`,
    each record's `workflow_id` naming the workflow, and all must name one."""

    key: str

    async def workflow(self, request: Request, body: Any, db: Database) -> int | None:
        made = body.get(self.key) if isinstance(body, dict) else None
        named = {loose_int(record.get("workflow_id")) for record in made or [] if isinstance(record, dict)}
        named.discard(None)
        if len(named) > 1:
            raise InvalidRequest(f"the {self.key} name workflows {', '.join(map(str, sorted(named)))}: the {self.key} "
                                 "of one request must be of one workflow")  # fmt: skip
        return named.pop() if named else None


@dataclass(frozen=True)
class JobsInBody(RecordsInBody):
    """Jobs created in bulk (`POST /bulk_jobs`)."""

    key: str = "jobs"


@dataclass(frozen=True)
class RecordInPath(Rule):
    """`/jobs/{job_id}` and the like: the record's own `workflow_id`, read from the database."""

    collection: str
    param: str
    #: What a missing record is called (by default, the collection's name without its final `s`).
    kind: str | None = None

    async def workflow(self, request: Request, body: Any, db: Database) -> int | None:
        record_id = request.path_params[self.param]
        wid = await ownership.workflow_of(db, self.collection, record_id)
        if wid is None:
            raise NotFound(self.kind or self.collection.rstrip("s"), record_id)
        return wid


def grant(rule: Rule) -> dict[str, Rule]:
    """A route's `opt` carrying `rule`."""
    return {KEY: rule}


OPEN = grant(Open())
CALLER = grant(CallerScoped())
WORKFLOW = grant(WorkflowInPath())
LIST = grant(WorkflowInQuery())
CREATE = grant(WorkflowInBody())


def record(collection: str, param: str, kind: str | None = None) -> dict[str, Rule]:
    """The rule of a route about one record of `collection`, named by path parameter `param`."""
    return grant(RecordInPath(collection, param, kind))


def loose_int(value: Any) -> int | None:
    """Every integer a value could be read as: `1`, `1.0`, `"1"`, `"+1"`, `" 1"`, `"0_1"` are all 1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        for read in (int, float):
            try:
                return loose_int(read(value))
            except (ValueError, OverflowError):
                continue
    return None
