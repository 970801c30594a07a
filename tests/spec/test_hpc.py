"""The HPC part of a spec (Slurm schedulers, slurm_defaults, actions), Slurm time limits and batch scripts."""

import dataclasses
from pathlib import Path

import pytest

from torc_client import contract as c
from torc_client.core.errors import SpecError
from torc_client.core.units import format_walltime, parse_walltime
from torc_client.hpc import slurm
from torc_client.hpc.generate import generate
from torc_client.hpc.profiles import detect, profiles
from torc_client.spec import build_plan

SCHEDULER = {"name": "short", "account": "proj", "walltime": "00:30:00"}


def spec(*actions, schedulers=(SCHEDULER,), **extra) -> dict:
    jobs = [{"name": "prep{i}", "command": "true", "parameters": {"i": "1:2"}},
            {"name": "work{i}", "command": "true", "depends_on": ["prep{i}"], "parameters": {"i": "1:2"}}]  # fmt: skip
    return {"name": "hpc", "jobs": jobs, "slurm_schedulers": list(schedulers), "actions": list(actions), **extra}


def schedule(trigger: str, **keys) -> dict:
    return {"trigger_type": trigger, "action_type": "schedule_nodes", "scheduler": "short", "scheduler_type": "slurm",
            **keys}  # fmt: skip


def refused(doc: dict) -> str:
    with pytest.raises(SpecError) as caught:
        build_plan(doc)
    return str(caught.value)


def test_plan_resolves_schedulers_defaults_and_the_jobs_actions_watch() -> None:
    plan = build_plan(spec(schedule("on_workflow_start"), schedule("on_jobs_ready", job_name_regexes=["^work"]),
                           slurm_defaults={"qos": "high", "exclusive": True}))  # fmt: skip
    assert [(s.name, s.walltime_s) for s in plan.slurm_schedulers] == [("short", 1800.0)]
    assert [(a.trigger_type, a.jobs) for a in plan.actions] == [("on_workflow_start", ()),
                                                                ("on_jobs_ready", ("work1", "work2"))]
    assert plan.slurm_defaults == {"qos": "high", "exclusive": True}


def test_action_watching_no_job_is_refused() -> None:
    assert "must name the jobs it watches" in refused(spec(schedule("on_jobs_complete")))


def test_action_naming_an_unknown_job_is_refused_with_its_place() -> None:
    message = refused(spec(schedule("on_jobs_ready", jobs=["work1", "wrok2"])))
    assert message.startswith("actions[0].jobs[1]:") and "'wrok2'" in message


def test_action_naming_a_scheduler_that_does_not_exist_is_refused() -> None:
    message = refused(spec(schedule("on_workflow_start", scheduler="long")))
    assert message.startswith("actions[0].scheduler:") and "defined: short" in message


def test_schedule_nodes_without_a_scheduler_is_refused() -> None:
    action = {"trigger_type": "on_workflow_start", "action_type": "schedule_nodes"}
    assert "needs `scheduler`" in refused(spec(action))


def test_run_commands_without_commands_is_refused() -> None:
    action = {"trigger_type": "on_workflow_complete", "action_type": "run_commands"}
    assert refused(spec(action)).startswith("actions[0].commands:")


def test_walltime_that_does_not_parse_is_refused() -> None:
    message = refused(spec(schedulers=[{**SCHEDULER, "walltime": "half an hour"}]))
    assert message.startswith("slurm_schedulers[0].walltime:")


def test_job_scheduler_must_exist() -> None:
    doc = spec()
    doc["jobs"][0]["scheduler"] = "gpu"
    assert "job uses slurm scheduler 'gpu'" in refused(doc)


def test_unknown_trigger_is_refused_by_the_schema() -> None:
    assert "on_job_done" in refused(spec(schedule("on_job_done")))


@pytest.mark.parametrize(("text", "seconds"), [("30", 1800), ("5:30", 330), ("01:00:00", 3600), ("2-00", 172800),
                                               ("1-02:03", 93780), ("1-00:00:01", 86401)])  # fmt: skip
def test_slurm_time_limits_parse(text: str, seconds: float) -> None:
    assert parse_walltime(text) == seconds


def test_walltime_formats_as_hours_minutes_seconds() -> None:
    assert format_walltime(93780) == "26:03:00"


def test_batch_script_has_the_schedulers_directives_then_the_runner() -> None:
    scheduler = c.SlurmScheduler(id=1, workflow_id=7, name="big", account="proj", partition="debug", nodes=2,
                                 walltime="04:00:00", gres="gpu:2", extra="--exclusive")  # fmt: skip
    runner = slurm.RunnerCommand(api_url="http://login:8080/torc-service/v1", workflow_id=7, output_dir=Path("/o"),
                                 start_one_worker_per_node=True, max_parallel_jobs=4)  # fmt: skip
    lines = slurm.batch_script(scheduler, {"qos": "high", "partition": "ignored", "requeue": True}, runner).splitlines()
    directives = [line for line in lines if line.startswith("#SBATCH")]
    assert directives == ["#SBATCH --account=proj", "#SBATCH --job-name=torc_wf7_big", "#SBATCH --time=04:00:00",
                          "#SBATCH --output=/o/slurm_output_wf7_sl%j.o", "#SBATCH --error=/o/slurm_output_wf7_sl%j.e",
                          "#SBATCH --partition=debug", "#SBATCH --gres=gpu:2", "#SBATCH --nodes=2",
                          "#SBATCH --qos=high", "#SBATCH --requeue", "#SBATCH --exclusive"]  # fmt: skip
    assert "export TORC_API_URL=http://login:8080/torc-service/v1" in lines
    assert lines[-1].startswith("srun --ntasks-per-node=1") and " run 7 --output-dir /o " in lines[-1]
    assert lines[-1].endswith("--max-parallel-jobs 4")



def test_batch_script_runner_enforces_memory_only_when_asked() -> None:
    scheduler = c.SlurmScheduler(id=1, workflow_id=7, name="s", account="proj", walltime="01:00:00")
    runner = slurm.RunnerCommand(api_url="http://login:8080/torc-service/v1", workflow_id=7, output_dir=Path("/o"))
    assert "--enforce-memory" not in slurm.batch_script(scheduler, {}, runner)
    enforcing = slurm.batch_script(scheduler, {}, dataclasses.replace(runner, enforce_memory=True)).splitlines()
    assert enforcing[-1].startswith("exec ") and enforcing[-1].endswith(" --enforce-memory")

def test_allocation_is_none_outside_slurm() -> None:
    assert slurm.allocation({}) is None


# --- slurm generate and HPC profiles ------------------------------------------------------------


def sweep(n: int, runtime: str = "PT1M", **rr) -> dict:
    return {"name": "sweep", "resource_requirements": [{"name": "small", "num_cpus": 1, "memory": "100m",
                                                        "runtime": runtime, **rr}],
            "jobs": [{"name": "w{i}", "command": "true", "resource_requirements": "small", "parameters": {"i": f"1:{n}"}},
                     {"name": "post", "command": "true", "resource_requirements": "small",
                      "depends_on_regexes": ["^w"]}]}  # fmt: skip


def test_generate_gives_each_stage_the_allocations_its_jobs_need() -> None:
    doc = sweep(6)
    generated = generate(doc, build_plan(doc), profiles()["local"], "proj")
    assert generated["slurm_schedulers"] == [{"name": "debug", "account": "proj", "partition": "debug",
                                              "nodes": 1, "walltime": "00:02:30", "mem": "2000M",
                                              "extra": "--cpus-per-task=2"}]  # fmt: skip
    assert [(a["trigger_type"], a["num_allocations"], a.get("jobs")) for a in generated["actions"]] == [
        ("on_workflow_start", 3, None), ("on_jobs_ready", 1, ["post"])]
    assert build_plan(generated).actions[1].jobs == ("post",)  # what it writes is a valid spec


def test_generate_picks_the_partition_with_the_shortest_limit_that_fits() -> None:
    kestrel = profiles()["kestrel"]
    for runtime, memory, gpus, expected in (("PT30M", "10g", 0, "debug"), ("PT2H", "10g", 0, "short"),
                                            ("P3D", "10g", 0, "long"), ("PT3H", "1500g", 0, "bigmem"),
                                            ("PT2H", "10g", 2, "gpu-h100s"), ("PT3H", "10g", 2, "gpu-h100")):  # fmt: skip
        doc = sweep(2, runtime, memory=memory, num_gpus=gpus)
        chosen = generate(doc, build_plan(doc), kestrel, "proj")["slurm_schedulers"][0]["partition"]
        assert chosen == expected, (runtime, memory, gpus)


def test_generate_says_when_no_partition_fits() -> None:
    doc = sweep(2, "PT1H", num_cpus=4)
    with pytest.raises(SpecError, match="no partition of HPC profile local fits 4 CPUs"):
        generate(doc, build_plan(doc), profiles()["local"], "proj")


def test_custom_profiles_come_from_the_config_file_in_torcs_layout() -> None:
    config = {"client": {"hpc": {"custom_profiles": {"research": {
        "display_name": "Research Cluster", "detect_env_var": "CLUSTER_NAME=research",
        "partitions": [{"name": "batch", "cpus_per_node": 48, "memory_mb": 192000, "max_walltime_secs": 259200}]}}}}}
    research = profiles(config)["research"]
    assert research.partition("batch").cpus_per_node == 48
    assert detect({"CLUSTER_NAME": "research"}, profiles(config)) == research


def test_a_name_with_a_control_character_is_refused_where_it_stands() -> None:
    message = refused({"name": "w", "jobs": [{"name": "a\tb", "command": "true"}]})
    assert message.startswith("jobs[0].name:") and "control character" in message
