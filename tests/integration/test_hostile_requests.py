"""Requests a server must refuse with a 4xx that says the limit, never a 500, and without changing anything."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.claims.test_http_claims import independent

BIG = 2**70


@pytest.fixture()
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["detail"]


def test_integers_beyond_64_bits_are_refused_in_paths_queries_and_bodies(http, make_workflow) -> None:
    wf = make_workflow(independent(1))
    assert "out of range" in problem(http.get(f"/jobs/{BIG}"), 400)
    assert "out of range" in problem(http.get("/files", params={"workflow_id": BIG}), 400)
    created = http.post("/user_data", json={"workflow_id": wf.id, "name": "big", "data": {"n": BIG}})
    assert "out of range" in problem(created, 400)
    assert [u["name"] for u in http.get("/user_data", params={"workflow_id": wf.id}).json()["items"]] == []


def test_user_data_over_the_document_limit_is_refused_with_the_limit(http, make_workflow) -> None:
    wf = make_workflow(independent(1))
    body = json.dumps({"workflow_id": wf.id, "name": "huge", "data": "x" * (17 * 1024 * 1024)})
    detail = problem(http.post("/user_data", content=body, headers={"content-type": "application/json"}), 413)
    assert "16 MB" in detail


def test_a_key_the_database_cannot_store_is_refused_and_changes_nothing(http, make_workflow) -> None:
    wf = make_workflow(independent(1))
    assert "cannot store" in problem(http.put(f"/workflows/{wf.id}", json={"metadata": {"a\u0000b": 1}}), 400)
    assert "cannot store" in problem(http.post("/user_data", json={"workflow_id": wf.id, "name": "nul",
                                                                    "data": {"k\u0000": 1}}), 400)  # fmt: skip
    assert http.get(f"/workflows/{wf.id}").json()["metadata"] in (None, {})


def test_json_nested_ten_thousand_deep_is_refused(http, make_workflow) -> None:
    wf = make_workflow(independent(1))
    deep = "[" * 10_000 + "]" * 10_000
    body = f'{{"workflow_id": {wf.id}, "name": "deep", "data": {deep}}}'
    response = http.post("/user_data", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(("field", "value"), [("num_cpus", -1), ("memory_gb", -2.0), ("num_gpus", -1),
                                              ("num_nodes", 0), ("hostname", ""), ("hostname", "node\x07")])  # fmt: skip
def test_a_compute_node_with_impossible_resources_is_refused(http, make_workflow, field, value) -> None:
    wf = make_workflow(independent(1))
    node = {"workflow_id": wf.id, "hostname": "h", "pid": 1, field: value}
    assert field in problem(http.post("/compute_nodes", json=node), 422)


@pytest.mark.parametrize("name", ["", "tab\there", "bell\x07", "line\nbreak", "trailing newline\n"])
def test_a_name_that_is_empty_or_has_control_characters_is_refused(http, make_workflow, name) -> None:
    wf = make_workflow(independent(1))
    for path, body in (("/files", {"workflow_id": wf.id, "name": name, "path": "x.txt"}),
                       ("/user_data", {"workflow_id": wf.id, "name": name}),
                       ("/workflows", {"name": name})):  # fmt: skip
        assert "name" in problem(http.post(path, json=body), 400)
    assert [f["name"] for f in http.get("/files", params={"workflow_id": wf.id}).json()["items"]] == []


def test_the_openapi_schema_documents_the_problems_every_operation_can_answer(http) -> None:
    schema = http.get("/docs/openapi.json").json()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()
                  if method in ("get", "post", "put", "patch", "delete")]  # fmt: skip
    assert len(operations) > 50
    for path, method, op in operations:
        for status in ("400", "401", "403", "404", "409", "413", "422", "500", "503"):
            content = op["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
    problem_schema = schema["components"]["schemas"]["Problem"]
    assert set(problem_schema["required"]) >= {"title", "status", "detail", "instance"}


def test_a_billion_laughs_spec_is_refused_before_it_expands_and_the_server_stays_up(http) -> None:
    from tests.spec.test_limits import LAUGHS

    answer = http.post("/workflows/specs", content=LAUGHS, params={"format": "yaml"})
    assert "at most 1,000,000 may come from aliases" in problem(answer, 422)
    assert http.get("/ping").status_code == 200


def test_a_command_longer_than_one_command_line_is_refused_when_created(http, make_workflow) -> None:
    from torc_client.core.settings import MAX_COMMAND_BYTES

    wf = make_workflow(independent(1))
    long = "x" * (MAX_COMMAND_BYTES + 1)
    detail = problem(http.post("/jobs", json={"workflow_id": wf.id, "name": "long", "command": long}), 400)
    assert f"length <= {MAX_COMMAND_BYTES}" in detail and "$.command" in detail
    spec = {"name": "long", "jobs": [{"name": "long", "command": long}]}
    assert f"at most {MAX_COMMAND_BYTES:,} fit in one command line" in problem(http.post("/workflows/specs", json=spec),
                                                                              422)  # fmt: skip
    assert [j["name"] for j in http.get("/jobs", params={"workflow_id": wf.id}).json()["items"]] == ["j1"]


@pytest.mark.parametrize("value", ["1", 1.0, True])
def test_a_body_integer_is_an_integer_not_a_string_float_or_boolean(http, make_workflow, value) -> None:
    wf = make_workflow(independent(1))
    body = {"workflow_id": value if value != "1" else str(wf.id), "name": "loose", "data": 1}
    if value == 1.0:
        body["workflow_id"] = float(wf.id)
    assert "Expected `int`" in problem(http.post("/user_data", json=body), 400)
    assert http.get("/user_data", params={"workflow_id": wf.id}).json()["items"] == []


def test_a_boolean_is_true_or_false_in_bodies_and_queries(http, make_workflow) -> None:
    wf = make_workflow(independent(1))
    created = http.post("/user_data", json={"workflow_id": wf.id, "name": "flag", "data": 1, "is_ephemeral": 0})
    assert "Expected `bool`" in problem(created, 400)
    assert "must be true or false, not '0'" in problem(http.get("/workflows", params={"is_archived": "0"}), 400)
    assert http.get("/workflows", params={"is_archived": "false"}).status_code == 200


@pytest.mark.parametrize("spelling", ["+{}", "0{}", "0_{}", "%20{}", "{}%20"])
def test_an_id_is_written_in_plain_digits(http, make_workflow, spelling) -> None:
    wf = make_workflow(independent(1))
    assert "ids are written in plain digits" in problem(http.get(f"/workflows/{spelling.format(wf.id)}"), 404)
    assert http.get(f"/workflows/{wf.id}").status_code == 200


def test_a_query_parameter_given_twice_is_refused(http, make_workflow) -> None:
    wf = make_workflow(independent(1))
    answer = http.get("/jobs", params=[("workflow_id", wf.id), ("workflow_id", wf.id)])
    assert "'workflow_id' is given 2 times: give it once" in problem(answer, 400)


def test_a_method_a_path_does_not_allow_is_answered_with_the_ones_it_does(http, make_workflow) -> None:
    wf = make_workflow(independent(1))
    answer = http.post(f"/workflows/{wf.id}/status")
    assert "use" in problem(answer, 405)
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "OPTIONS"}
