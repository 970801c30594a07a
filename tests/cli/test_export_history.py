"""`workflows export --include-results --include-events` and `workflows import`: a finished run moved to a second
server reads the same there (job statuses, results, reports, events)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml

from tests.conftest import Cli, start_server, stop_server
from torc_client.core.errors import ConflictError
from torc_client.operations import archive

SPEC = {"jobs": [
    {"name": "prepare", "command": "echo prepared"},
    {"name": "fragile", "command": "test -f fixed || { echo 'ValueError: not fixed' >&2; exit 3; }"},
    {"name": "combine", "command": "echo combined", "depends_on": ["fragile", "prepare"]},
    {"name": "broken", "command": "exit 5"}]}  # fmt: skip


@pytest.fixture(scope="module")
def second_server(mongo_uri, tmp_path_factory):
    srv = start_server(mongo_uri, f"torc_second_{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("second"))
    yield srv
    stop_server(srv)


@pytest.fixture()
def two_runs(client, cli, make_workflow, tmp_path):
    """A workflow after two runs: `fragile` failed in run 1 and was rerun alone; `broken` failed and stays so."""
    wf = make_workflow({"name": f"history_{uuid.uuid4().hex[:6]}", **SPEC}, initialize=True)
    cli("run", str(wf.id), check=False)
    (tmp_path / "fixed").write_text("")
    fragile = next(j.id for j in client.list_jobs(wf.id) if j.name == "fragile")
    cli("jobs", "reset-status", str(wf.id), str(fragile), "-r")
    cli("run", str(wf.id), check=False)
    return wf


def _summary(cli: Cli, wid: int) -> dict:
    found = json.loads(cli("-f", "json", "reports", "summary", str(wid)).stdout)
    for attempt in found["slowest_jobs"] + found["failed_jobs"]:
        for key in ("result_id", "job_id", "stdout", "stderr"):
            attempt.pop(key)
    for key in ("workflow_id", "log_pattern", "output_dir"):
        found.pop(key)
    return found


def _attempts(cli: Cli, wid: int) -> list[tuple]:
    found = json.loads(cli("-f", "json", "reports", "results", str(wid)).stdout)["results"]
    return sorted((a["job_name"], a["run_id"], a["attempt_id"], a["status"], a["return_code"], a["exec_seconds"])
                  for a in found)  # fmt: skip


def _statuses(cli: Cli, wid: int) -> dict[str, str]:
    return {j["name"]: j["status"] for j in json.loads(cli("-f", "json", "jobs", "list", str(wid)).stdout)}


def _messages(cli: Cli, wid: int) -> list[str]:
    return [e["message"] for e in json.loads(cli("-f", "json", "events", "list", str(wid)).stdout)]


def _imported_id(result) -> int:
    return json.loads(result.stdout)["id"]


def test_export_with_history_imported_on_a_second_server_gives_the_same_reports(cli, two_runs, second_server,
                                                                                 tmp_path: Path) -> None:  # fmt: skip
    wid = two_runs.id
    cli("workflows", "export", str(wid), "-o", "archive.yaml", "--include-results", "--include-events")
    there = Cli(second_server.url, tmp_path)
    made = there("-f", "json", "workflows", "import", "archive.yaml")
    assert "Restored run 2: 4 job statuses, 5 results" in made.stderr
    copy = _imported_id(made)
    assert json.loads(made.stdout)["run_id"] == 2
    assert _statuses(there, copy) == _statuses(cli, wid) == {
        "prepare": "completed", "fragile": "completed", "combine": "completed", "broken": "failed"}
    assert _attempts(there, copy) == _attempts(cli, wid)
    assert _summary(there, copy) == _summary(cli, wid)
    original = _messages(cli, wid)
    assert _messages(there, copy)[-len(original):] == original
    # The copy is a finished run like any other: its failure reruns alone.
    there("jobs", "reset-status", str(copy), "--return-code", "5", "-r")
    assert _statuses(there, copy)["broken"] == "ready" and _statuses(there, copy)["fragile"] == "completed"


def test_import_can_skip_results_and_events_and_a_plain_export_has_no_history(cli, two_runs, second_server,
                                                                              tmp_path: Path) -> None:  # fmt: skip
    cli("workflows", "export", str(two_runs.id), "-o", "archive.json", "--include-results", "--include-events")
    there = Cli(second_server.url, tmp_path)
    made = there("-f", "json", "workflows", "import", "archive.json", "--skip-results", "--skip-events")
    copy = _imported_id(made)
    assert _statuses(there, copy)["broken"] == "failed"
    assert json.loads(there("-f", "json", "results", "list", str(copy)).stdout) == []
    assert not any("started" in m for m in _messages(there, copy))
    plain = yaml.safe_load(cli("workflows", "export", str(two_runs.id)).stdout)
    assert "history" not in plain and plain["jobs"]
    fresh = _imported_id(there("-f", "json", "workflows", "import", "archive.json", "--skip-results"))
    assert len(json.loads(there("-f", "json", "events", "list", str(fresh)).stdout)) > len(_messages(there, copy))


def test_a_history_is_restored_only_on_a_workflow_that_never_ran(client, cli, two_runs) -> None:
    cli("workflows", "export", str(two_runs.id), "-o", "archive.yaml", "--include-results")
    again = cli("workflows", "import", "archive.yaml")
    assert "Restored run 2" in again.stderr
    _, history = archive.split(yaml.safe_load((cli.cwd / "archive.yaml").read_text()))
    with pytest.raises(ConflictError, match="has already run"):
        client.restore_history(two_runs.id, history)
    kdl = cli("workflows", "export", str(two_runs.id), "--spec-format", "kdl", "--include-events", check=False)
    assert kdl.returncode == 2 and "yaml, json or json5" in kdl.stderr
