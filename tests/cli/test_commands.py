"""The command tree: workflow lifecycle, user_data editing, run outcomes, watching, utilities."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from torc_client.core import errors

TWO_STEP = {
    "name": "two_step",
    "jobs": [
        {"name": "first", "command": "echo one"},
        {"name": "second", "command": "echo two", "depends_on": ["first"]},
    ],
}
FAILING = {
    "name": "failing",
    "jobs": [
        {"name": "breaks", "command": "echo oops >&2; exit 3"},
        {"name": "after", "command": "echo never", "depends_on": ["breaks"]},
    ],
}


def _write(path: Path, spec: dict) -> str:
    path.write_text(json.dumps(spec))
    return path.name


# --- workflows ----------------------------------------------------------------------------


def test_init_alias_initialize_and_force(cli, make_workflow) -> None:
    workflow = make_workflow(TWO_STEP)
    first = cli("workflows", "initialize", str(workflow.id))
    again = json.loads(cli("workflows", "init", str(workflow.id), "--force", "-f", "json").stdout)
    assert f"Initialized workflow {workflow.id} (run 1): 1 ready, 1 blocked" in first.stdout
    assert again["run_id"] == 2 and again["job_counts"] == {"ready": 1, "blocked": 1}


def test_status_shortcut_shows_counts_table(cli, make_workflow) -> None:
    workflow = make_workflow(TWO_STEP, initialize=True)
    out = cli("status", str(workflow.id)).stdout
    assert f"Workflow {workflow.id}: initialized, run 1, 2 jobs" in out
    assert re.search(r"│ ready\s+│\s+1 │", out) and re.search(r"│ blocked\s+│\s+1 │", out)


def test_cancel_shortcut_cancels_the_workflow(cli, make_workflow, client) -> None:
    workflow = make_workflow(TWO_STEP, initialize=True)
    status = json.loads(cli("cancel", str(workflow.id), "-f", "json").stdout)
    assert status["is_canceled"] is True
    assert client.workflow_status(workflow.id).is_canceled


def test_delete_asks_for_confirmation(cli, make_workflow, client) -> None:
    workflow = make_workflow(TWO_STEP)
    refused = cli("delete", str(workflow.id), input="n\n", check=False)
    assert refused.returncode == 1
    assert client.get_workflow(workflow.id).id == workflow.id
    cli("workflows", "delete", str(workflow.id), input="y\n")
    with pytest.raises(errors.NotFoundError):
        client.get_workflow(workflow.id)


def test_delete_of_a_workflow_that_does_not_exist_says_so_before_asking(cli) -> None:
    result = cli("workflows", "delete", "999999999", check=False, input="")
    assert result.returncode == 1 and "workflow 999999999 does not exist" in result.stderr
    assert "Delete workflow" not in result.stderr


def test_run_of_a_finished_workflow_with_failed_jobs_exits_non_zero(cli, tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("name: f\njobs:\n  - {name: bad, command: 'exit 3'}\n")
    workflow_id = json.loads(cli("-f", "json", "create", "spec.yaml").stdout)["id"]
    assert cli("run", str(workflow_id), "-p", "0.2", check=False).returncode == 1  # the job fails here
    assert cli("run", str(workflow_id), "-p", "0.2", check=False).returncode == 1  # and is still failed


def test_server_says_its_version(cli) -> None:
    from tests.conftest import BIN

    out = subprocess.run([str(BIN / "torc-server"), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("torc-server, version ")


def test_delete_with_no_prompts_deletes_several(cli, make_workflow, client) -> None:
    ids = [str(make_workflow(TWO_STEP).id) for _ in range(2)]
    result = cli("delete", *ids, "--no-prompts")
    assert all(f"Deleted workflow {i}" in result.stderr for i in ids)
    assert not {w.id for w in client.list_workflows()} & {int(i) for i in ids}


def test_workflows_list_table_has_the_documented_columns(cli, make_workflow) -> None:
    workflow = make_workflow(TWO_STEP)
    out = cli("workflows", "list").stdout
    assert re.search(r"│ ID\s+│ Name\s+│ Description\s+│ User\s+│ Status\s+│ Timestamp\s+│", out)
    assert re.search(rf"│ {workflow.id}\s+│ two_step\s+│.*│ new\s+│", out)


def test_workflows_archive_hides_a_workflow_from_the_list_until_unarchived(cli, make_workflow) -> None:
    workflow = make_workflow(TWO_STEP, initialize=True)
    listed = json.loads(cli("workflows", "list", "-f", "json").stdout)
    assert [w["status"] for w in listed if w["id"] == workflow.id] == ["running"]
    cli("workflows", "archive", str(workflow.id))
    assert workflow.id not in [w["id"] for w in json.loads(cli("workflows", "list", "-f", "json").stdout)]
    archived = json.loads(cli("workflows", "list", "--archived", "-f", "json").stdout)
    assert workflow.id in [w["id"] for w in archived]
    cli("workflows", "unarchive", str(workflow.id))
    assert workflow.id in [w["id"] for w in json.loads(cli("workflows", "list", "-f", "json").stdout)]


# --- jobs and user_data ------------------------------------------------------------------


def test_jobs_list_filters_by_status(cli, make_workflow) -> None:
    workflow = make_workflow(TWO_STEP, initialize=True)
    ready = json.loads(cli("jobs", "list", str(workflow.id), "--status", "ready", "-f", "json").stdout)
    assert [job["name"] for job in ready] == ["first"]


def test_user_data_create_update_get_delete(cli, make_workflow, client) -> None:
    workflow = make_workflow(TWO_STEP)
    created = json.loads(cli("user-data", "create", str(workflow.id), "--name", "params", "--data", "[1, 2]",
                             "-f", "json").stdout)  # fmt: skip
    cli("user-data", "update", str(created["id"]), "--data", '{"k": "v"}', "--name", "renamed")
    fetched = json.loads(cli("user-data", "get", str(created["id"])).stdout)
    assert (fetched["name"], fetched["data"]) == ("renamed", {"k": "v"})
    cli("user-data", "delete", str(created["id"]))
    assert client.list_user_data(workflow.id) == []


def test_user_data_update_to_null(cli, make_workflow, client) -> None:
    workflow = make_workflow({**TWO_STEP, "user_data": [{"name": "doc", "data": {"a": 1}}]})
    entry = client.list_user_data(workflow.id)[0]
    cli("user-data", "update", str(entry.id), "--data", "null")
    assert client.get_user_data(entry.id).data is None


def test_user_data_update_without_changes_is_a_usage_error(cli) -> None:
    result = cli("user-data", "update", "1", check=False)
    assert result.returncode == 2 and "nothing to update" in result.stderr


# --- run ---------------------------------------------------------------------------------


def test_run_spec_file_creates_initialises_and_runs(cli, tmp_path: Path) -> None:
    result = cli("run", _write(tmp_path / "two.json", TWO_STEP), "-p", "0.2")
    workflow_id = int(re.search(r"Created workflow (\d+)", result.stderr).group(1))
    assert f"workflow {workflow_id}: 2 completed, 0 failed, 0 canceled in " in result.stderr.splitlines()[-1]
    assert (tmp_path / "output" / "job_stdio").is_dir()


def test_run_exits_non_zero_when_a_job_fails(cli, tmp_path: Path) -> None:
    result = cli("run", _write(tmp_path / "failing.json", FAILING), "--output-dir", "logs", check=False)
    assert result.returncode == 1
    assert "failed breaks" in result.stderr
    assert re.search(r"workflow \d+: 0 completed, 1 failed, 1 canceled in ", result.stderr)
    assert list((tmp_path / "logs" / "job_stdio").glob("*.e"))[0].read_text() == "oops\n"


def test_run_accepts_an_iso_time_limit(cli, make_workflow) -> None:
    workflow = make_workflow(TWO_STEP)
    summary = json.loads(cli("run", str(workflow.id), "--time-limit", "PT2H", "--max-parallel-jobs", "2",
                             "-f", "json").stdout)  # fmt: skip
    assert summary["is_complete"] and summary["runner"]["exit_code"] == 0


def _largest_claim(client, workflow_id: int) -> int:
    sizes = [int(m.group(1)) for e in client.list_events(workflow_id, limit=1000).items
             if (m := re.match(r"(\d+) jobs claimed", e.message))]  # fmt: skip
    return max(sizes)


def test_run_claims_ahead_for_short_jobs_unless_told_not_to(cli, make_workflow, client) -> None:
    spec = {"name": "short", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": "1:300"}}]}
    ahead, fitting = make_workflow(spec), make_workflow(spec)
    cli("run", str(ahead.id), "--max-parallel-jobs", "2")
    cli("run", str(fitting.id), "--max-parallel-jobs", "2", "--backlog-seconds", "0")
    assert _largest_claim(client, ahead.id) > 2
    assert _largest_claim(client, fitting.id) <= 2


# --- watching and utilities --------------------------------------------------------------


def test_watch_returns_once_the_workflow_is_complete(cli, make_workflow, client) -> None:
    workflow = make_workflow(TWO_STEP)
    cli("run", str(workflow.id))
    result = cli("watch", str(workflow.id), "-p", "0.1")
    assert "completed 2" in result.stderr


def test_events_watch_prints_lines_until_complete(cli, make_workflow) -> None:
    workflow = make_workflow(TWO_STEP)
    cli("run", str(workflow.id))
    lines = cli("events", "watch", str(workflow.id), timeout=60).stdout.splitlines()
    assert "[workflow]" in lines[-1] and "complete" in lines[-1]


def test_ping_reports_the_server(cli, server) -> None:
    assert server.url in cli("ping").stdout
    assert json.loads(cli("ping", "-f", "json").stdout)["status"] == "ok"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(cli, shell: str) -> None:
    assert "_TORC_COMPLETE" in cli("completion", shell).stdout


def test_help_documents_completion_setup(cli) -> None:
    assert 'eval "$(_TORC_COMPLETE=bash_source torc)"' in cli("completion", "--help").stdout


def test_reinitialize_dry_run_and_reset_from_the_cli(cli) -> None:
    """A failed job: reset-status --failed-only --reinitialize reruns it; dry runs explain why."""
    (cli.cwd / "spec.yaml").write_text(
        "name: fixable\njobs:\n  - {name: good, command: 'true'}\n  - {name: bad, command: 'test -f fixed'}\n"
        "  - {name: after, command: 'true', depends_on: [bad]}\n"
    )
    assert cli("run", "spec.yaml", "-p", "0.2", check=False).returncode == 1
    wid = json.loads(cli("workflows", "list", "-f", "json").stdout)[-1]["id"]
    plan = json.loads(cli("workflows", "reinitialize", str(wid), "--dry-run", "-f", "json").stdout)
    assert {j["job_name"]: j["reasons"][0] for j in plan["jobs"]} == {
        "bad": "it did not complete in run 1 (status failed)", "after": "it did not complete in run 1 (status canceled)"}
    table = cli("workflows", "reinitialize", str(wid), "--dry-run").stdout
    assert "would rerun" in table and "status failed" in table
    (cli.cwd / "fixed").write_text("")
    cli("workflows", "reset-status", str(wid), "--failed-only", "--reinitialize")
    cli("run", str(wid), "-p", "0.2")
    statuses = {j["name"]: j["status"] for j in json.loads(cli("jobs", "list", str(wid), "-f", "json").stdout)}
    assert statuses == {"good": "completed", "bad": "completed", "after": "completed"}
