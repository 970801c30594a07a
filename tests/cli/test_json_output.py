"""`-f json`: records as bare JSON (lists as arrays), wherever the option is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from torc_client import Client

BIN = Path(sys.executable).parent

SPEC = {
    "name": "json_output",
    "description": "one of everything",
    "jobs": [
        {"name": "produce", "command": "echo hello > out.txt && "
                                       "torc user-data update ${user_data.output.answer} --data '{\"x\": 1}'",
         "output_files": ["out"], "resource_requirements": "small"},
        {"name": "consume", "command": "cat ${files.input.out}", "input_user_data": ["answer"],
         "resource_requirements": "small"},
    ],
    "files": [{"name": "out", "path": "out.txt"}],
    "user_data": [{"name": "answer"}],
    "resource_requirements": [{"name": "small", "num_cpus": 1, "memory": "100m", "runtime": "PT5M"}],
}  # fmt: skip

LISTINGS = {
    "workflows": (["workflows", "list"], {"id", "name", "description", "user", "timestamp", "is_initialized"}),
    "jobs": (["jobs", "list", "{wid}"], {"id", "workflow_id", "name", "status", "command", "attempt_id"}),
    "results": (["results", "list", "{wid}"],
                {"id", "workflow_id", "job_id", "run_id", "attempt_id", "return_code", "status",
                 "exec_time_minutes", "completion_time"}),
    "user-data": (["user-data", "list", "{wid}"], {"id", "workflow_id", "name", "data", "is_ephemeral"}),
    "files": (["files", "list", "{wid}"], {"id", "workflow_id", "name", "path", "st_mtime"}),
    "resource-requirements": (["resource-requirements", "list", "{wid}"],
                              {"id", "workflow_id", "name", "num_cpus", "num_gpus", "memory", "runtime"}),
    "events": (["events", "list", "{wid}"], {"id", "workflow_id", "timestamp", "category", "message", "data"}),
    "compute-nodes": (["compute-nodes", "list", "{wid}"],
                      {"id", "workflow_id", "hostname", "pid", "is_active", "num_cpus", "memory_gb"}),
}  # fmt: skip


@pytest.fixture(scope="module")
def finished(server, tmp_path_factory: pytest.TempPathFactory) -> int:
    """A workflow that ran to completion, with a file, user_data, results, events and a compute node."""
    work = tmp_path_factory.mktemp("json-output")
    with Client(server.url) as client:
        workflow = client.create_workflow_from_spec(SPEC, working_dir=str(work))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "TORC_API_URL": server.url}
    subprocess.run([str(BIN / "torc"), "run", str(workflow.id)], cwd=work, env=env, check=True, capture_output=True,
                   timeout=120)  # fmt: skip
    return workflow.id


def _args(args: list[str], workflow_id: int) -> list[str]:
    return [arg.format(wid=workflow_id) for arg in args]


@pytest.mark.parametrize("listing", LISTINGS)
@pytest.mark.parametrize("where", ["before", "between", "after"])
def test_list_json_is_an_array_of_records(cli, finished: int, listing: str, where: str) -> None:
    args, fields = LISTINGS[listing]
    args = _args(args, finished)
    at = {"before": 0, "between": 1, "after": len(args)}[where]
    argv = [*args[:at], "-f", "json", *args[at:]]
    items = json.loads(cli(*argv).stdout)
    assert isinstance(items, list) and items
    for item in items:
        assert fields <= item.keys()


def test_list_json_holds_the_workflows_records(cli, finished: int) -> None:
    wid = str(finished)
    jobs = json.loads(cli("jobs", "list", wid, "-f", "json").stdout)
    assert {(j["name"], j["status"]) for j in jobs} == {("produce", "completed"), ("consume", "completed")}
    assert json.loads(cli("user-data", "list", wid, "-f", "json").stdout)[0]["data"] == {"x": 1}
    assert [r["return_code"] for r in json.loads(cli("results", "list", wid, "-f", "json").stdout)] == [0, 0]
    assert json.loads(cli("files", "list", wid, "-f", "json").stdout)[0]["st_mtime"] is not None


def test_url_option_accepted_after_the_subcommand(cli, server, finished: int) -> None:
    result = cli("jobs", "list", str(finished), "--url", server.url, "-f", "json",
                 env={"TORC_API_URL": "http://127.0.0.1:9/nothing"})  # fmt: skip
    assert len(json.loads(result.stdout)) == 2


def test_limit_and_offset_page_through_a_listing(cli, finished: int) -> None:
    wid = str(finished)
    everything = json.loads(cli("events", "list", wid, "-f", "json", "--limit", "100000").stdout)
    first = json.loads(cli("jobs", "list", wid, "-f", "json", "--limit", "1").stdout)
    second = json.loads(cli("jobs", "list", wid, "-f", "json", "--limit", "1", "--offset", "1").stdout)
    assert len(everything) > 2
    assert len(first) == len(second) == 1 and first[0]["id"] != second[0]["id"]


def test_single_records_are_bare_objects(cli, finished: int) -> None:
    wid = str(finished)
    workflow = json.loads(cli("workflows", "get", wid, "-f", "json").stdout)
    status = json.loads(cli("status", wid, "-f", "json").stdout)
    job_id = json.loads(cli("jobs", "list", wid, "-f", "json").stdout)[0]["id"]
    job = json.loads(cli("jobs", "get", str(job_id), "-f", "json").stdout)
    assert workflow["id"] == finished and workflow["name"] == "json_output"
    assert status["is_complete"] is True and status["job_counts"] == {"completed": 2}
    assert job["id"] == job_id


def test_user_data_get_prints_json_even_in_table_mode(cli, finished: int) -> None:
    entry = json.loads(cli("user-data", "list", str(finished), "-f", "json").stdout)[0]
    assert json.loads(cli("user-data", "get", str(entry["id"])).stdout) == entry


def test_create_json_prints_the_workflow_record(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    created = cli("create", "spec.json", "-f", "json")
    workflow = json.loads(created.stdout)
    assert workflow["name"] == "json_output" and workflow["working_dir"] == str(tmp_path)
    assert f"Created workflow {workflow['id']}" in created.stderr


def test_run_json_prints_the_final_status_and_the_runner_counts(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    summary = json.loads(cli("run", "spec.json", "-f", "json").stdout)
    assert summary["is_complete"] is True and summary["job_counts"] == {"completed": 2}
    assert summary["runner"]["counts"] == {"completed": 2} and summary["runner"]["exit_code"] == 0


def test_events_watch_prints_json_lines_and_stops_when_the_workflow_completes(cli, finished: int) -> None:
    lines = cli("events", "watch", str(finished), "-f", "json", timeout=60).stdout.splitlines()
    events = [json.loads(line) for line in lines]
    assert events[0]["message"].startswith(f"workflow {finished} created")
    assert events[-1]["category"] == "workflow" and events[-1]["data"]["status"] == "complete"
    assert events[-1]["message"] == "workflow complete: 2 completed"  # words, not a Python dict


def test_events_carry_an_iso_time_beside_the_epoch_milliseconds(cli, finished: int) -> None:
    for event in json.loads(cli("events", "list", str(finished), "-f", "json").stdout):
        seconds = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
        assert event["time"].endswith("Z") and abs(seconds * 1000 - event["timestamp"]) < 1
