"""A job's `env` (the workflow's merged under the job's own) and its stdout/stderr settings, run by a real runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from torc_client.core.errors import SpecError
from torc_client.spec import build_plan, load_spec_text

PRINT = "echo \"A=$A B=$B C=${C-unset}\"; echo to-stderr >&2"


def logs(output: Path) -> dict[str, str]:
    """Every file under job_stdio, by suffix and job id (`j3.o`), with its text."""
    found = {}
    for path in (output / "job_stdio").glob("job_wf*"):
        job = path.stem.split("_")[2]
        found[f"{job}{path.suffix}"] = path.read_text()
    return found


def run_spec(cli, tmp_path: Path, spec: dict) -> tuple[int, dict[str, int]]:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    cli("run", str(path), "--output-dir", "output", "--poll-interval", "0.2")
    listed = json.loads(cli("-f", "json", "workflows", "list").stdout)
    workflow_id = max(w["id"] for w in listed if w["name"] == spec["name"])
    jobs = json.loads(cli("-f", "json", "jobs", "list", str(workflow_id)).stdout)
    return workflow_id, {j["name"]: j["id"] for j in jobs}


def test_job_env_is_the_workflows_with_the_jobs_own_over_it(cli, tmp_path) -> None:
    spec = {"name": "envs", "env": {"A": "wf-a", "B": "wf b $HOME"},
            "jobs": [{"name": "plain", "command": PRINT},
                     {"name": "own", "command": PRINT, "env": {"B": "job-b", "C": "job-c"}},
                     {"name": "sweep_{i}", "command": PRINT, "env": {"C": "c{i}"}, "parameters": {"i": "1:2"}}]}  # fmt: skip
    _, ids = run_spec(cli, tmp_path, spec)
    found = logs(tmp_path / "output")
    assert found[f"j{ids['plain']}.o"] == "A=wf-a B=wf b $HOME C=unset\n"  # values are literal: no expansion
    assert found[f"j{ids['own']}.o"] == "A=wf-a B=job-b C=job-c\n"
    assert found[f"j{ids['sweep_2']}.o"] == "A=wf-a B=wf b $HOME C=c2\n"


def test_stdio_modes_put_output_where_they_say(cli, tmp_path) -> None:
    spec = {"name": "stdio", "execution_config": {"stdio": {"mode": "combined"}},
            "jobs": [{"name": "combined", "command": "echo one; echo two >&2; echo three"},
                     {"name": "separate", "command": PRINT, "stdio": {"mode": "separate"}},
                     {"name": "no_stdout", "command": PRINT, "stdio": {"mode": "no_stdout"}},
                     {"name": "no_stderr", "command": PRINT, "stdio": {"mode": "no_stderr"}},
                     {"name": "none", "command": PRINT, "stdio": {"mode": "none"}}]}  # fmt: skip
    _, ids = run_spec(cli, tmp_path, spec)
    found = logs(tmp_path / "output")
    j = {name: f"j{job_id}" for name, job_id in ids.items()}
    assert found[f"{j['combined']}.log"] == "one\ntwo\nthree\n"
    assert found[f"{j['separate']}.o"].startswith("A=") and found[f"{j['separate']}.e"] == "to-stderr\n"
    assert f"{j['no_stdout']}.o" not in found and found[f"{j['no_stdout']}.e"] == "to-stderr\n"
    assert found[f"{j['no_stderr']}.o"].startswith("A=") and f"{j['no_stderr']}.e" not in found
    assert not [key for key in found if key.startswith(f"{j['none']}.")]


def test_delete_on_success_keeps_only_failed_attempts_logs(cli, tmp_path) -> None:
    spec = {"name": "cleanup", "execution_config": {"stdio": {"mode": "separate", "delete_on_success": True}},
            "jobs": [{"name": "good", "command": "echo fine"},
                     {"name": "bad", "command": "echo broken >&2; exit 3"}]}  # fmt: skip
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    cli("run", str(path), "--output-dir", "output", "--poll-interval", "0.2", check=False)
    listed = json.loads(cli("-f", "json", "workflows", "list").stdout)
    workflow_id = max(w["id"] for w in listed if w["name"] == "cleanup")
    ids = {j["name"]: j["id"] for j in json.loads(cli("-f", "json", "jobs", "list", str(workflow_id)).stdout)}
    found = logs(tmp_path / "output")
    assert not [key for key in found if key.startswith(f"j{ids['good']}.")]
    assert found[f"j{ids['bad']}.e"] == "broken\n"


def test_env_and_stdio_survive_export_and_create_again(client, make_workflow, tmp_path) -> None:
    from torc_client.operations.spec_export import export_spec

    spec = {"name": "round", "env": {"A": "1"}, "execution_config": {"stdio": {"mode": "combined"}},
            "jobs": [{"name": "x", "command": "true", "env": {"B": "2"}, "stdio": {"mode": "none"}},
                     {"name": "y", "command": "true"}]}  # fmt: skip
    first = make_workflow(spec)
    exported = export_spec(client, first.id)
    assert exported["env"] == {"A": "1"}
    assert exported["execution_config"]["stdio"]["mode"] == "combined"
    assert [j.get("env") for j in exported["jobs"]] == [{"B": "2"}, None]
    assert exported["jobs"][0]["stdio"]["mode"] == "none"
    again = make_workflow(exported)
    assert [(j.name, j.env, j.stdio) for j in client.list_jobs(again.id)] == \
        [(j.name, j.env, j.stdio) for j in client.list_jobs(first.id)]  # fmt: skip
    assert client.list_jobs(again.id)[0].env == {"A": "1", "B": "2"}


@pytest.mark.parametrize(("entry", "says"), [
    ({"env": {"9LIVES": "x"}}, "jobs[0].env: '9LIVES' is not a valid environment variable name"),
    ({"env": {"A": 3}}, "jobs[0].env.A: expected a string, got"),
    ({"stdio": {"mode": "both"}}, "jobs[0].stdio.mode: 'both' is not one of: separate, combined"),
    ({"stdio": {"delete_on_success": "yes"}}, "jobs[0].stdio.delete_on_success: expected true or false"),
])  # fmt: skip
def test_bad_env_and_stdio_are_refused_saying_where(entry, says) -> None:
    with pytest.raises(SpecError) as error:
        build_plan(load_spec_text(json.dumps({"name": "bad", "jobs": [{"name": "a", "command": "true", **entry}]})))
    assert says in str(error.value)


def test_a_bad_workflow_env_is_refused_by_the_cli_saying_where(cli, tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nenv:\n  has-dash: x\njobs:\n  - name: a\n    command: 'true'\n")
    result = cli("workflows", "create", str(path), check=False)
    assert result.returncode != 0
    assert "env: 'has-dash' is not a valid environment variable name" in result.stderr


def test_jobs_added_through_the_api_take_the_workflows_env(client, make_workflow) -> None:
    workflow = make_workflow({"name": "added", "env": {"A": "1", "B": "1"}, "jobs": [{"name": "x", "command": "true"}]})
    job = client.create_job(workflow.id, "later", "true", env={"B": "2"}, stdio={"mode": "combined"})
    assert job.env == {"A": "1", "B": "2"} and job.stdio.mode == "combined"
    from torc_client.core.errors import ApiError

    with pytest.raises(ApiError, match="env: '1X' is not a valid environment variable name") as bad_name:
        client.create_job(workflow.id, "bad", "true", env={"1X": "2"})
    assert bad_name.value.status_code == 422
    with pytest.raises(ApiError, match="a value cannot hold a NUL"):
        client.create_job(workflow.id, "bad", "true", env={"X": "a\x00b"})
    with pytest.raises(ApiError, match="stdio.mode"):
        client.create_job(workflow.id, "bad", "true", stdio={"mode": "both"})


def test_every_launcher_starts_a_job_with_its_env_and_its_identity_wins(tmp_path) -> None:
    """The plain child, the cgroup (it calls the plain one first) and the Slurm job step all get the job's env."""
    from runner.launch import Launcher
    from runner.launch.srun import SrunLauncher
    from runner.process import Environment
    from torc_client import contract as c
    from torc_client.hpc import slurm

    job = c.ClaimedJob(id=7, workflow_id=3, name="j", command="true", invocation_script=None, run_id=1, attempt_id=1,
                       claim_token="t", resource_requirements_id=1, num_cpus=1, num_gpus=0, num_nodes=1,
                       memory_bytes=0, runtime_s=60, env={"DATA": "/scratch/x", "TORC_JOB_ID": "999"})  # fmt: skip
    env = Environment("http://server/torc-service/v1", tmp_path, 5).for_job(job)
    assert env["DATA"] == "/scratch/x" and env["TORC_JOB_ID"] == "7"
    allocation = slurm.Allocation(job_id="1", cpus=4, memory_gb=8.0, gpus=None, end_epoch=None)
    for launcher in (Launcher(0), SrunLauncher(0, allocation)):
        _, started = launcher.start(job, "true", env)
        assert started["DATA"] == "/scratch/x", launcher.name
        launcher.end(job, 0, tmp_path / "none.e")


def test_logs_analyze_reads_combined_logs_from_the_workflow_and_from_the_directory(cli, tmp_path) -> None:
    spec = {"name": "combined_triage", "execution_config": {"stdio": {"mode": "combined"}},
            "jobs": [{"name": f"bad_{i}", "command": "echo working; echo 'ValueError: bad input' >&2; exit 2"}
                     for i in range(2)] + [{"name": "good", "command": "echo fine"}]}  # fmt: skip
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    cli("run", str(path), "--output-dir", "output", "--poll-interval", "0.2", check=False)
    listed = json.loads(cli("-f", "json", "workflows", "list").stdout)
    workflow_id = max(w["id"] for w in listed if w["name"] == "combined_triage")
    for source in (str(workflow_id), str(tmp_path / "output")):
        found = json.loads(cli("-f", "json", "logs", "analyze", source, "--output-dir", "output").stdout)
        families = {f["cause"]: f for f in found["families"]}
        assert families["python exception"]["count"] == 2, source  # a directory also holds the good job's log
        assert all(path.split(":")[0].endswith(".log") for path in families["python exception"]["files"])
