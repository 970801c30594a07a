"""`torc workflows export` and `import`: a workflow exported in any spec format and imported again is the same
workflow (jobs, files, user_data, resources, failure handlers, Slurm schedulers, actions and the graph)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from torc_client import Client
from torc_client.operations import spec_export
from torc_client.operations.spec_export import export_spec
from torc_client.spec import build_plan, dump_spec_text, load_spec_text

ROOT = Path(__file__).parents[2]
EXAMPLES = ["diamond_workflow.yaml", "failure_propagation.yaml", "parameter_sweep.json5", "user_data_patterns.yaml",
            "user_data_workflow.yaml", "zip_parameters.json"]  # fmt: skip
#: NREL Torc's own example specs (Slurm schedulers, actions, failure handlers, resource monitoring, ...).
UPSTREAM = ROOT / "tests" / "data" / "upstream"
FORMATS = ("yaml", "json", "json5", "kdl")

#: Every key export can write, most of them away from their defaults.
EVERYTHING: dict[str, Any] = {
    "name": "everything",
    "description": "all the keys",
    "project": "proj",
    "metadata": {"owner": "me", "tags": ["a", "b"]},
    "jobs_sort_method": "none",
    "compute_node_expiration_buffer_seconds": 30,
    "compute_node_wait_for_new_jobs_seconds": 5,
    "compute_node_ignore_workflow_completion": True,
    "compute_node_wait_for_healthy_database_minutes": 2.5,
    "use_pending_failed": True,
    "resource_monitor": {"granularity": "time_series", "sample_interval_seconds": 1},
    "resource_requirements": [
        {"name": "default", "num_cpus": 2},
        {"name": "big", "num_cpus": 8, "num_gpus": 1, "num_nodes": 2, "memory": "16g", "runtime": "PT4H"},
    ],
    "failure_handlers": [
        {"name": "retry", "rules": [{"exit_codes": [3, 4], "recovery_script": "echo fix", "max_retries": 5},
                                    {"match_all_exit_codes": True}]},  # fmt: skip
    ],
    "files": [{"name": "raw", "path": "data/raw.csv"}, {"name": "clean", "path": "data/clean.csv"}],
    "user_data": [
        {"name": "config", "data": {"lr": 0.1, "nested": {"list": [1, "two", None]}}},
        {"name": "empty_map", "data": {}},
        {"name": "empty_list", "data": []},
        {"name": "zero", "data": 0},
        {"name": "text", "data": "hello"},
        {"name": "scratch", "is_ephemeral": True},
        {"name": "result"},
    ],
    "slurm_schedulers": [{"name": "short", "account": "acct", "partition": "debug", "walltime": "00:30:00",
                          "gres": "gpu:1", "nodes": 2}],  # fmt: skip
    "slurm_defaults": {"qos": "high", "exclusive": True},
    "actions": [
        {"trigger_type": "on_workflow_start", "action_type": "run_commands", "commands": ["echo start", "date"]},
        {"trigger_type": "on_jobs_ready", "action_type": "schedule_nodes", "jobs": ["train"], "scheduler": "short",
         "scheduler_type": "slurm", "num_allocations": 2, "max_parallel_jobs": 4, "persistent": True},
    ],
    "jobs": [
        {"name": "fetch", "command": "curl -o ${files.output.raw} http://example.com", "supports_termination": True},
        {"name": "clean", "command": "python clean.py ${files.input.raw} ${files.output.clean}",
         "invocation_script": "bash wrap.sh", "failure_handler": "retry", "depends_on": ["fetch"]},
        {"name": "train", "command": "torc user-data get ${user_data.input.config} && echo ok",
         "resource_requirements": "big", "input_files": ["clean"], "output_user_data": ["result"], "scheduler": "short",
         "input_user_data": ["empty_map", "empty_list", "zero", "text"]},
        {"name": "report", "command": "echo done", "depends_on": ["train", "fetch"],
         "cancel_on_blocking_job_failure": False, "input_user_data": ["result", "scratch"]},
        {"name": "lonely", "command": "echo {not a template} 'x = {1: 2}'", "resource_requirements": "default"},
    ],
}  # fmt: skip


def spec_sources() -> list[tuple[str, Path | dict]]:
    sources: list[tuple[str, Path | dict]] = [(name, ROOT / "examples" / name) for name in EXAMPLES]
    # Not the 2,000 jobs of the barrier example: JSON5 (pure Python) takes 8 s to read them, twice per test.
    upstream = sorted(p for p in UPSTREAM.glob("examples/**/*.yaml") if p.name != "multi_stage_barrier_pattern.yaml")
    assert upstream, f"no upstream example specs in {UPSTREAM}"
    sources += [(str(path.relative_to(UPSTREAM)), path) for path in upstream]
    return [*sources, ("everything", EVERYTHING)]


SOURCES = spec_sources()


def create(client: Client, source: Path | dict, working_dir: Path) -> int:
    if isinstance(source, dict):
        return client.create_workflow_from_spec(source, working_dir=str(working_dir)).id
    return client.create_workflow_from_file(source, working_dir=str(working_dir)).id


def snapshot(client: Client, workflow_id: int) -> dict[str, Any]:
    """Everything a copy must have the same, by name (ids differ between copies)."""
    workflow = client.get_workflow(workflow_id).to_dict()
    jobs = client.list_jobs(workflow_id)
    files = {f.id: f for f in client.list_files(workflow_id)}
    user_data = {u.id: u for u in client.list_user_data(workflow_id)}
    resources = {r.id: r for r in client.list_resource_requirements(workflow_id)}
    handlers = client.request("GET", "/failure_handlers", params={"workflow_id": workflow_id})["items"]
    handler_names = {fh["id"]: fh["name"] for fh in handlers}
    schedulers = client.list_slurm_schedulers(workflow_id)
    job_names = {job.id: job.name for job in jobs}

    def rr(rid: int) -> tuple:
        r = resources[rid]
        return r.name, r.num_cpus, r.num_gpus, r.num_nodes, r.memory_bytes, r.runtime_s

    return {
        "workflow": {k: v for k, v in workflow.items() if k not in ("id", "timestamp", "user")},
        "jobs": [
            {"name": job.name, "command": job.spec_command or job.command, "scheduler": job.scheduler,
             "invocation_script": job.spec_invocation_script or job.invocation_script,
             "resources": rr(job.resource_requirements_id),
             "failure_handler": handler_names.get(job.failure_handler_id),
             "cancel_on_blocking_job_failure": job.cancel_on_blocking_job_failure,
             "supports_termination": job.supports_termination, "status": job.status,
             "upstream": sorted(job_names[i] for i in job.depends_on_job_ids),
             "input_files": sorted(files[i].name for i in job.input_file_ids),
             "output_files": sorted(files[i].name for i in job.output_file_ids),
             "input_user_data": sorted(user_data[i].name for i in job.input_user_data_ids),
             "output_user_data": sorted(user_data[i].name for i in job.output_user_data_ids)}
            for job in jobs
        ],
        "files": [(f.name, f.path) for f in files.values()],
        "user_data": [(u.name, u.data, u.is_ephemeral) for u in user_data.values()],
        "resources": sorted(rr(rid) for rid in resources),
        "failure_handlers": [(fh["name"], fh["rules"]) for fh in handlers],
        "schedulers": [{k: v for k, v in s.to_dict().items() if k not in ("id", "workflow_id")} for s in schedulers],
        "actions": [
            (a.trigger_type, a.action_type, [job_names[i] for i in a.job_ids], a.persistent, a.required_triggers,
             {k: v for k, v in a.action_config.items() if k != "scheduler_id"})
            for a in client.list_actions(workflow_id)
        ],
    }  # fmt: skip


@pytest.mark.parametrize(("name", "source"), SOURCES, ids=[name for name, _ in SOURCES])
def test_export_and_import_in_every_format_gives_the_same_workflow(client: Client, tmp_path: Path, name: str,
                                                                   source: Path | dict) -> None:  # fmt: skip
    original = create(client, source, tmp_path)
    expected = snapshot(client, original)
    doc = export_spec(client, original)
    build_plan(doc)  # a valid spec
    for fmt in FORMATS:
        text = dump_spec_text(doc, fmt)
        assert load_spec_text(text, fmt) == doc, fmt
        copy = client.create_workflow_from_spec(text, fmt, working_dir=str(tmp_path / "elsewhere"))
        assert copy.id != original
        assert snapshot(client, copy.id) == expected, fmt
        assert export_spec(client, copy.id) == doc, fmt  # and a copy exports as the original does


def test_export_leaves_out_defaults_and_implied_dependencies(client: Client, tmp_path: Path) -> None:
    diamond = export_spec(client, create(client, ROOT / "examples" / "diamond_workflow.yaml", tmp_path))
    assert set(diamond) == {"name", "description", "working_dir", "files", "jobs"}
    assert diamond["working_dir"] == str(tmp_path)
    assert [sorted(job) for job in diamond["jobs"]] == [
        ["command", "input_files", "name", "output_files"], ["command", "input_files", "name", "output_files"],
        ["command", "input_files", "name", "output_files"], ["command", "input_files", "name", "output_files"]]

    failures = export_spec(client, create(client, ROOT / "examples" / "failure_propagation.yaml", tmp_path))
    assert [job.get("depends_on") for job in failures["jobs"]] == [None, ["flaky_step"], ["needs_flaky"],
                                                                   ["flaky_step"]]  # fmt: skip
    assert [job.get("cancel_on_blocking_job_failure") for job in failures["jobs"]] == [None, None, None, False]

    everything = export_spec(client, create(client, EVERYTHING, tmp_path))
    jobs = {job["name"]: job for job in everything["jobs"]}
    assert "depends_on" not in jobs["clean"]  # explicit, but also implied by the file `raw`: not needed
    assert jobs["report"]["depends_on"] == ["fetch"]  # `train` is implied by the user_data `result`
    assert jobs["train"]["command"] == "torc user-data get ${user_data.input.config} && echo ok"
    assert "resource_requirements" not in jobs["lonely"]
    assert everything["resource_requirements"][0] == {"name": "default", "num_cpus": 2}
    assert everything["failure_handlers"][0]["rules"][1] == {"match_all_exit_codes": True}


def test_export_pages_through_every_listing(client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workflow_id = create(client, ROOT / "examples" / "user_data_patterns.yaml", tmp_path)
    whole = export_spec(client, workflow_id)
    monkeypatch.setattr(spec_export, "PAGE", 3)
    monkeypatch.setattr(spec_export, "JOB_PAGE", 5)
    assert export_spec(client, workflow_id) == whole
    assert len(whole["jobs"]) == 12 and len(whole["user_data"]) == 11


def test_cli_export_to_kdl_and_import(client: Client, cli, tmp_path: Path) -> None:
    original = create(client, EVERYTHING, tmp_path)
    exported = cli("workflows", "export", str(original), "-o", "copy.kdl")
    assert f"Exported workflow {original} to copy.kdl" in exported.stderr
    assert (tmp_path / "copy.kdl").read_text() == dump_spec_text(export_spec(client, original), "kdl")
    imported = cli("workflows", "import", "copy.kdl")
    match = re.search(r"Created workflow (\d+)", imported.stderr)
    assert match, imported.stderr
    assert snapshot(client, int(match[1])) == snapshot(client, original)


def test_cli_export_to_stdout_in_the_format_asked(client: Client, cli, tmp_path: Path) -> None:
    original = create(client, ROOT / "examples" / "diamond_workflow.yaml", tmp_path)
    doc = export_spec(client, original)
    assert load_spec_text(cli("workflows", "export", str(original)).stdout, "yaml") == doc
    assert load_spec_text(cli("workflows", "export", str(original), "--spec-format", "json5").stdout, "json5") == doc
    cli("workflows", "export", str(original), "-o", "copy.json", "--spec-format", "yaml")
    assert load_spec_text((tmp_path / "copy.json").read_text(), "yaml") == doc


def test_cli_export_of_a_missing_workflow_fails_clearly(cli) -> None:
    result = cli("workflows", "export", "99999999", check=False)
    assert result.returncode != 0
    assert "workflow 99999999 does not exist" in result.stderr
    assert result.stdout == ""


def test_a_command_edited_after_creation_is_exported_as_edited(client: Client, tmp_path: Path) -> None:
    workflow_id = create(client, EVERYTHING, tmp_path)
    train = next(job for job in client.list_jobs(workflow_id) if job.name == "train")
    config_id = train.input_user_data_ids[0]
    assert train.command == f"torc user-data get {config_id} && echo ok"  # the server's text: the record's id
    assert export_spec(client, workflow_id)["jobs"][2]["command"] == "torc user-data get ${user_data.input.config} && echo ok"
    client.update_job(train.id, command=f"sleep {config_id} && torc user-data get {config_id}")
    exported = export_spec(client, workflow_id)["jobs"][2]
    assert exported["command"] == f"sleep {config_id} && torc user-data get {config_id}"  # the text itself, no guess
