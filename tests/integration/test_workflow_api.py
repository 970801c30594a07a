"""Creating, reading, listing and deleting workflows through the HTTP API, and its error shape."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from torc_client import Client
from torc_client import contract as c
from torc_client.core.errors import NotFoundError, ValidationError

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.*"))
TUTORIAL = Path(__file__).parents[2] / "examples" / "user_data_workflow.yaml"


def workflow_count(client: Client) -> int:
    return len(client.list_workflows())


def test_ping_answers(client: Client) -> None:
    assert client.ping() == {"status": "ok"}


def test_openapi_schema_and_docs_page_are_served(server) -> None:
    schema = httpx.get(f"{server.url}/docs/openapi.json").json()
    assert "/torc-service/v1/workflows/{workflow_id}/claim" in schema["paths"]
    page = httpx.get(f"{server.url}/docs/")
    assert page.status_code == 200 and "swagger" in page.text.lower()


def test_spec_schema_is_served(client: Client) -> None:
    schema = client.spec_schema()
    assert "jobs" in schema["properties"] and schema["additionalProperties"] is False


def test_create_from_plain_http_body_matches_the_client(server, tmp_path) -> None:
    text = TUTORIAL.read_text()
    response = httpx.post(f"{server.url}/workflows/specs", params={"format": "yaml"}, content=text)
    assert response.status_code == 200
    workflow = response.json()
    jobs = httpx.get(f"{server.url}/jobs", params={"workflow_id": workflow["id"]}).json()["items"]
    assert [j["name"] for j in jobs] == ["generate_config", "train_model", "evaluate_model"]
    assert {j["status"] for j in jobs} == {"uninitialized"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_creates_and_initialises(client: Client, example: Path, tmp_path: Path) -> None:
    (tmp_path / "inputs.json").write_text('{"a": [1], "b": [2]}')
    workflow = client.create_workflow_from_file(example, working_dir=str(tmp_path))
    result = client.initialize_workflow(workflow.id)
    assert result.run_id == 1
    assert result.job_counts.get("ready", 0) >= 1


def test_initialise_sets_ready_and_blocked_from_user_data(client: Client) -> None:
    workflow = client.create_workflow_from_file(TUTORIAL)
    client.initialize_workflow(workflow.id)
    statuses = {j.name: j.status for j in client.list_jobs(workflow.id)}
    assert statuses == {"generate_config": "ready", "train_model": "blocked", "evaluate_model": "blocked"}
    train = next(j for j in client.list_jobs(workflow.id) if j.name == "train_model")
    generate = next(j for j in client.list_jobs(workflow.id) if j.name == "generate_config")
    assert train.depends_on_job_ids == [generate.id]


def test_user_data_variables_become_record_ids(client: Client) -> None:
    workflow = client.create_workflow_from_file(TUTORIAL)
    (record,) = client.list_user_data(workflow.id)
    generate = client.list_jobs(workflow.id, name="generate_config")[0]
    assert f"torc user-data update {record.id} " in generate.command
    assert generate.output_user_data_ids == [record.id]


def test_delete_removes_the_workflow_and_its_records(client: Client) -> None:
    workflow = client.create_workflow_from_file(TUTORIAL)
    client.delete_workflow(workflow.id)
    with pytest.raises(NotFoundError):
        client.get_workflow(workflow.id)
    with pytest.raises(NotFoundError):
        client.list_jobs(workflow.id)


BAD_SPECS = {
    "malformed_yaml": ("name: x\njobs:\n  - name: a\n    command: [unclosed\n", "yaml", "line"),
    "unknown_key": ("name: x\njobs:\n  - name: a\n    comand: echo\n", "yaml", "comand"),
    "duplicate_job": ("name: x\njobs:\n  - {name: a, command: echo}\n  - {name: a, command: echo}\n", "yaml", "duplicate"),
    "unknown_dependency": ("name: x\njobs:\n  - {name: a, command: echo, depends_on: [b]}\n", "yaml", "b"),
    "regex_matches_nothing": ("name: x\njobs:\n  - {name: a, command: echo, depends_on_regexes: ['^zz']}\n", "yaml", "^zz"),
    "cycle": ("name: x\njobs:\n  - {name: a, command: echo, depends_on: [b]}\n  - {name: b, command: echo, depends_on: [a]}\n",
              "yaml", "a -> b"),
    "empty_range": ("name: x\njobs:\n  - {name: 'a{i}', command: echo, parameters: {i: '1:0'}}\n", "yaml", "1:0"),
    "zero_step": ("name: x\njobs:\n  - {name: 'a{i}', command: echo, parameters: {i: '1:5:0'}}\n", "yaml", "step"),
    "zip_unequal": ("name: x\njobs:\n  - {name: 'a{i}{j}', command: echo, parameter_mode: zip, "
                    "parameters: {i: '1:3', j: '1:2'}}\n", "yaml", "zip"),
    "bad_memory": ("name: x\njobs:\n  - {name: a, command: echo, resource_requirements: r}\n"
                   "resource_requirements:\n  - {name: r, num_cpus: 1, memory: 1.5g}\n", "yaml", "memory"),
    "bad_runtime": ("name: x\njobs:\n  - {name: a, command: echo, resource_requirements: r}\n"
                    "resource_requirements:\n  - {name: r, num_cpus: 1, memory: 1g, runtime: 4 hours}\n", "yaml", "runtime"),
    "undefined_file": ("name: x\njobs:\n  - {name: a, command: 'cat ${files.input.nope}'}\n", "yaml", "nope"),
    "undefined_user_data": ("name: x\njobs:\n  - {name: a, command: 'x ${user_data.input.nope}'}\n", "yaml", "nope"),
    "undefined_requirements": ("name: x\njobs:\n  - {name: a, command: echo, resource_requirements: big}\n", "yaml", "big"),
    "malformed_json": ('{"name": "x", "jobs": [', "json", "line"),
    "malformed_json5": ("{name: 'x', jobs: [", "json5", "line"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_spec_is_a_problem_response_and_creates_nothing(client: Client, server, case: str) -> None:
    text, fmt, expected = BAD_SPECS[case]
    before = workflow_count(client)
    response = httpx.post(f"{server.url}/workflows/specs", params={"format": fmt}, content=text)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert expected in response.json()["detail"]
    assert workflow_count(client) == before


def test_unknown_key_error_lists_the_allowed_keys(client: Client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.create_workflow_from_spec("name: x\njobs:\n  - {name: a, comand: echo}\n", "yaml")
    assert "command" in caught.value.message and "depends_on" in caught.value.message


def test_oversized_body_is_refused(server) -> None:
    from torc_client.core.settings import MAX_REQUEST_BODY_BYTES

    response = httpx.post(f"{server.url}/workflows/specs", content=b" " * (MAX_REQUEST_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_missing_record_is_a_404_problem(server) -> None:
    response = httpx.get(f"{server.url}/jobs/987654321")
    assert response.status_code == 404
    assert response.json()["detail"] == "job 987654321 does not exist"


def test_unknown_route_is_a_404_problem(server) -> None:
    response = httpx.get(f"{server.url}/no_such_thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_bad_query_parameter_is_a_400_problem(server) -> None:
    response = httpx.get(f"{server.url}/jobs", params={"workflow_id": "abc"})
    assert response.status_code == 400
    assert "workflow_id" in response.text


def test_initialise_refuses_missing_input_file(client: Client, tmp_path: Path) -> None:
    spec = {"name": "x", "jobs": [{"name": "a", "command": "cat ${files.input.data}"}],
            "files": [{"name": "data", "path": "data.csv"}]}
    workflow = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
    with pytest.raises(ValidationError) as caught:
        client.initialize_workflow(workflow.id)
    assert "data.csv" in caught.value.message
    assert client.workflow_status(workflow.id).is_initialized is False
    (tmp_path / "data.csv").write_text("1,2\n")
    assert client.initialize_workflow(workflow.id).job_counts == {"ready": 1}
    assert client.get_file(client.list_files(workflow.id)[0].id).st_mtime is not None


def test_initialise_refuses_user_data_that_nobody_writes(client: Client) -> None:
    spec = {"name": "x", "jobs": [{"name": "a", "command": "echo ${user_data.input.cfg}"}],
            "user_data": [{"name": "cfg"}]}
    workflow = client.create_workflow_from_spec(spec)
    with pytest.raises(ValidationError) as caught:
        client.initialize_workflow(workflow.id)
    assert "cfg" in caught.value.message
    (record,) = client.list_user_data(workflow.id)
    client.update_user_data(record.id, data={"ready": True})
    assert client.initialize_workflow(workflow.id).job_counts == {"ready": 1}


def test_reinitialising_opens_a_new_run(client: Client) -> None:
    workflow = client.create_workflow_from_file(TUTORIAL)
    assert client.initialize_workflow(workflow.id).run_id == 1
    second = client.initialize_workflow(workflow.id)
    assert second.run_id == 2
    assert second.job_counts == {"ready": 1, "blocked": 2}


def test_list_pages_follow_id_order(client: Client) -> None:
    spec = {"name": "x", "jobs": [{"name": "j{i:03d}", "command": "true", "parameters": {"i": "1:25"}}]}
    workflow = client.create_workflow_from_spec(spec)
    page = client.jobs_page(workflow.id, offset=10, limit=5)
    assert [j.name for j in page.items] == ["j011", "j012", "j013", "j014", "j015"]
    assert (page.total_count, page.has_more) == (25, True)
    assert len(client.list_jobs(workflow.id)) == 25


def test_status_filtered_pages_match_the_jobs_with_that_status(client: Client) -> None:
    # Enough ready jobs that their first pages are found by walking ids, few enough pending ones to use the index.
    from api.storage.jobs import DENSE_MIN_MATCHES

    n = DENSE_MIN_MATCHES + 700
    spec = {"name": "many", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": f"1:{n}"}}]}
    workflow = client.create_workflow_from_spec(spec)
    client.initialize_workflow(workflow.id)
    node = client.register_compute_node(c.ComputeNodeCreate(workflow_id=workflow.id, hostname="h", pid=1,
                                                            num_cpus=1, memory_gb=1))  # fmt: skip
    # A claim's limit is the most it gets: a server that other tests' runners left overloaded hands out shares
    # (`api.shares`), so claim until 600 are held.
    claimed: list[c.ClaimedJob] = []
    for _ in range(600):
        if len(claimed) == 600:
            break
        claimed += client.claim(workflow.id, c.ClaimRequest(compute_node_id=node.id, limit=600 - len(claimed),
                                                            ignore_resources=True)).jobs  # fmt: skip
    by_status: dict[str, list[int]] = {}
    for job in client.list_jobs(workflow.id):
        by_status.setdefault(job.status, []).append(job.id)
    assert len(by_status["pending"]) == len(claimed) == 600
    for status, offset, limit in (("ready", 0, 100), ("ready", 250, 40), ("ready", n, 10), ("pending", 30, 50)):
        page = client.jobs_page(workflow.id, status=status, offset=offset, limit=limit)
        assert [j.id for j in page.items] == by_status[status][offset : offset + limit], (status, offset)
        assert page.total_count == len(by_status[status])
        assert {j.status for j in page.items} <= {status}


def test_the_api_docs_page_needs_no_internet(server) -> None:
    page = httpx.get(f"{server.url}/docs/", timeout=30)
    assert page.status_code == 200
    scripts = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
    assert scripts and all(s.startswith("/torc-service/v1/docs/assets/") for s in scripts), scripts
    root = server.url.split("/torc-service")[0]
    for asset in scripts:
        served = httpx.get(root + asset, timeout=30)
        assert served.status_code == 200 and len(served.content) > 1000, asset
