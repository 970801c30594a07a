"""The one guard in front of every API route: the request's shape, then who may use what it touches.

`authorize` runs after routing and before the handler, for every route of the API router.
With `--enforce-access-control` it first resolves every workflow the request names, in every
way the request could be read (its route's rule with the path ids as the router parsed them,
each `workflow_id` in the query, the body's `workflow_id` and each record the body refers to,
read from that record's own `workflow_id` in the database; `"1"`, `1.0` and `"+1"` all name
workflow 1), and refuses the request (403) unless the caller may use all of them. Only then
is the request's shape checked strictly (`api.access.shape`: 400 or 404), and a request that
names two different workflows is refused (422). Admin users may use every workflow.
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
from torc_client.core.errors import Forbidden, InvalidRequest

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
    """Refuse a request about a workflow the caller may not use (403), or a malformed one (400/404)."""
    rule, request_shape = handler.opt.get(rules.KEY), handler.opt.get(SHAPE)
    if rule is None or request_shape is None:
        raise PermissionDeniedException("this route has no access rule, so it is not served")
    request: Request = connection
    raw = await request.body() if request_shape.body is not None else None
    state = request.app.state
    user = request.scope.get("state", {}).get("user")
    guarded = state.enforce_access and user not in state.admin_users
    named: set[int] = set()
    if guarded:  # every reading of the request first, however it is spelled: none may name another's workflow
        named = await _named(rule, request, _loose_body(raw), state.db)
        for wid in sorted(named):
            exists, owner = await ownership.owner_of(state.db, wid)
            if exists and not await ownership.may_use(state.db, wid, owner, user, state.admin_users):
                raise Forbidden(f"workflow {wid} belongs to another user and is not shared with {user}: its owner "
                                "can share it through an access group")  # fmt: skip
    shape.check(request, request_shape, raw)
    if len(named) > 1:
        raise InvalidRequest(f"the request names workflows {', '.join(map(str, sorted(named)))}: a record, the "
                             "workflow it belongs to and the records it refers to must be of one workflow")  # fmt: skip


async def _named(rule: rules.Rule, request: Request, body: Any, db: Database) -> set[int]:
    """Every workflow the request names: by its rule, its query, its body, and the records its body refers to."""
    named = set()
    wid = await rule.workflow(request, body, db)
    if wid is not None:
        named.add(wid)
    named |= {i for v in request.query_params.getall("workflow_id", []) if (i := rules.loose_int(v)) is not None}
    if not isinstance(body, dict):
        return named
    if (wid := rules.loose_int(body.get("workflow_id"))) is not None:
        named.add(wid)
    for name, collection in REFERENCES.items():
        value = body.get(name)
        ids = [rules.loose_int(v) for v in (value if isinstance(value, list) else [value])]
        if any(i is not None for i in ids):
            named |= await ownership.workflows_of(db, collection, [i for i in ids if i is not None])
    return named


def _loose_body(raw: bytes | None) -> Any:
    """The JSON body as any reader might take it (None if it is not JSON)."""
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


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
