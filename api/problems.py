"""Errors as `application/problem+json` (RFC 9457): one table, one handler."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from torc_client.errors import TorcError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("torc.api")


def problem_response(status: int, title: str, detail: str, request: Request, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra}  # fmt: skip
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON)


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
    return problem_response(error.status_code, _title(error.status_code), str(detail), request)


def unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    return problem_response(500, "Internal error", f"{type(error).__name__}: {error}", request)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS = {
    TorcError: torc_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType"]
