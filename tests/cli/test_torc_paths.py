"""Every Torc 0.12 command path answers here: the map, the pointers, and the commands added for Torc's paths."""

from __future__ import annotations

import json
import uuid

from torc_client import contract as c
from torc_client.cli.main import cli as torc
from torc_client.cli.torc_map import command_map, torc_paths

#: Built as their own features (a terminal console, resource plots), not as part of the command map.
BUILT_ELSEWHERE = {"torc tui", "torc plot-resources"}


def test_every_torc_path_answers_here_but_those_built_elsewhere() -> None:
    found = command_map(torc)
    assert len(found) == len(torc_paths()) == 139
    assert {c.torc_path for c in found if c.kind == "missing"} <= BUILT_ELSEWHERE
    kinds = {c.torc_path: (c.kind, c.here) for c in found}
    assert kinds["torc workflows run"] == ("alias", "torc run")
    assert kinds["torc events monitor"] == ("alias", "torc events watch")
    assert kinds["torc logs analyze"] == ("same", "torc logs analyze")
    assert kinds["torc remote run"] == ("same", "torc remote run")
    assert kinds["torc remote collect-logs"] == ("same", "torc remote collect-logs")


def test_pointers_exit_2_naming_what_to_use_instead(cli) -> None:
    events = cli("events", "delete", "7", check=False)
    assert events.returncode == 2 and "torc workflows delete ID" in events.stderr


SPEC = {
    "files": [{"name": "raw", "path": "raw.txt"}, {"name": "out", "path": "out.txt"}],
    "user_data": [{"name": "settings"}, {"name": "summary"}],
    "failure_handlers": [{"name": "retry", "rules": [{"exit_codes": [3], "max_retries": 1}]}],
    "jobs": [
        {"name": "make", "command": "cat raw.txt > out.txt", "input_files": ["raw"], "output_files": ["out"],
         "input_user_data": ["settings"], "output_user_data": ["summary"]},
        {"name": "after", "command": "true", "depends_on": ["make"], "failure_handler": "retry"}]}  # fmt: skip


def _json(cli, *args: str):
    return json.loads(cli("-f", "json", *args).stdout)


def test_torc_listing_commands_read_the_workflow(client, cli, make_workflow, tmp_path) -> None:
    wf = make_workflow({"name": f"paths_{uuid.uuid4().hex[:6]}", **SPEC})
    wid = str(wf.id)
    assert [f["name"] for f in _json(cli, "files", "list-required-existing", wid)] == ["raw"]
    assert [u["name"] for u in _json(cli, "user-data", "list-missing", wid)] == ["settings"]
    assert [(e["job_name"], e["depends_on_job_name"]) for e in _json(cli, "job-dependencies", "job-job", wid)] == [
        ("after", "make")]
    assert sorted((e["direction"], e["file_name"]) for e in _json(cli, "job-dependencies", "job-file", wid)) == [
        ("input", "raw"), ("output", "out")]
    assert len(_json(cli, "job-dependencies", "job-user-data", wid)) == 2
    handlers = _json(cli, "failure-handlers", "list", wid)
    assert [h["name"] for h in handlers] == ["retry"] == [h["name"] for h in _json(cli, "jobs", "list-failure-handlers",
                                                                                   wid)]  # fmt: skip
    assert _json(cli, "failure-handlers", "get", str(handlers[0]["id"]))["rules"][0]["exit_codes"] == [3]
    rows = _json(cli, "jobs", "list-resource-requirements", wid)
    assert [(r["job_name"], r["requirements_name"]) for r in rows] == [("make", "default"), ("after", "default")]
    assert _json(cli, "workflows", "is-complete", wid)["is_complete"] is False

    (tmp_path / "raw.txt").write_text("x\n")
    cli("user-data", "update", str(client.list_user_data(wf.id, name="settings")[0].id), "-d", "{}")
    cli("workflows", "run", wid)  # Torc's path for `torc run`
    assert cli("workflows", "is-complete", wid).stdout.strip() == "true"
    made = _json(cli, "events", "create", wid, "--data", '{"message": "checked", "by": "me"}')
    assert _json(cli, "events", "get-latest-event", wid)["id"] == made["id"]
    result = client.list_results(wf.id)[0]
    assert _json(cli, "compute-nodes", "get", str(result.compute_node_id))["workflow_id"] == wf.id
    cli("results", "delete", str(result.id))
    assert result.id not in {r.id for r in client.list_results(wf.id, all_runs=True)}


def test_torc_job_and_allocation_commands(client, cli, tmp_path) -> None:
    wid = _json(cli, "workflows", "new", "--name", f"empty_{uuid.uuid4().hex[:6]}")["id"]
    (tmp_path / "commands.txt").write_text("# one per line\necho one\necho two\n\necho three\n")
    made = _json(cli, "jobs", "create-from-file", str(wid), "commands.txt", "--memory-per-job", "2m")
    assert [j["name"] for j in made] == ["job1", "job2", "job3"]
    assert {r["memory"] for r in _json(cli, "jobs", "list-resource-requirements", str(wid))} == {"2m"}
    cli("jobs", "delete-all", str(wid))
    assert client.list_jobs(wid) == []
    cli("jobs", "create-from-file", str(wid), "commands.txt")
    scheduler = client.create_slurm_scheduler(wid, "cpu", "acct")
    allocation = client.create_scheduled_compute_node(c.ScheduledComputeNodeCreate(
        workflow_id=wid, scheduler_id=9001, scheduler_config_id=scheduler.id))  # fmt: skip
    cli("run", str(wid), env={"SLURM_JOB_ID": "9001"})
    assert _json(cli, "scheduled-compute-nodes", "get", str(allocation.id))["scheduler_id"] == 9001
    assert sorted(j["job_name"] for j in _json(cli, "scheduled-compute-nodes", "list-jobs", str(allocation.id))) == [
        "job1", "job2", "job3"]


def test_hpc_and_config_commands_need_no_server(cli, tmp_path) -> None:
    gpu = _json(cli, "hpc", "partitions", "kestrel", "--gpu")
    assert gpu and all(p["gpus_per_node"] > 0 for p in gpu)
    fits = [p["name"] for p in _json(cli, "hpc", "match", "--profile", "kestrel", "--memory", "500g", "--walltime",
                                     "P3D")]  # fmt: skip
    assert fits == ["medmem", "bigmeml"]
    (tmp_path / "torc.toml").write_text('[client]\napi_url = "http://example:1/torc-service/v1"\n')
    shown = cli("-f", "json", "config", "show", env={"TORC_CONFIG": str(tmp_path / "torc.toml"), "TORC_API_URL": ""})
    assert {r["setting"]: r["value"] for r in json.loads(shown.stdout)}["api_url"] == "http://example:1/torc-service/v1"
    paths = cli("config", "paths", env={"TORC_CONFIG": str(tmp_path / "torc.toml")})
    assert paths.stdout.strip() == f"{tmp_path / 'torc.toml'} (exists)"
    assert cli("config", "validate", env={"TORC_CONFIG": str(tmp_path / "torc.toml")}).stdout.endswith("valid\n")
    (tmp_path / "bad.toml").write_text('[client]\napi_ulr = "x"\n')
    bad = cli("config", "validate", env={"TORC_CONFIG": str(tmp_path / "bad.toml")}, check=False)
    assert bad.returncode == 1 and "unknown settings client.api_ulr" in bad.stderr
