"""Torc's own spec idioms: KDL, fan-in jobs, null for "not set", metadata strings; every error at once."""

import pytest

from torc_client.core.errors import SpecError
from torc_client.spec import build_plan, dump_spec_text, load_spec_text

KDL_DIAMOND = """\
name "diamond"
description "fan out, fan in"
parameters {
    i "1:2"
}
file "in" path="in.txt"
file "part_{i}" path="part_{i}.txt" {
    use_parameters "i"
}
user_data "config" {
    data "{\\"lr\\": 0.1, \\"tags\\": [\\"a\\"]}"
}
resource_requirements "small" {
    num_cpus 1
    memory "1g"
    runtime "PT5M"
}
job "split" {
    command "split ${files.input.in}"
    output_file "part_{i}"
    use_parameters "i"
}
job "work_{i}" {
    command "work {i}"
    input_file "part_{i}"
    input_user_data "config"
    resource_requirements "small"
    use_parameters "i"
}
job "merge" {
    command "merge"
    depends_on_job "work_{i}"
    use_parameters "i"
    cancel_on_blocking_job_failure #false
}
"""


def plan_of(text, fmt="yaml"):
    return build_plan(load_spec_text(text, fmt, source="wf"))


def problems_of(text, fmt="yaml"):
    with pytest.raises(SpecError) as caught:
        plan_of(text, fmt)
    return caught.value


# --- KDL ------------------------------------------------------------------------------


def test_a_kdl_spec_means_what_the_same_yaml_means():
    plan = plan_of(KDL_DIAMOND, "kdl")
    jobs = {job.name: job for job in plan.jobs}
    assert list(jobs) == ["split", "work_1", "work_2", "merge"]
    assert jobs["split"].output_files == ("part_1", "part_2")
    assert jobs["work_1"].input_user_data == ("config",)
    assert plan.upstream["merge"] == ("work_1", "work_2")
    assert jobs["merge"].cancel_on_blocking_job_failure is False
    assert plan.user_data[0].data == {"lr": 0.1, "tags": ["a"]}
    assert plan.files[1].path == "part_1.txt"


def test_a_kdl_spec_is_recognised_without_its_extension():
    assert plan_of(KDL_DIAMOND, None).name == "diamond"


@pytest.mark.parametrize("fmt", ["yaml", "json", "json5", "kdl"])
def test_every_format_writes_a_spec_that_reads_back_the_same(fmt):
    doc = load_spec_text(KDL_DIAMOND, "kdl")
    assert load_spec_text(dump_spec_text(doc, fmt), fmt) == doc


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('name "x"\njob "a" {\n    command = "echo"\n}\n', "line 3, column 13"),
        ('name "x"\njob "a" {\n    command "echo"\n', "line 4, column 1"),
        ('name "x"\njob "a" {\n    command "echo" 1\n    num_cpus 3x\n}\n', "line 4, column 15"),
    ],
)
def test_a_kdl_syntax_error_names_its_line_and_column(text, where):
    error = problems_of(text, "kdl")
    assert error.path == where
    assert "is not valid KDL" in error.message


def test_a_kdl_node_with_the_wrong_number_of_values_names_the_record():
    error = problems_of('name "x"\njob "a" {\n    command "echo" "twice"\n}\n', "kdl")
    assert error.path == "jobs[0].command"
    assert "'command' takes exactly one value" in error.message


def test_an_unknown_kdl_node_is_an_unknown_key_with_a_suggestion():
    error = problems_of('name "x"\njob "a" {\n    comand "echo"\n}\n', "kdl")
    assert error.path == "jobs[0]"
    assert "unknown key 'comand'" in error.message and "did you mean 'command'?" in error.message


def test_kdl_user_data_must_be_json():
    error = problems_of('name "x"\nuser_data "d" {\n    data "{oops"\n}\njob "a" {\n    command "e"\n}\n', "kdl")
    assert error.path == "user_data[0].data"
    assert "not valid JSON" in error.message


# --- Torc's other idioms --------------------------------------------------------------


def test_null_means_not_set_everywhere_a_key_is_optional():
    plan = plan_of(
        "name: w\ndescription: null\nfiles: null\nresource_monitor: {generate_plots: null, enabled: null}\n"
        "jobs:\n  - {name: a, command: echo, invocation_script: null, depends_on: null, input_files: null}\n"
        "user_data:\n  - {name: d, data: null}\n"
    )
    assert plan.description is None and plan.jobs[0].depends_on == ()
    assert plan.user_data[0].data is None  # user_data's own value null stays null


def test_metadata_may_be_a_string_holding_a_json_object():
    assert plan_of("name: w\nmetadata: '{\"team\": \"grid\"}'\njobs: [{name: a, command: e}]\n").metadata == {
        "team": "grid"
    }
    error = problems_of("name: w\nmetadata: '[1, 2]'\njobs: [{name: a, command: e}]\n")
    assert error.path == "metadata" and "must hold a JSON object, not a list" in error.message


def test_a_job_with_parameters_but_no_template_in_its_name_is_one_job_waiting_for_every_expansion():
    plan = plan_of(
        "name: w\nparameters: {i: '1:3'}\n"
        "files:\n  - {name: 'out_{i}', path: 'out_{i}.txt', use_parameters: [i]}\n"
        "jobs:\n  - {name: 'run_{i}', command: 'run {i}', output_files: ['out_{i}'], use_parameters: [i]}\n"
        "  - {name: aggregate, command: aggregate, input_files: ['out_{i}'], use_parameters: [i]}\n"
    )
    aggregate = [job for job in plan.jobs if job.name == "aggregate"]
    assert len(aggregate) == 1
    assert aggregate[0].input_files == ("out_1", "out_2", "out_3")
    assert plan.upstream["aggregate"] == ("run_1", "run_2", "run_3")


def test_a_workflow_parameter_used_by_a_job_that_does_not_list_it_names_the_fix():
    error = problems_of("name: w\nparameters: {i: '1:3'}\njobs:\n  - {name: 'work_{i}', command: 'work {i}'}\n")
    assert error.problems[0] == {
        "path": "jobs[0].name",
        "message": "job 'work_{i}' uses {i}, but no parameters apply to it: add `use_parameters: [i]` or `parameters:`",
    }


# --- every error at once --------------------------------------------------------------


def test_every_problem_of_shape_is_reported_at_once_with_its_place():
    error = problems_of(
        "name: w\njobs:\n  - {name: a, comand: echo}\n  - {name: b, command: 3}\n"
        "resource_requirements:\n  - {name: r, num_cpus: -1}\n"
    )
    assert [problem["path"] for problem in error.problems] == ["jobs[0]", "jobs[1].command",
                                                               "resource_requirements[0].num_cpus"]  # fmt: skip
    assert error.message.startswith("3 problems in the spec:\n  jobs[0]: unknown key 'comand'")
    assert error.problem()["errors"] == error.problems


def test_every_wrong_reference_is_reported_at_once_with_its_place():
    error = problems_of(
        "name: w\nfiles: [{name: f, path: f.txt}]\n"
        "jobs:\n  - {name: a, command: 'x ${files.input.g}', depends_on: [zz], resource_requirements: big}\n"
        "  - {name: b, command: x, input_files: [f, h], failure_handler: retry}\n"
        "  - {name: b, command: y}\n"
    )
    assert [problem["path"] for problem in error.problems] == [
        "jobs[2].name",
        "jobs[0].command",
        "jobs[0].depends_on[0]",
        "jobs[0].resource_requirements",
        "jobs[1].input_files[1]",
        "jobs[1].failure_handler",
    ]
    assert "duplicate job name 'b'" in error.message and "'zz', which is not a defined job" in error.message


def test_a_long_list_of_problems_is_cut_short_in_the_message_but_complete_in_the_problems():
    jobs = "".join(f"  - {{name: j{index}, command: x, depends_on: [missing]}}\n" for index in range(60))
    error = problems_of(f"name: w\njobs:\n{jobs}")
    assert len(error.problems) == 60
    assert error.message.splitlines()[-1] == f"  ... and {60 - SpecError.SHOWN} more"
