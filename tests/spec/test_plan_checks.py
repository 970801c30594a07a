"""What a plan refuses: duplicate names, names that resolve to nothing, and cycles (torc_client.spec.plan)."""

import pytest

from tests.spec.helpers import job, make_spec, spec_error
from torc_client.spec import build_plan

# --- duplicates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "jobs", "path", "fragment"),
    [
        ({}, ["a", "b", "a"], "jobs[2].name", "duplicate job name 'a': also defined by jobs[0]"),
        (
            {"files": [{"name": "f", "path": "/1"}, {"name": "f", "path": "/2"}]},
            ["a"],
            "files[1].name",
            "duplicate file name 'f'",
        ),
        ({"user_data": [{"name": "u"}, {"name": "u"}]}, ["a"], "user_data[1].name", "duplicate user_data"),
        (
            {"resource_requirements": [{"name": "r"}, {"name": "r"}]},
            ["a"],
            "resource_requirements[1].name",
            "duplicate resource_requirements name 'r'",
        ),
        (
            {"failure_handlers": [{"name": "h", "rules": []}, {"name": "h", "rules": []}]},
            ["a"],
            "failure_handlers[1].name",
            "duplicate failure_handler name 'h'",
        ),
    ],
)
def test_build_plan_rejects_duplicate_names(extra, jobs, path, fragment):
    error = spec_error(make_spec(*jobs, **extra))
    assert error.path == path
    assert fragment in error.message


def test_build_plan_rejects_an_expansion_colliding_with_another_job():
    error = spec_error(make_spec("w_2", job("w_{i}", parameters={"i": "1:3"})))
    assert error.path == "jobs[1].name"
    assert "duplicate job name 'w_2'" in error.message


def test_build_plan_rejects_a_parameterised_job_without_the_parameter_in_its_name():
    error = spec_error(make_spec(job("aggregate", "run {i}", parameters={"i": "1:3"})))
    assert error.path == "jobs[0].command"
    assert "aggregate_{i}" in error.message


# --- references -----------------------------------------------------------------------


def test_build_plan_rejects_unknown_depends_on_suggesting_close_names():
    error = spec_error(make_spec("prepare", job("run", depends_on=["prepare", "prepair"])))
    assert error.path == "jobs[1].depends_on[1]"
    assert "'prepair'" in error.message and "did you mean 'prepare'?" in error.message


def test_build_plan_lists_defined_names_when_nothing_is_close():
    error = spec_error(make_spec("a", "b", job("c", depends_on=["zzzzzz"])))
    assert "defined: a, b, c" in error.message


@pytest.mark.parametrize(
    ("key", "value", "path", "fragment"),
    [
        ("input_files", ["nope"], "jobs[0].input_files[0]", "not a defined file"),
        ("output_files", ["nope"], "jobs[0].output_files[0]", "not a defined file"),
        ("input_user_data", ["nope"], "jobs[0].input_user_data[0]", "not a defined user_data"),
        ("output_user_data", ["nope"], "jobs[0].output_user_data[0]", "not a defined user_data"),
        ("resource_requirements", "huge", "jobs[0].resource_requirements", "'huge', which is not a defined"),
        ("failure_handler", "retry", "jobs[0].failure_handler", "'retry', which is not a defined failure_handler"),
    ],
)
def test_build_plan_rejects_references_to_undefined_records(key, value, path, fragment):
    error = spec_error(make_spec(job("a", **{key: value}), files=[{"name": "f", "path": "/f"}]))
    assert error.path == path
    assert fragment in error.message


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        ("cat ${files.input.inptu}", "${files.input.inptu} names no defined file; did you mean 'input'?"),
        ("cat > ${files.output.zzz}", "${files.output.zzz} names no defined file; defined: input, output"),
        ("get ${user_data.input.cfg}", "${user_data.input.cfg} names no defined user_data; no user_data is"),
        ("get ${files.input.out_{i}}", "is the {...} in it a parameter of this job?"),
    ],
)
def test_build_plan_rejects_variables_naming_undefined_records(command, fragment):
    files = [{"name": "input", "path": "/i"}, {"name": "output", "path": "/o"}]
    doc = make_spec("a", "b", "c", job("d", command), files=files)
    error = spec_error(doc)
    assert error.path == "jobs[3].command"
    assert fragment in error.message


def test_build_plan_reports_variables_in_the_invocation_script_with_their_path():
    error = spec_error(make_spec(job("a", invocation_script="wrap ${files.input.nope}")))
    assert error.path == "jobs[0].invocation_script"


@pytest.mark.parametrize(
    ("key", "pattern", "fragment"),
    [
        ("depends_on_regexes", "^zzz", "regex '^zzz' matches no job"),
        ("input_file_regexes", "^zzz", "matches no file"),
        ("output_file_regexes", "^zzz$", "matches no file"),
        ("input_user_data_regexes", "zzz", "matches no user_data"),
        ("output_user_data_regexes", "^z+$", "matches no user_data"),
        ("depends_on_regexes", "(", "invalid regular expression '('"),
        ("input_file_regexes", "[a-", "invalid regular expression"),
    ],
)
def test_build_plan_rejects_regexes_that_are_invalid_or_match_nothing(key, pattern, fragment):
    reader = job("b", **{key: ["a|f|u", pattern]})
    doc = make_spec("a", reader, files=[{"name": "f", "path": "/f"}], user_data=[{"name": "u"}])
    error = spec_error(doc)
    assert error.path == f"jobs[1].{key}[1]"
    assert fragment in error.message


def test_build_plan_matches_regexes_unanchored():
    doc = make_spec("prefix_core_suffix", job("b", depends_on_regexes=["core"]))
    assert build_plan(doc).upstream["b"] == ("prefix_core_suffix",)


def test_build_plan_rejects_invalid_memory_and_runtime_with_their_paths():
    rr = [{"name": "ok"}, {"name": "bad", "memory": "1.5g"}]
    error = spec_error(make_spec("a", resource_requirements=rr))
    assert error.path == "resource_requirements[1].memory"
    assert "fractions" in error.message and "1536m" in error.message
    error = spec_error(make_spec("a", resource_requirements=[{"name": "slow", "runtime": "2 hours"}]))
    assert error.path == "resource_requirements[0].runtime"
    assert "'2 hours'" in error.message and "PT30M" in error.message


# --- graph checks ---------------------------------------------------------------------


def test_build_plan_rejects_a_job_depending_on_itself():
    error = spec_error(make_spec(job("a", depends_on=["a"])))
    assert error.path == "jobs[0].depends_on[0]"
    assert "depends on itself" in error.message


def test_build_plan_rejects_a_regex_matching_the_job_itself():
    error = spec_error(make_spec("sim_1", job("sim_summary", depends_on_regexes=["^sim_"])))
    assert error.path == "jobs[1].depends_on_regexes[0]"
    assert "'sim_summary' itself" in error.message


def test_build_plan_rejects_an_explicit_cycle_naming_the_jobs_in_order():
    doc = make_spec(job("a", depends_on=["c"]), job("b", depends_on=["a"]), job("c", depends_on=["b"]))
    error = spec_error(doc)
    assert error.path == "jobs"
    assert error.message.startswith("jobs: dependency cycle: a -> c -> b -> a")


def test_build_plan_rejects_a_cycle_through_files_and_user_data():
    doc = make_spec(
        job("a", "make ${files.output.x} from ${user_data.input.u}"),
        job("b", "make ${user_data.output.u} from ${files.input.x}", depends_on=[]),
        files=[{"name": "x", "path": "/x"}],
        user_data=[{"name": "u"}],
    )
    error = spec_error(doc)
    assert "dependency cycle: a -> b -> a" in error.message


def test_build_plan_rejects_a_cycle_mixing_explicit_and_implicit_edges():
    doc = make_spec(
        job("a", "cat ${files.input.x}"),
        job("b", depends_on=["a"]),
        job("c", "touch ${files.output.x}", depends_on=["b"]),
        files=[{"name": "x", "path": "/x"}],
    )
    assert "dependency cycle: a -> c -> b -> a" in spec_error(doc).message


@pytest.mark.parametrize("kind", ["files", "user_data"])
def test_build_plan_rejects_two_producers_of_one_record(kind):
    section = "file" if kind == "files" else "user_data"
    doc = make_spec(
        job("a", f"${{{kind}.output.r}}"),
        job("b", f"${{{kind}.output.r}}"),
        **{kind: [{"name": "r", "path": "/r"} if kind == "files" else {"name": "r"}]},
    )
    error = spec_error(doc)
    assert error.path == f"jobs[1].output_{kind}"
    assert f"{section} 'r' is produced by both 'a' and 'b'" in error.message


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("^stage1", ("stage1", "stage1_a", "stage1_b")),
        ("^stage1_", ("stage1_a", "stage1_b")),
        ("^stage1$", ("stage1",)),
        ("^stage1_a$", ("stage1_a",)),
        ("stage1", ("stage1", "stage1_a", "stage1_b", "x_stage1")),
        (r"^stage1_\w$", ("stage1_a", "stage1_b")),
    ],
)
def test_build_plan_matches_anchored_and_literal_regexes_like_re_search(pattern, expected):
    doc = make_spec("stage1", "stage1_a", "stage1_b", "x_stage1", "stage2", job("barrier", depends_on_regexes=[pattern]))
    assert build_plan(doc).upstream["barrier"] == expected


def test_build_plan_resolves_a_regex_per_job_in_a_large_sweep():
    n = 20_000
    doc = make_spec(
        job("prep_{i}_x", use_parameters=["i"]),
        job("sim_{i}", depends_on_regexes=["^prep_{i}_"], use_parameters=["i"]),
        parameters={"i": f"1:{n}"},
    )
    plan = build_plan(doc)
    assert plan.upstream["sim_1"] == ("prep_1_x",)
    assert plan.upstream[f"sim_{n}"] == (f"prep_{n}_x",)


def test_build_plan_leaves_the_spec_unchanged():
    import copy

    doc = make_spec(
        job("w_{i}", "run ${files.output.f_{i}}", parameters={"i": "1:2"}),
        files=[{"name": "f_{i}", "path": "/f{i}", "parameters": {"i": "1:2"}}],
        resource_monitor={"enabled": False},
        failure_handlers=[{"name": "h", "rules": [{"exit_codes": [1]}]}],
    )
    before = copy.deepcopy(doc)
    build_plan(doc)
    assert doc == before


def test_a_format_that_fails_on_a_later_copy_is_reported_with_the_other_problems():
    # Copies of a sweep are made one at a time while the plan is built; the second copy's command
    # fails to fill, and the problem of another entry is still reported with it.
    doc = make_spec(
        {"name": "w_{x}", "command": "run {x:03d}", "parameters": {"x": [1, "b"]}},
        {"name": "other", "command": "true", "resource_requirements": "huge"},
    )
    message = spec_error(doc).message
    assert "jobs[0].command" in message and "format {x:03d} does not apply to value 'b'" in message
    assert "jobs[1].resource_requirements" in message and "'huge'" in message


def test_a_duplicate_name_and_a_format_that_fails_are_reported_together():
    doc = make_spec(
        {"name": "w_{x}", "command": "run {x:03d}", "parameters": {"x": [1, "b"]}},
        {"name": "w_1", "command": "true"},
    )
    message = spec_error(doc).message
    assert "format {x:03d} does not apply to value 'b'" in message
    assert "duplicate job name 'w_1': also defined by jobs[0]" in message


@pytest.mark.parametrize(("key", "value", "message"), [
    ("resource_requirements", "huge",
     "job 'a' uses 'huge', which is not a defined resource_requirements; defined: default"),
    ("failure_handler", "retry",
     "job 'a' uses 'retry', which is not a defined failure_handler; no failure_handler is defined"),
])  # fmt: skip
def test_a_reference_to_an_undefined_record_names_the_job_that_uses_it(key, value, message):
    error = spec_error(make_spec(job("a", **{key: value})))
    assert (error.path, error.message) == (f"jobs[0].{key}", f"jobs[0].{key}: {message}")


def test_user_data_that_json_cannot_hold_is_refused_at_its_data():
    error = spec_error(make_spec(job("a"), user_data=[{"name": "u", "data": {"x": [1, float("nan")]}}]))
    assert error.path == "user_data[0].data"
    assert error.message.endswith("is NaN or infinite, which JSON cannot hold (use null, or a string)")


def test_a_duplicate_name_is_one_problem_and_the_first_definition_is_the_one_used():
    error = spec_error(make_spec(job("a", input_files=["f"]), files=[{"name": "f", "path": "/f"},
                                                                     {"name": "f", "path": "/g"}]))  # fmt: skip
    assert error.problems == [{"path": "files[1].name", "message": "duplicate file name 'f': also defined by files[0]"}]


def test_a_user_data_variable_without_an_id_is_refused_in_the_command():
    from torc_client.core.errors import SpecError
    from torc_client.spec.plan import substitute_user_data_ids

    with pytest.raises(SpecError) as refused:
        substitute_user_data_ids("get ${user_data.input.q}", {"other": 3})
    assert (refused.value.path, str(refused.value)) == ("command", "command: no user_data id was given for 'q'")
    assert substitute_user_data_ids("get ${user_data.input.q}", {"q": 7}) == "get 7"


def test_requirements_keep_their_nodes_and_memory_as_written_and_user_data_its_ephemeral_flag():
    plan = build_plan(make_spec(job("a", resource_requirements="r"), user_data=[
        {"name": "u", "data": 1, "is_ephemeral": True}, {"name": "v", "data": 2}], resource_requirements=[
        {"name": "r", "num_nodes": 2, "memory": " 2G ", "runtime": "PT1M"}, {"name": "b", "memory": 2048}]))  # fmt: skip
    assert [(r.name, r.num_nodes, r.memory) for r in plan.resource_requirements] == [
        ("default", 1, "1m"), ("r", 2, "2G"), ("b", 1, "2k")]  # fmt: skip
    assert [(u.name, u.is_ephemeral) for u in plan.user_data] == [("u", True), ("v", False)]


def test_two_producers_of_a_file_are_refused_with_how_to_give_each_its_own():
    error = spec_error(make_spec(job("a", output_files=["f"]), job("b", output_files=["f"]),
                                 files=[{"name": "f", "path": "/f"}]))  # fmt: skip
    assert error.problems == [{"path": "jobs[1].output_files", "message": (
        "file 'f' is produced by both 'a' and 'b'; a file can have only one producing job (put a parameter in its "
        "name to give each job its own)")}]  # fmt: skip


def test_file_and_user_data_names_with_a_parameter_nothing_fills_are_each_a_problem():
    error = spec_error(make_spec(job("a"), parameters={"i": "1:2"}, user_data=[{"name": "u_{i}", "data": 1}],
                                 files=[{"name": "f_{i}", "path": "f_{i}"}]))  # fmt: skip
    assert error.problems == [
        {"path": "files[0].name", "message": "file 'f_{i}' uses {i}, but no parameters apply to it: add "
                                             "`use_parameters: [i]` or `parameters:`"},
        {"path": "user_data[0].name", "message": "user_data 'u_{i}' uses {i}, but no parameters apply to it: add "
                                                 "`use_parameters: [i]` or `parameters:`"}]  # fmt: skip


# --- workflow parameters and actions --------------------------------------------------


def test_a_workflow_parameter_that_cannot_be_parsed_is_one_problem_not_also_unknown_to_its_users():
    doc = make_spec(
        job("a_{n}_{m}", use_parameters=["n", "m"]),
        parameters={"n": "5:1", "m": "1:2"},
        files=[{"name": "f_{n}", "path": "/f_{n}", "use_parameters": ["n"]}],
    )
    error = spec_error(doc)
    assert error.path == "parameters.n"
    assert error.message == "parameters.n: range 5:1 is empty; did you mean 1:5 or a negative step 5:1:-1?"


def test_an_action_regex_that_matches_no_job_is_reported_where_it_is_written():
    action = {"trigger_type": "on_jobs_ready", "action_type": "run_commands", "commands": ["echo go"],
              "job_name_regexes": ["^a", "zz"]}  # fmt: skip
    error = spec_error(make_spec("a", actions=[action]))
    assert error.path == "actions[0].job_name_regexes[1]"
    assert error.message == "actions[0].job_name_regexes[1]: regex 'zz' matches no job; defined: a"
