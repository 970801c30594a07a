"""WorkflowBuilder: spec dicts and local validation without a server; create and run against one."""

from __future__ import annotations

from pathlib import Path

import pytest

from torc_client.core.errors import SpecError
from torc_client.operations import builder as b
from torc_client.operations.builder import WorkflowBuilder


def _tutorial() -> WorkflowBuilder:
    wf = WorkflowBuilder("config_pipeline", description="Jobs that pass configuration via user_data")
    wf.add_resource_requirements("minimal", num_cpus=1, memory="1g", runtime="PT5M")
    wf.add_user_data("ml_config")
    wf.add_job("generate_config", "torc user-data update ${user_data.output.ml_config} --data '{\"lr\": 0.1}'",
               resource_requirements="minimal")  # fmt: skip
    wf.add_job("train_model", "torc user-data get ${user_data.input.ml_config}", resource_requirements="minimal")
    return wf


def test_to_spec_holds_only_what_was_set() -> None:
    assert _tutorial().to_spec() == {
        "name": "config_pipeline",
        "description": "Jobs that pass configuration via user_data",
        "resource_requirements": [{"name": "minimal", "num_cpus": 1, "num_gpus": 0, "num_nodes": 1, "memory": "1g",
                                   "runtime": "PT5M"}],
        "user_data": [{"name": "ml_config", "data": None}],
        "jobs": [
            {"name": "generate_config", "resource_requirements": "minimal",
             "command": "torc user-data update ${user_data.output.ml_config} --data '{\"lr\": 0.1}'"},
            {"name": "train_model", "command": "torc user-data get ${user_data.input.ml_config}",
             "resource_requirements": "minimal"},
        ],
    }  # fmt: skip


def test_to_spec_is_a_copy() -> None:
    wf = _tutorial()
    wf.to_spec()["jobs"].clear()
    assert len(wf.to_spec()["jobs"]) == 2


def test_job_options_and_parameters_appear_in_the_spec() -> None:
    wf = WorkflowBuilder("sweep")
    wf.set_parameters(seed="1:3")
    wf.add_file("out_{seed}", "out_{seed}.txt", use_parameters=["seed"])
    wf.add_user_data("cache", data={"k": 1}, is_ephemeral=True)
    wf.add_failure_handler("retry", [{"exit_codes": [2], "max_retries": 2}])
    wf.add_job("run_{seed}", "echo {seed} > ${files.output.out_{seed}}", use_parameters=["seed"],
               failure_handler="retry", supports_termination=True, cancel_on_blocking_job_failure=False)  # fmt: skip
    wf.add_job("collect", "cat out_*.txt", depends_on_regexes=["^run_"], input_user_data=["cache"])
    spec = wf.to_spec()
    assert spec["parameters"] == {"seed": "1:3"}
    assert spec["user_data"] == [{"name": "cache", "data": {"k": 1}, "is_ephemeral": True}]
    assert spec["jobs"][0] == {"name": "run_{seed}", "command": "echo {seed} > ${files.output.out_{seed}}",
                               "use_parameters": ["seed"], "failure_handler": "retry", "supports_termination": True,
                               "cancel_on_blocking_job_failure": False}  # fmt: skip
    plan = wf.validate()
    assert [job.name for job in plan.jobs] == ["run_1", "run_2", "run_3", "collect"]
    assert plan.upstream["collect"] == ("run_1", "run_2", "run_3")


def test_validate_returns_the_plan_with_implicit_dependencies() -> None:
    plan = _tutorial().validate()
    assert plan.graph() == {"generate_config": (), "train_model": ("generate_config",)}


def test_validate_rejects_a_cycle_naming_the_jobs() -> None:
    wf = WorkflowBuilder("loop")
    wf.add_job("a", "true", depends_on=["b"])
    wf.add_job("b", "true", depends_on=["a"])
    with pytest.raises(SpecError, match="a -> b -> a|b -> a -> b"):
        wf.validate()


def test_validate_rejects_an_unknown_resource_requirements_name() -> None:
    wf = WorkflowBuilder("typo")
    wf.add_resource_requirements("small")
    wf.add_job("a", "true", resource_requirements="smal")
    with pytest.raises(SpecError, match="smal"):
        wf.validate()


def test_runner_arguments_turn_options_into_flags() -> None:
    args = b.runner_arguments(4, "http://h/api", num_cpus=2, memory_gb=1.5, output_dir="out", max_parallel_jobs=None)
    assert args[-10:] == ["run", "4", "--url", "http://h/api", "--num-cpus", "2", "--memory-gb", "1.5",
                          "--output-dir", "out"]  # fmt: skip
    assert args[:-10] == b.torc_command() and "--max-parallel-jobs" not in args


def test_create_and_run_collects_results_and_user_data(client, tmp_path: Path) -> None:
    workflow = _tutorial().create(client, working_dir=tmp_path)
    status = b.run_workflow(client, workflow.id, cwd=tmp_path, num_cpus=2, memory_gb=2, log=tmp_path / "run.log")
    assert status.is_complete and status.job_counts == {"completed": 2}
    assert [r.return_code for r in b.results(client, workflow.id)] == [0, 0]
    assert b.user_data(client, workflow.id) == {"ml_config": {"lr": 0.1}}
    assert (tmp_path / "output" / "job_stdio").is_dir()


def test_run_without_waiting_returns_the_process(client, tmp_path: Path) -> None:
    workflow = _tutorial().create(client, working_dir=tmp_path)
    process = b.run_workflow(client, workflow.id, wait=False, cwd=tmp_path, num_cpus=1, memory_gb=2)
    assert process.wait(timeout=120) == 0
    assert client.workflow_status(workflow.id).is_complete
