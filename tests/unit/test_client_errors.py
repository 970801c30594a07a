"""The client's errors mirror the server's: each problem answer becomes the server's class too."""

from __future__ import annotations

import pytest

from torc_client.core import errors

CASES = [
    (404, {"title": "Not found", "kind": "job", "key": 5}, errors.NotFoundError, errors.NotFound),
    (403, {"title": "Forbidden"}, errors.ForbiddenError, errors.Forbidden),
    (409, {"title": "Conflict"}, errors.ConflictError, errors.Conflict),
    (409, {"title": "Lease expired"}, errors.LeaseExpiredError, errors.LeaseExpired),
    (409, {"title": "Invalid job status transition", "job": 3, "from_status": "ready", "to_status": "running"},
     errors.InvalidTransitionError, errors.InvalidTransition),
    (422, {"title": "Invalid request"}, errors.ValidationError, errors.InvalidRequest),
    (400, {"title": "Bad Request"}, errors.ValidationError, errors.InvalidRequest),
    (401, {"title": "Unauthorized"}, errors.UnauthorizedError, errors.ApiError),
    (500, {"title": "Internal error"}, errors.ApiError, errors.TorcError),
]


@pytest.mark.parametrize(("status", "problem", "client_class", "server_class"), CASES,
                         ids=[f"{s}-{p['title']}" for s, p, _, _ in CASES])  # fmt: skip
def test_a_problem_answer_is_raised_as_the_servers_class(status, problem, client_class, server_class):
    error = errors.from_problem(status, {**problem, "status": status, "detail": "what happened"})
    assert type(error) is client_class
    assert isinstance(error, server_class) and isinstance(error, errors.ApiError)
    assert (error.status_code, str(error), error.problem()["title"]) == (status, "what happened", problem["title"])


def test_a_missing_record_and_a_refused_transition_keep_what_the_server_named():
    missing = errors.from_problem(404, {"title": "Not found", "detail": "job 5 does not exist", "kind": "job", "key": 5})
    assert (missing.kind, missing.key) == ("job", 5)
    refused = errors.from_problem(409, {"title": "Invalid job status transition", "job": 3, "from_status": "ready",
                                        "to_status": "running"})  # fmt: skip
    assert (refused.job, refused.from_, refused.to) == (3, "ready", "running")


def test_a_transition_title_on_another_status_is_not_a_transition():
    assert type(errors.from_problem(422, {"title": "Invalid job status transition"})) is errors.ValidationError
