"""Building a WorkflowPlan from a spec (torc_client.spec.plan)."""

from pathlib import Path

import msgspec
import pytest

from torc_client.core.errors import SpecError
from torc_client.spec import (
    PlanFailureHandler,
    PlanFile,
    PlanJob,
    PlanResources,
    PlanUserData,
    build_plan,
    load_spec_text,
    substitute_user_data_ids,
)

# The specification from the user's tutorial, kept verbatim in examples/.
TUTORIAL_YAML = (Path(__file__).parents[2] / "examples" / "user_data_workflow.yaml").read_text()

GIB = 1024**3


from tests.spec.helpers import job, jobs_by_name, make_spec, spec_error

# --- the tutorial ---------------------------------------------------------------------


def test_build_plan_makes_tutorial_jobs_wait_for_the_config_producer():
    plan = build_plan(load_spec_text(TUTORIAL_YAML, "yaml", "user_data_workflow.yaml"))
    assert [j.name for j in plan.jobs] == ["generate_config", "train_model", "evaluate_model"]
    assert plan.graph() == {
        "generate_config": (),
        "train_model": ("generate_config",),
        "evaluate_model": ("generate_config",),
    }
    jobs = jobs_by_name(plan)
    assert jobs["generate_config"].output_user_data == ("ml_config",)
    assert jobs["train_model"].input_user_data == ("ml_config",)
    assert jobs["evaluate_model"].input_user_data == ("ml_config",)
    assert jobs["train_model"].depends_on == ()
    assert plan.user_data == (PlanUserData(name="ml_config", data=None, is_ephemeral=False),)


def test_build_plan_keeps_tutorial_user_data_variables_for_the_server():
    plan = build_plan(load_spec_text(TUTORIAL_YAML, "yaml"))
    generate = jobs_by_name(plan)["generate_config"]
    assert "torc user-data update ${user_data.output.ml_config} \\\n" in generate.command
    config_json = """'{"learning_rate": 0.001, "batch_size": 32, "epochs": 10}'"""
    assert f"echo {config_json} > /tmp/config.json" in generate.command


def test_build_plan_reads_tutorial_resources_and_adds_the_default():
    plan = build_plan(load_spec_text(TUTORIAL_YAML, "yaml"))
    assert plan.resource_requirements == (
        PlanResources("default", 1, 0, 1, "1m", 1024**2, "PT1H", 3600.0),
        PlanResources("minimal", 1, 0, 1, "1g", GIB, "PT5M", 300.0),
        PlanResources("gpu_small", 4, 1, 1, "16g", 16 * GIB, "PT1H", 3600.0),
        PlanResources("gpu_large", 8, 2, 1, "32g", 32 * GIB, "PT4H", 14400.0),
    )
    assert {j.name: j.resource_requirements for j in plan.jobs} == {
        "generate_config": "minimal",
        "train_model": "gpu_large",
        "evaluate_model": "gpu_small",
    }


def test_substitute_user_data_ids_replaces_input_and_output_variables():
    plan = build_plan(load_spec_text(TUTORIAL_YAML, "yaml"))
    train = jobs_by_name(plan)["train_model"]
    text = substitute_user_data_ids(train.command, {"ml_config": 17})
    assert "torc user-data get 17 | jq '.data'" in text
    assert '--config="17"' in text
    assert "${user_data" not in text
    assert substitute_user_data_ids("a ${user_data.output.x} ${HOME} ${files.input.y}", {"x": 3}) == (
        "a 3 ${HOME} ${files.input.y}"
    )


def test_substitute_user_data_ids_rejects_a_name_without_an_id():
    with pytest.raises(SpecError, match="'missing'"):
        substitute_user_data_ids("get ${user_data.input.missing}", {"other": 1})


# --- fan-in over parameterised user_data ----------------------------------------------


def test_build_plan_fans_in_parameterised_user_data_through_a_regex():
    doc = make_spec(
        job(
            "worker_{i}",
            "RESULT=$(python process.py --id {i})\n"
            'torc user-data update ${user_data.output.result_{i}} --data "$RESULT"',
            parameters={"i": "1:10"},
        ),
        job("aggregate", "python aggregate.py", input_user_data_regexes=[r"^result_\d+$"]),
        user_data=[{"name": "result_{i}", "data": None, "parameters": {"i": "1:10"}}],
    )
    plan = build_plan(doc)
    workers = [f"worker_{i}" for i in range(1, 11)]
    assert [j.name for j in plan.jobs] == [*workers, "aggregate"]
    assert plan.upstream["aggregate"] == tuple(sorted(workers))
    assert len(plan.upstream["aggregate"]) == 10
    assert jobs_by_name(plan)["worker_3"].output_user_data == ("result_3",)
    assert "${user_data.output.result_3}" in jobs_by_name(plan)["worker_3"].command
    assert [u.name for u in plan.user_data] == [f"result_{i}" for i in range(1, 11)]


def test_build_plan_explains_shell_variables_in_user_data_variables():
    # The tutorial's "aggregate" pattern loops with $i, which no spec-time variable can resolve.
    doc = make_spec(
        job("aggregate", "for i in $(seq 1 10); do\n  torc user-data get ${user_data.input.result_$i}\ndone"),
        user_data=[{"name": "result_{i}", "parameters": {"i": "1:10"}}],
    )
    error = spec_error(doc)
    assert error.path == "jobs[0].command"
    assert "${user_data.input.result_$i}" in error.message
    assert "shell variable" in error.message and "regexes" in error.message


# --- defaults and settings ------------------------------------------------------------


def test_build_plan_gives_jobs_without_resources_the_default():
    plan = build_plan(make_spec("a"))
    assert plan.jobs == (
        PlanJob(
            name="a",
            command="echo a",
            invocation_script=None,
            resource_requirements="default",
            failure_handler=None,
            cancel_on_blocking_job_failure=True,
            supports_termination=False,
            depends_on=(),
            input_files=(),
            output_files=(),
            input_user_data=(),
            output_user_data=(),
        ),
    )
    assert [r.name for r in plan.resource_requirements] == ["default"]


def test_build_plan_lets_the_spec_define_default_resources():
    default = {"name": "default", "num_cpus": 4, "memory": "2g", "runtime": "PT10M"}
    doc = make_spec("a", resource_requirements=[default])
    plan = build_plan(doc)
    assert plan.resource_requirements == (PlanResources("default", 4, 0, 1, "2g", 2 * GIB, "PT10M", 600.0),)


def test_build_plan_fills_resource_defaults_and_formats_byte_counts():
    plan = build_plan(make_spec("a", resource_requirements=[{"name": "r", "memory": 3 * GIB}, {"name": "s"}]))
    resources = {r.name: r for r in plan.resource_requirements}
    assert resources["r"] == PlanResources("r", 1, 0, 1, "3g", 3 * GIB, "PT1H", 3600.0)
    assert resources["s"] == PlanResources("s", 1, 0, 1, "1m", 1024**2, "PT1H", 3600.0)


def test_build_plan_applies_torc_setting_defaults():
    plan = build_plan(make_spec("a"))
    assert plan.settings == {
        "cancel_on_blocking_job_failure": True,
        "jobs_sort_method": "gpus_runtime_memory",
        "resource_monitor": {"enabled": True, "granularity": "summary", "sample_interval_seconds": 5},
        "compute_node_expiration_buffer_seconds": 60,
        "compute_node_wait_for_new_jobs_seconds": 90,
        "compute_node_ignore_workflow_completion": False,
        "compute_node_wait_for_healthy_database_minutes": 20,
        "use_pending_failed": False,
        "execution_config": {"mode": "auto"},
        "env": {},
    }
    workflow_fields = (plan.description, plan.user, plan.working_dir, plan.project, plan.metadata)
    assert workflow_fields == (None, None, None, None, {})


def test_build_plan_takes_settings_and_workflow_fields_from_the_spec():
    doc = make_spec(
        "a",
        job("b", cancel_on_blocking_job_failure=True, supports_termination=True),
        description="d",
        user="me",
        working_dir="/w",
        project="p",
        metadata={"k": [1]},
        cancel_on_blocking_job_failure=False,
        jobs_sort_method="none",
        resource_monitor={"granularity": "time_series"},
        compute_node_wait_for_new_jobs_seconds=5,
        use_pending_failed=True,
    )
    plan = build_plan(doc)
    workflow_fields = (plan.description, plan.user, plan.working_dir, plan.project, plan.metadata)
    assert workflow_fields == ("d", "me", "/w", "p", {"k": [1]})
    assert plan.settings["cancel_on_blocking_job_failure"] is False
    assert plan.settings["jobs_sort_method"] == "none"
    monitor = {"enabled": True, "granularity": "time_series", "sample_interval_seconds": 5}
    assert plan.settings["resource_monitor"] == monitor
    assert plan.settings["compute_node_wait_for_new_jobs_seconds"] == 5
    assert plan.settings["use_pending_failed"] is True
    jobs = jobs_by_name(plan)
    assert jobs["a"].cancel_on_blocking_job_failure is False
    assert jobs["b"].cancel_on_blocking_job_failure is True
    assert jobs["b"].supports_termination is True


def test_build_plan_fills_failure_handler_rule_defaults():
    doc = make_spec(
        job("a", failure_handler="retry"),
        failure_handlers=[
            {"name": "retry", "rules": [{"exit_codes": [137]}, {"match_all_exit_codes": True, "max_retries": 5}]}
        ],
    )
    plan = build_plan(doc)
    assert plan.failure_handlers == (
        PlanFailureHandler(
            name="retry",
            rules=[
                {"exit_codes": [137], "match_all_exit_codes": False, "recovery_script": None, "max_retries": 3},
                {"exit_codes": [], "match_all_exit_codes": True, "recovery_script": None, "max_retries": 5},
            ],
        ),
    )
    assert plan.jobs[0].failure_handler == "retry"


def test_build_plan_encodes_to_json_with_msgspec():
    plan = build_plan(load_spec_text(TUTORIAL_YAML, "yaml"))
    decoded = msgspec.json.decode(msgspec.json.encode(plan))
    assert decoded["upstream"]["train_model"] == ["generate_config"]
    assert decoded["jobs"][0]["name"] == "generate_config"


def test_build_plan_validates_the_schema_first():
    error = spec_error(make_spec(job("a", comand="x")))
    assert error.path == "jobs[0]"
    assert "unknown key 'comand'" in error.message


# --- files and variables --------------------------------------------------------------


def test_build_plan_replaces_file_variables_with_paths_and_links_producers():
    doc = make_spec(
        job("prep", "prep > ${files.output.raw}"),
        job("clean", "clean ${files.input.raw} > ${files.output.tidy}"),
        job("report", "report ${files.input.tidy} ${files.input.raw}"),
        files=[{"name": "raw", "path": "/d/raw.csv"}, {"name": "tidy", "path": "/d/tidy.csv"}],
    )
    plan = build_plan(doc)
    jobs = jobs_by_name(plan)
    assert jobs["clean"].command == "clean /d/raw.csv > /d/tidy.csv"
    assert (jobs["clean"].input_files, jobs["clean"].output_files) == (("raw",), ("tidy",))
    assert plan.graph() == {"prep": (), "clean": ("prep",), "report": ("clean", "prep")}
    assert plan.files == (PlanFile("raw", "/d/raw.csv"), PlanFile("tidy", "/d/tidy.csv"))


def test_build_plan_merges_variables_with_explicit_lists_and_the_invocation_script():
    doc = make_spec(
        job(
            "a",
            "run ${files.input.x}",
            invocation_script="wrap --log ${files.output.log} --cfg ${user_data.input.cfg}",
            input_files=["y"],
            output_files=["z"],
            output_user_data=["res"],
        ),
        files=[{"name": n, "path": f"/{n}"} for n in ("x", "y", "z", "log")],
        user_data=[{"name": "cfg", "data": {"a": 1}}, {"name": "res"}],
    )
    planned = build_plan(doc).jobs[0]
    assert planned.input_files == ("x", "y")
    assert planned.output_files == ("log", "z")
    assert planned.input_user_data == ("cfg",)
    assert planned.output_user_data == ("res",)
    assert planned.invocation_script == "wrap --log /log --cfg ${user_data.input.cfg}"


def test_build_plan_leaves_shell_text_in_commands_alone():
    command = """awk '{print $1}' ${HOME}/x | jq '{"a": .b}' && echo ${files.input.f} ${PATH} {i}"""
    plan = build_plan(make_spec(job("a", command), files=[{"name": "f", "path": "/f"}]))
    assert plan.jobs[0].command == """awk '{print $1}' ${HOME}/x | jq '{"a": .b}' && echo /f ${PATH} {i}"""


def test_build_plan_treats_files_nobody_produces_as_workflow_inputs():
    doc = make_spec(job("a", "cat ${files.input.given}"), files=[{"name": "given", "path": "/in"}])
    plan = build_plan(doc)
    assert plan.graph() == {"a": ()}
    assert plan.jobs[0].input_files == ("given",)


def test_build_plan_does_not_make_a_job_wait_for_a_file_it_rewrites():
    rewrite = job("a", "sed -i s/x/y/ ${files.input.f}", output_files=["f"])
    doc = make_spec(rewrite, files=[{"name": "f", "path": "/f"}])
    assert build_plan(doc).graph() == {"a": ()}


def test_build_plan_resolves_regexes_sorts_and_deduplicates():
    doc = make_spec(
        "stage1_a",
        "stage1_b",
        "other",
        job("barrier", depends_on=["stage1_b", "other"], depends_on_regexes=["^stage1_", "stage1_b"]),
        job("reader", input_file_regexes=[r"^part_\d$"], input_files=["part_1"]),
        files=[{"name": f"part_{i}", "path": f"/p{i}"} for i in (2, 1)],
    )
    jobs = jobs_by_name(build_plan(doc))
    assert jobs["barrier"].depends_on == ("other", "stage1_a", "stage1_b")
    assert jobs["reader"].input_files == ("part_1", "part_2")


def test_build_plan_expands_a_sweep_with_file_dependencies_in_spec_order():
    doc = make_spec(
        job("prep_{i}", "prep {i} > ${files.output.out_{i}}", use_parameters=["i"]),
        job("sim_{i}_{seed}", "sim ${files.input.out_{i}} --seed {seed}", use_parameters=["i", "seed"]),
        parameters={"i": "1:2", "seed": "[7, 8]"},
        files=[{"name": "out_{i}", "path": "/out/{i:03d}.h5", "use_parameters": ["i"]}],
    )
    plan = build_plan(doc)
    assert [j.name for j in plan.jobs] == ["prep_1", "prep_2", "sim_1_7", "sim_1_8", "sim_2_7", "sim_2_8"]
    assert plan.upstream["sim_2_8"] == ("prep_2",)
    assert jobs_by_name(plan)["sim_1_8"].command == "sim /out/001.h5 --seed 8"


def test_build_plan_builds_a_hundred_thousand_job_sweep():
    n = 50_000  # two jobs per value
    doc = make_spec(
        job("prep_{i}", "prep {i} > ${files.output.out_{i}}", use_parameters=["i"]),
        job("sim_{i}", "sim ${files.input.out_{i}}", use_parameters=["i"]),
        parameters={"i": f"1:{n}"},
        files=[{"name": "out_{i}", "path": "/scratch/out_{i}.h5", "use_parameters": ["i"]}],
    )
    plan = build_plan(doc)
    assert len(plan.jobs) == 100_000
    assert len(plan.files) == n
    assert plan.upstream[f"sim_{n}"] == (f"prep_{n}",)
    assert plan.waits_for("prep_1") == ()
