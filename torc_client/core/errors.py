"""Every error Torc raises, in one tree.

    TorcError                       root of everything below
    ├── SpecError(path, message)    a workflow specification is malformed or inconsistent
    ├── NotFound(kind, key)         a record does not exist
    ├── Conflict(message)           the request clashes with the current state
    │   ├── LeaseExpired(message)   a runner's lease ran out; its jobs went to others
    │   └── InvalidTransition(job, from_, to)
    ├── InvalidRequest(message)     a request is well-formed but its values are not acceptable
    ├── Forbidden(message)          the caller may not do this (access control)
    └── ApiError(status, problem)   raised by the client: the server answered with a problem
        ├── NotFoundError           also a NotFound, with the server's kind and key
        ├── ConflictError           also a Conflict
        │   ├── LeaseExpiredError   also a LeaseExpired
        │   └── InvalidTransitionError  also an InvalidTransition, with job, from_ and to
        ├── ForbiddenError          also a Forbidden (HTTP 403); UnauthorizedError for 401
        ├── ValidationError         also an InvalidRequest (HTTP 400, 413 or 422)
        └── ServerUnavailable(url)  nothing answered at the URL

The API maps the server's errors to `application/problem+json` responses in one table
(`api/problems.py`). The client raises an `ApiError` subclass that is also the server's class, so
`except NotFound` catches a missing record whether the code runs in the server or talks to it.
"""

from __future__ import annotations

from typing import Any


class TorcError(Exception):
    """Root of every error raised by Torc."""

    status_code = 500
    title = "Internal error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        """This error as the fields of an RFC 9457 problem document."""
        return {"title": self.title, "status": self.status_code, "detail": self.message, **self.extra}


class SpecError(TorcError):
    """A workflow specification is malformed or inconsistent.

    `path` says where: a JSON-pointer-like location (`jobs[2].depends_on`), or
    `line 4, column 7` for a syntax error.
    """

    status_code = 422
    title = "Invalid workflow specification"
    #: Most problems listed in one error's message (all of them are in `problems`).
    SHOWN = 50

    def __init__(self, path: str, message: str) -> None:
        text = f"{path}: {message}" if path else message
        super().__init__(text, path=path)
        self.path = path
        self.problems = [{"path": path, "message": message}]

    @classmethod
    def combine(cls, errors: list[SpecError]) -> SpecError:
        """One error for several problems (the first one's path), listing each on its own line."""
        if len(errors) == 1:
            return errors[0]
        problems = [problem for error in errors for problem in error.problems]
        combined = cls(problems[0]["path"], problems[0]["message"])
        lines = [f"  {p['path']}: {p['message']}" if p["path"] else f"  {p['message']}" for p in problems[: cls.SHOWN]]
        if len(problems) > cls.SHOWN:
            lines.append(f"  ... and {len(problems) - cls.SHOWN} more")
        combined.message = f"{len(problems)} problems in the spec:\n" + "\n".join(lines)
        combined.args = (combined.message,)
        combined.problems = problems
        combined.extra["errors"] = problems
        return combined


class NotFound(TorcError):
    """A record does not exist."""

    status_code = 404
    title = "Not found"

    def __init__(self, kind: str, key: Any) -> None:
        super().__init__(f"{kind} {key} does not exist", kind=kind, key=key)
        self.kind = kind
        self.key = key


class Conflict(TorcError):
    """The request clashes with the current state of a record."""

    status_code = 409
    title = "Conflict"


class LeaseExpired(Conflict):
    """A runner's lease ran out: its jobs were handed to other runners, and it must stop."""

    title = "Lease expired"


class InvalidTransition(Conflict):
    """A job cannot move from its current status to the one requested."""

    title = "Invalid job status transition"

    def __init__(self, job: Any, from_: str, to: str) -> None:
        super().__init__(f"job {job} cannot go from {from_} to {to}", job=job, from_status=from_, to_status=to)
        self.job = job
        self.from_ = from_
        self.to = to


class Forbidden(TorcError):
    """The caller may not do this (access control)."""

    status_code = 403
    title = "Forbidden"


class InvalidRequest(TorcError):
    """A request is well-formed but its values are not acceptable."""

    status_code = 422
    title = "Invalid request"


class ApiError(TorcError):
    """The server answered with a problem document (raised by the client)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        detail = problem.get("detail") or problem.get("title") or f"HTTP {status}"
        TorcError.__init__(self, str(detail))  # not the mirrored server class's: its arguments differ
        self.status_code = status
        self.title = str(problem.get("title", "Error"))
        self.problem_doc = problem

    def problem(self) -> dict[str, Any]:
        return dict(self.problem_doc)


class ServerUnavailable(ApiError):
    """Nothing answered at the API URL, or the server said its database does not (raised by the client)."""

    def __init__(self, url: str, reason: str = "", database: bool = False) -> None:
        if database:
            message = f"the Torc server at {url} cannot reach its database ({reason}); it may be restarting"
        else:
            message = (
                f"no Torc server answers at {url}"
                + (f" ({reason})" if reason else "")
                + ": start one with `torc-server` (or `make serve`), or point --url / TORC_API_URL at a running server"
            )
        super().__init__(503, {"title": "Server unavailable", "status": 503, "detail": message})
        self.url = url
        self.database = database


class NotFoundError(ApiError, NotFound):
    """The server says the record does not exist (HTTP 404); `kind` and `key` name it."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        self.kind = str(problem.get("kind", ""))
        self.key = problem.get("key")


class ConflictError(ApiError, Conflict):
    """The server refused because of the current state (HTTP 409)."""


class LeaseExpiredError(ConflictError, LeaseExpired):
    """The server says this runner's lease expired (its jobs went to other runners)."""


class InvalidTransitionError(ConflictError, InvalidTransition):
    """The server says a job cannot move between these statuses; `job`, `from_` and `to` say which."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        self.job = problem.get("job")
        self.from_ = str(problem.get("from_status", ""))
        self.to = str(problem.get("to_status", ""))


class ForbiddenError(ApiError, Forbidden):
    """The server says this user may not do this (HTTP 403: access control)."""


class UnauthorizedError(ApiError):
    """The server asks who is calling (HTTP 401): no password, or a wrong one."""


class ValidationError(ApiError, InvalidRequest):
    """The server refused the values sent (HTTP 400 or 422): a bad spec, bad JSON, a bad parameter."""


_BY_STATUS: dict[int, type[ApiError]] = {400: ValidationError, 401: UnauthorizedError, 403: ForbiddenError,
                                         404: NotFoundError, 409: ConflictError, 413: ValidationError,
                                         422: ValidationError}  # fmt: skip
_BY_TITLE: dict[str, type[ApiError]] = {LeaseExpired.title: LeaseExpiredError,
                                        InvalidTransition.title: InvalidTransitionError}  # fmt: skip


def from_problem(status: int, problem: dict[str, Any]) -> ApiError:
    """The client-side exception for a problem document the server sent."""
    by_title = _BY_TITLE.get(str(problem.get("title", "")))
    if by_title is not None and status == Conflict.status_code:
        return by_title(status, problem)
    return _BY_STATUS.get(status, ApiError)(status, problem)
