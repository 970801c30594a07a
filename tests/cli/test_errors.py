"""Expected errors: one clear message on stderr, the right exit code, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.embedded import free_port

SPEC = {"name": "errors", "jobs": [{"name": "a", "command": "true"}], "user_data": [{"name": "doc", "data": {"a": 1}}]}

BROKEN_SPECS = {
    "bad_yaml": ("broken.yaml", "name: broken\njobs:\n  - name: a\n    command: [true\n", ["line ", "column "]),
    "unknown_key": ("unknown.yaml", "name: broken\nretries: 3\njobs:\n  - {name: a, command: 'true'}\n",
                    ["unknown key 'retries'", "allowed keys", "jobs", "user_data"]),
    "cycle": ("cycle.json", json.dumps({"name": "broken", "jobs": [
        {"name": "first", "command": "true", "depends_on": ["second"]},
        {"name": "second", "command": "true", "depends_on": ["first"]}]}), ["cycle", "first", "second"]),
}  # fmt: skip


def _no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def _workflow_ids(cli) -> set[int]:
    return {w["id"] for w in json.loads(cli("workflows", "list", "-f", "json").stdout)}


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_no_server_prints_one_line_naming_the_url(cli, fmt: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/torc-service/v1"
    result = cli("workflows", "list", "-f", fmt, check=False, env={"TORC_API_URL": url})
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert url in result.stderr and "torc-server" in result.stderr


def test_missing_workflow_prints_the_problem_detail(cli) -> None:
    result = cli("workflows", "get", "987654", check=False)
    assert result.returncode == 1
    assert "workflow 987654 does not exist" in result.stderr
    _no_traceback(result)


def test_missing_workflow_with_json_prints_the_problem_document(cli) -> None:
    result = cli("jobs", "list", "987654", "-f", "json", check=False)
    assert result.returncode == 1
    problem = json.loads(result.stderr)
    assert problem["status"] == 404 and "987654" in problem["detail"]


def test_user_data_update_rejects_invalid_json_before_sending(cli, make_workflow, client) -> None:
    workflow = make_workflow(SPEC)
    entry = client.list_user_data(workflow.id)[0]
    result = cli("user-data", "update", str(entry.id), "--data", "{bad", check=False)
    assert result.returncode != 0
    assert "--data" in result.stderr and "not valid JSON" in result.stderr and "column 2" in result.stderr
    _no_traceback(result)
    assert client.get_user_data(entry.id).data == {"a": 1}


def test_user_data_update_reads_data_from_a_file(cli, make_workflow, client, tmp_path: Path) -> None:
    workflow = make_workflow(SPEC)
    entry = client.list_user_data(workflow.id)[0]
    (tmp_path / "new.json").write_text('{"b": [1, 2]}')
    cli("user-data", "update", str(entry.id), "--data", "@new.json")
    assert client.get_user_data(entry.id).data == {"b": [1, 2]}


@pytest.mark.parametrize("case", BROKEN_SPECS)
def test_broken_spec_is_refused_and_creates_nothing(cli, tmp_path: Path, case: str) -> None:
    name, text, expected = BROKEN_SPECS[case]
    (tmp_path / name).write_text(text)
    before = _workflow_ids(cli)
    result = cli("create", name, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    for fragment in expected:
        assert fragment in result.stderr
    _no_traceback(result)
    assert _workflow_ids(cli) == before


def test_missing_spec_file_is_a_clear_error(cli) -> None:
    result = cli("create", "no_such_spec.yaml", check=False)
    assert result.returncode == 1
    assert "no_such_spec.yaml" in result.stderr and "No such file" in result.stderr
    _no_traceback(result)


def test_run_refuses_an_argument_that_is_neither_file_nor_id(cli) -> None:
    result = cli("run", "missing.yaml", check=False)
    assert result.returncode == 1
    assert "missing.yaml" in result.stderr
    _no_traceback(result)


@pytest.mark.parametrize("command", [["jobs", "list"], ["user-data", "list"], ["workflows", "init"], ["status"]])
def test_missing_workflow_id_is_a_usage_error(cli, command: list[str]) -> None:
    result = cli(*command, check=False)
    assert result.returncode == 2
    assert "Missing argument 'WORKFLOW_ID'" in result.stderr


def test_invalid_time_limit_is_a_usage_error(cli) -> None:
    result = cli("run", "1", "--time-limit", "two hours", check=False)
    assert result.returncode == 2
    assert "--time-limit" in result.stderr and "ISO-8601" in result.stderr
