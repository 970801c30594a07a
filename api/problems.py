"""Errors as `application/problem+json` (RFC 9457), carrying Torc's error fields too: one table, one handler.

Torc's clients read `{error, errorNum, errorMessage, code}` (its OpenAPI document's error response);
this project's client, CLI and tools read the problem document (`title`, `detail`, and fields such as
`errors` or `path`). Every error body has both, so neither kind of client has to know the other.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from api.storage import errors as database
from torc_client.core.errors import TorcError

PROBLEM_JSON = "application/problem+json"
#: The database's code for a document over its 16 MB limit.
DOCUMENT_TOO_LARGE = 10334
#: Longest error text an unexpected error's problem repeats (it may quote the request).
MAX_DETAIL = 500
log = logging.getLogger("torc.api")


def problem_response(status: int, title: str, detail: str, request: Request, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra, **torc_fields(status, title, detail)}  # fmt: skip
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON)


def torc_fields(status: int, title: str, detail: str) -> dict[str, Any]:
    """Torc's error fields: `error` names the kind of error and repeats the message, as Torc's server does."""
    return {"error": {"error": title, "message": detail}, "errorNum": status, "errorMessage": detail, "code": status}


def torc_error(request: Request, error: TorcError) -> Response:
    """A project error: its class gives the status and title, its message the detail."""
    problem = error.problem()
    return problem_response(error.status_code, problem.pop("title"), problem.pop("detail"), request,
                            **{k: v for k, v in problem.items() if k != "status"})  # fmt: skip


def validation_error(request: Request, error: ValidationException) -> Response:
    """A request body or parameter that does not match the contract."""
    errors = error.extra if isinstance(error.extra, list) else []
    where = "; ".join(f"{e.get('key', '')}: {e.get('message', '')}".strip(": ") for e in errors if isinstance(e, dict))
    detail = f"{error.detail}" + (f" ({where})" if where else "")
    return problem_response(400, "Invalid request", detail, request, errors=errors)


def http_error(request: Request, error: HTTPException) -> Response:
    detail = error.detail
    if error.status_code == 404 and detail in ("", "Not Found"):
        detail = f"no API endpoint at {request.method} {request.url.path}; see the API docs under /torc-service/v1/docs"
    if error.status_code == 413:
        detail = "request body too large: split the request (for example, create jobs in batches)"
    if error.status_code == 405 and detail in ("", "Method Not Allowed"):
        allowed = (error.headers or {}).get("allow", "")
        detail = f"{request.method} is not allowed on {request.url.path}" + (f": use {allowed}" if allowed else "")
    response = problem_response(error.status_code, _title(error.status_code), str(detail), request)
    response.headers.update(error.headers or {})  # `Allow` on a 405, say
    return response


def out_of_range(request: Request, error: OverflowError) -> Response:
    """An integer the database cannot store (MongoDB keeps 64-bit integers)."""
    return problem_response(400, "Invalid request", "a number in the request is out of range: ids and other integers "
                            f"must lie within ±{2**63 - 1}", request)  # fmt: skip


def database_refused(request: Request, error: database.Refused) -> Response:
    """The database refused a write: a document over its size limit is the caller's to fix, anything else is ours."""
    codes = {e.get("code") for e in (error.details or {}).get("writeErrors", [])} | {error.code}
    if DOCUMENT_TOO_LARGE in codes:
        return too_large(request, error)
    return unexpected_error(request, error)


def too_large(request: Request, error: Exception) -> Response:
    return problem_response(413, "Request entity too large", "a record in the request is over the database's 16 MB "
                            "document limit: keep user_data small (store large data in files and record their "
                            "paths), or split the request", request)  # fmt: skip


def not_storable(request: Request, error: database.NotStorable) -> Response:
    """A value the database cannot store, such as a key with a NUL character in `metadata` or user_data."""
    return problem_response(400, "Invalid request", f"the request holds a value the database cannot store: {error}",
                            request)  # fmt: skip


def too_deep(request: Request, error: RecursionError) -> Response:
    return problem_response(400, "Invalid request", "the request's JSON is nested too deeply (keep documents to a "
                            "few hundred levels)", request)  # fmt: skip


def database_unavailable(request: Request, error: database.DatabaseError) -> Response:
    """The database did not answer in time: the request changed nothing that a retry would not repeat safely."""
    log.warning("database unavailable in %s %s: %s", request.method, request.url.path, error)
    response = problem_response(503, "Service unavailable", "the database does not answer; retry in a moment "
                                f"({type(error).__name__})", request)  # fmt: skip
    response.headers["Retry-After"] = "5"
    return response


def unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    text = str(error)
    text = text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + " ..."
    return problem_response(500, "Internal error", f"{type(error).__name__}: {text}", request)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class Problem(msgspec.Struct, kw_only=True):
    """An error, as RFC 9457 describes it (some problems add fields, such as `errors` or `path`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    #: Torc's error fields: `{"error": title, "message": detail}`, the status twice and the detail again.
    error: dict[str, Any]
    errorNum: int  # noqa: N815 - Torc's name
    errorMessage: str  # noqa: N815 - Torc's name
    code: int


_STATUSES = {
    400: "The request does not match the API: a bad parameter, body, number or name",
    401: "A user name and password are required, or the ones given are wrong (servers with --auth-file)",
    403: "The caller may not use this workflow or do this (servers with --enforce-access-control)",
    404: "A record the request names does not exist",
    409: "The request clashes with the current state (for example a claim on a workflow not initialised)",
    413: "The request, or a record in it, is too large",
    422: "The values are well-formed but not acceptable (for example a spec with an unknown job name)",
    429: "Too many failed logins for this user name or address: wait for `Retry-After` seconds",
    500: "A fault in the server (logged)",
    503: "The database does not answer; retry in a moment",
}
#: Every error an operation may answer with, documented for each operation in the OpenAPI schema.
RESPONSES = {status: ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON, description=text,
                                  generate_examples=False) for status, text in _STATUSES.items()}  # fmt: skip


def document(route_handlers: list[Any]) -> None:
    """Add the problem responses to every handler of these controllers (Litestar has no layered `responses`)."""
    for controller in route_handlers:
        for name in dir(controller):
            handler = getattr(controller, name)
            if isinstance(handler, HTTPRouteHandler):
                handler.responses = {**RESPONSES, **(handler.responses or {})}


EXCEPTION_HANDLERS = {
    TorcError: torc_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    OverflowError: out_of_range,
    database.TooLarge: too_large,
    database.Refused: database_refused,
    RecursionError: too_deep,
    database.NotStorable: not_storable,
    database.Unreachable: database_unavailable,
    Exception: unexpected_error,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType"]
