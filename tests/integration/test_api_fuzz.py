"""Schemathesis against the served OpenAPI schema: every operation, generated requests, no 5xx, answers as documented.

The server gets a database of its own (generated requests delete what they find). Each
operation is tried with a bounded number of generated requests, valid and invalid; a
failure names the operation and the request that broke it, with a curl line to repeat it.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import start_server, stop_server

#: Generated requests per operation: enough to reach every documented error, bounded so the run takes a minute or two.
EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzzed_server(mongo_uri, tmp_path_factory):
    server = start_server(mongo_uri, f"torc_fuzz_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("fuzz"))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def api_schema(fuzzed_server):
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/docs/openapi.json")


CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip


def test_every_operation_answers_as_documented(api_schema) -> None:
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def try_it(case) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            try_it()
        except Exception as error:  # noqa: BLE001 - every operation's failure is collected, then reported together
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
