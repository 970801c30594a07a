"""The one guard in front of every API route: the request's shape, then who may use what it touches.

`authorize` runs after routing and before the handler, for every route of the API router.
It checks the request's shape (`api.access.shape`), then, with `--enforce-access-control`,
resolves every workflow the request names (its route's rule, a `workflow_id` in the query or
the body, and each record the body refers to, from that record's own `workflow_id` in the
database) and refuses the request (403) unless the caller may use all of them; a request
that names two different workflows is refused (422). Admin users may use every workflow.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Litestar, Request
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.routes import HTTPRoute

from api.access import rules, shape
from api.storage import Database, ownership
from torc_client.errors import Forbidden, InvalidRequest

#: The key of a handler's `opt` that holds its request shape (filled in by `prepare`).
SHAPE = "shape"
#: Body fields that name records, and where those records are kept.
REFERENCES = {
    "compute_node_id": "compute_nodes", "job_id": "jobs", "job_ids": "jobs", "depends_on_job_ids": "jobs",
    "input_file_ids": "files", "output_file_ids": "files", "input_user_data_ids": "user_data",
    "output_user_data_ids": "user_data", "resource_requirements_id": "resource_requirements",
    "failure_handler_id": "failure_handlers", "scheduler_config_id": "slurm_schedulers",
    "action_id": "workflow_actions",
}  # fmt: skip


async def authorize(connection: Any, handler: BaseRouteHandler) -> None:
    """Refuse a malformed request (400/404), or one about a workflow the caller may not use (403)."""
    rule, request_shape = handler.opt.get(rules.KEY), handler.opt.get(SHAPE)
    if rule is None or request_shape is None:
        raise PermissionDeniedException("this route has no access rule, so it is not served")
    request: Request = connection
    raw = await request.body() if request_shape.body is not None else None
    body = shape.check(request, request_shape, raw)
    state = request.app.state
    if not state.enforce_access:
        return
    user = request.scope.get("state", {}).get("user")
    if user in state.admin_users:
        return
    db: Database = state.db
    named = await _named(rule, request, body, db)
    for wid in sorted(named):
        exists, owner = await ownership.owner_of(db, wid)
        if exists and not await ownership.may_use(db, wid, owner, user, state.admin_users):
            raise Forbidden(f"workflow {wid} belongs to another user and is not shared with {user}: its owner can "
                            "share it through an access group")  # fmt: skip
    if len(named) > 1:
        raise InvalidRequest(f"the request names workflows {', '.join(map(str, sorted(named)))}: a record, the "
                             "workflow it belongs to and the records it refers to must be of one workflow")  # fmt: skip


async def _named(rule: rules.Rule, request: Request, body: Any, db: Database) -> set[int]:
    """Every workflow the request names: by its rule, its query, its body, and the records its body refers to."""
    named = set()
    wid = await rule.workflow(request, body, db)
    if wid is not None:
        named.add(wid)
    if "workflow_id" in request.query_params:
        named.add(int(request.query_params["workflow_id"]))
    fields = msgspec.structs.asdict(body) if isinstance(body, msgspec.Struct) else body
    if not isinstance(fields, dict):
        return named
    if isinstance(fields.get("workflow_id"), int):
        named.add(fields["workflow_id"])
    for name, collection in REFERENCES.items():
        value = fields.get(name)
        ids = [value] if isinstance(value, int) else [v for v in value if isinstance(v, int)] \
            if isinstance(value, list) else []  # fmt: skip
        if ids:
            named |= await ownership.workflows_of(db, collection, ids)
    return named


def prepare(app: Litestar) -> None:
    """Give every guarded route its request shape; refuse to start if one has no access rule."""
    dependencies = frozenset(app.dependencies)
    missing = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = frozenset(route.path_parameters)
        for handler in route.route_handlers:
            if authorize not in handler.resolve_guards():
                continue
            if handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler":
                handler.opt[rules.KEY] = rules.Open()  # Litestar's own answer: the methods the path allows
            if rules.KEY not in handler.opt:
                missing.append(f"{'/'.join(sorted(handler.http_methods))} {route.path} ({handler.handler_name})")
                continue
            handler.opt[SHAPE] = shape.shape_of(handler, path, dependencies | _own_dependencies(handler))
    if missing:
        raise RuntimeError("every API route must declare an access rule (see api/access/rules.py); these do not: "
                           + "; ".join(missing))  # fmt: skip


def _own_dependencies(handler: HTTPRouteHandler) -> frozenset[str]:
    return frozenset(handler.resolve_dependencies())
