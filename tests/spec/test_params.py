"""Parameter values, templates and expansion (torc_client.spec.params)."""

import pytest

from torc_client.core.errors import SpecError
from torc_client.spec.expand import expand_entries
from torc_client.spec.params import (
    format_value,
    parameter_combinations,
    parse_parameter_values,
    parse_parameters,
    substitute_parameters,
    template_names,
)

# --- value grammar --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1:5", [1, 2, 3, 4, 5]),
        ("0:10:2", [0, 2, 4, 6, 8, 10]),
        ("0:9:2", [0, 2, 4, 6, 8]),
        ("10:1:-3", [10, 7, 4, 1]),
        ("5:5", [5]),
        ("-2:2", [-2, -1, 0, 1, 2]),
        (" 1:3 ", [1, 2, 3]),
        ("{1:3}", [1, 2, 3]),
    ],
)
def test_parse_parameter_values_expands_integer_ranges_inclusively(raw, expected):
    values = parse_parameter_values(raw)
    assert values == expected
    assert all(type(value) is int for value in values)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.0:1.0:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("0:1:0.1", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        ("1:2:0.5", [1.0, 1.5, 2.0]),
        ("1.0:0.0:-0.5", [1.0, 0.5, 0.0]),
        ("0.1:0.35:0.1", [0.1, 0.2, 0.3]),
        ("1e-5:3e-5:1e-5", [1e-5, 2e-5, 3e-5]),
    ],
)
def test_parse_parameter_values_expands_float_ranges_without_drift(raw, expected):
    # Exact equality on purpose: values are start + k*step rounded to 12 significant digits.
    assert parse_parameter_values(raw) == expected


def test_parse_parameter_values_treats_third_float_part_as_a_step():
    # Torc's docs describe log spacing here; Torc's code (and this one) take 10 as the step.
    assert parse_parameter_values("0.0001:0.01:10") == [0.0001]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[1,5,10]", [1, 5, 10]),
        ("[0.1,0.5]", [0.1, 0.5]),
        ("['a','b']", ["a", "b"]),
        ('["a", "b"]', ["a", "b"]),
        ("[a, b, c]", ["a", "b", "c"]),
        ("[1, two, 3.5]", [1, "two", 3.5]),
        ("['a,b', 'c']", ["a,b", "c"]),
        ([1, 2, 3], [1, 2, 3]),
        (["a", "b"], ["a", "b"]),
        ([0.5, "x", 2], [0.5, "x", 2]),
    ],
)
def test_parse_parameter_values_reads_lists(raw, expected):
    assert parse_parameter_values(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("7", [7]), ("3.5", [3.5]), ("abc", ["abc"]), ("'quoted'", ["quoted"]), (7, [7]), (2.5, [2.5])],
)
def test_parse_parameter_values_reads_scalars(raw, expected):
    assert parse_parameter_values(raw) == expected


def test_parse_parameter_values_keeps_non_numeric_colon_strings_whole():
    assert parse_parameter_values("http://example.org") == ["http://example.org"]
    assert parse_parameter_values("a:b") == ["a:b"]


def test_parse_parameter_values_rejects_an_empty_range_with_a_suggestion():
    with pytest.raises(SpecError) as caught:
        parse_parameter_values("1:0", "parameters.i")
    assert caught.value.path == "parameters.i"
    assert "range 1:0 is empty; did you mean 0:1 or a negative step 1:0:-1?" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("5:1:2", "did you mean 1:5:2 or a negative step 5:1:-2?"),
        ("1:5:-1", "did you mean 5:1:-1 or a positive step 1:5:1?"),
    ],
)
def test_parse_parameter_values_rejects_a_step_pointing_away_from_the_end(raw, hint):
    with pytest.raises(SpecError, match="is empty") as caught:
        parse_parameter_values(raw)
    assert hint in caught.value.message


@pytest.mark.parametrize("raw", ["0:10:0", "0.0:1.0:0.0"])
def test_parse_parameter_values_rejects_a_zero_step(raw):
    with pytest.raises(SpecError, match="zero step"):
        parse_parameter_values(raw)


@pytest.mark.parametrize("raw", ["[]", [], "[ ]"])
def test_parse_parameter_values_rejects_no_values(raw):
    with pytest.raises(SpecError, match="no values"):
        parse_parameter_values(raw)


@pytest.mark.parametrize("raw", [True, None, {"a": 1}, [[1, 2]], [True]])
def test_parse_parameter_values_rejects_other_types(raw):
    with pytest.raises(SpecError):
        parse_parameter_values(raw)


def test_parse_parameters_keeps_declaration_order_and_names_the_bad_one():
    assert list(parse_parameters({"z": "1:2", "a": "[x]"})) == ["z", "a"]
    with pytest.raises(SpecError) as caught:
        parse_parameters({"ok": "1:2", "bad": "3:1"}, "jobs[0].parameters")
    assert caught.value.path == "jobs[0].parameters.bad"


# --- formatting and templates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (0.25, "0.25"),
        (2.5, "2.5"),
        (1e-5, "0.00001"),
        (-0.0, "0"),
        (3, "3"),
        ("a", "a"),
        (1e20, "100000000000000000000"),
    ],
)
def test_format_value_prints_floats_like_rust_display(value, expected):
    assert format_value(value) == expected


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (7, "03d", "007"),
        (0.5, ".2f", "0.50"),
        (3, ".1f", "3.0"),
        (42, ">5", "   42"),
        ("ab", "_<4", "ab__"),
        (255, "x", "ff"),
    ],
)
def test_format_value_applies_python_format_specs(value, spec, expected):
    assert format_value(value, spec) == expected


def test_substitute_parameters_fills_plain_and_formatted_templates():
    text = "run --i {i} --pad {i:03d} --lr {lr:.3f} --again {i}"
    assert substitute_parameters(text, {"i": 7, "lr": 0.01}) == "run --i 7 --pad 007 --lr 0.010 --again 7"


@pytest.mark.parametrize(
    "text",
    [
        "echo ${HOME} ${i}",
        "awk '{print $1}' data.txt",
        """echo '{"a": 1, "i": 2}'""",
        "python -c 'print({1: 2})'",
        "use {unknown} and {other:03d}",
        "set {i: 1}",
    ],
)
def test_substitute_parameters_leaves_shell_awk_and_json_braces_alone(text):
    assert substitute_parameters(text, {"i": 5}) == text


def test_substitute_parameters_fills_templates_inside_variables():
    assert substitute_parameters("cat ${files.input.out_{i}}", {"i": 3}) == "cat ${files.input.out_3}"


def test_substitute_parameters_rejects_a_spec_that_does_not_fit_the_value():
    with pytest.raises(SpecError) as caught:
        substitute_parameters("job_{x:03d}", {"x": 0.5}, "jobs[0].name")
    assert caught.value.path == "jobs[0].name"
    assert "{x:03d}" in caught.value.message and "0.5" in caught.value.message


def test_template_names_lists_only_template_shaped_braces():
    assert template_names("a_{i}_{j:02d} ${HOME} {print $1}") == ["i", "j"]


# --- combinations ---------------------------------------------------------------------


def test_parameter_combinations_product_varies_first_parameter_slowest():
    combos = parameter_combinations({"a": [1, 2], "b": ["x", "y", "z"]})
    assert combos == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]


def test_parameter_combinations_zip_pairs_values_by_index():
    combos = parameter_combinations({"a": [1, 2, 3], "b": ["x", "y", "z"]}, "zip")
    assert combos == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}]


def test_parameter_combinations_zip_rejects_unequal_lengths_naming_them():
    with pytest.raises(SpecError) as caught:
        parameter_combinations({"a": [1, 2, 3], "b": [1, 2]}, "zip", "jobs[0].parameter_mode")
    assert caught.value.path == "jobs[0].parameter_mode"
    assert "a (3 values)" in caught.value.message and "b (2 values)" in caught.value.message


# --- expanding spec entries -----------------------------------------------------------


def test_expand_entries_leaves_entries_without_parameters_alone():
    entries = [{"name": "a", "command": "awk '{x}'"}]
    assert expand_entries("jobs", entries, {"i": [1, 2]}) == [("jobs[0]", {"name": "a", "command": "awk '{x}'"})]


def test_a_workflow_parameter_template_in_an_entry_it_does_not_apply_to_names_the_fix():
    with pytest.raises(SpecError) as caught:
        expand_entries("jobs", [{"name": "work_{i}", "command": "echo"}], {"i": [1, 2]})
    assert caught.value.path == "jobs[0].name"
    assert "job 'work_{i}' uses {i}, but no parameters apply to it: add `use_parameters: [i]`" in str(caught.value)
    with pytest.raises(SpecError) as caught:
        expand_entries("files", [{"name": "f", "path": "out_{j}.txt", "use_parameters": ["i"]}], {"i": [1], "j": [2]})
    assert caught.value.path == "files[0].path"
    assert "file 'f' uses {j}, which is a workflow parameter that does not apply to it: add j" in str(caught.value)


def test_copies_of_a_job_that_share_a_name_are_one_fan_in_job_with_every_dependency():
    entry = {"name": "report_{d}", "command": "report {d}", "depends_on": ["analyze_{d}_{k}"],
             "input_files": ["result_{d}_{k}"], "parameters": {"d": "['a','b']", "k": "[1,2]"}}  # fmt: skip
    assert [job for _, job in expand_entries("jobs", [entry], {})] == [
        {"name": "report_a", "command": "report a", "depends_on": ["analyze_a_1", "analyze_a_2"],
         "input_files": ["result_a_1", "result_a_2"]},
        {"name": "report_b", "command": "report b", "depends_on": ["analyze_b_1", "analyze_b_2"],
         "input_files": ["result_b_1", "result_b_2"]},
    ]  # fmt: skip


def test_a_fan_in_job_whose_copies_differ_beyond_their_lists_asks_for_the_parameter_in_its_name():
    entry = {"name": "agg", "command": "agg {i}", "parameters": {"i": "1:3"}}
    with pytest.raises(SpecError) as caught:
        expand_entries("jobs", [entry], {})
    assert caught.value.path == "jobs[0].command"
    assert "becomes one job 'agg' for 3 parameter combinations" in str(caught.value)
    assert "e.g. 'agg_{i}'" in str(caught.value)


def test_expand_entries_fills_every_job_template_field():
    job = {
        "name": "sim_{i}",
        "command": "sim {i} ${files.output.out_{i}}",
        "invocation_script": "wrap {i}",
        "resource_requirements": "rr_{i}",
        "failure_handler": "fh_{i}",
        "depends_on": ["prep_{i}"],
        "depends_on_regexes": ["^pre_{i}$"],
        "input_files": ["in_{i}"],
        "output_file_regexes": ["out_{i}"],
        "input_user_data": ["ud_{i}"],
        "output_user_data_regexes": ["res_{i}"],
        "parameters": {"i": "[7]"},
    }
    [(path, expanded)] = expand_entries("jobs", [job], {})
    assert path == "jobs[0]"
    assert expanded == {
        "name": "sim_7",
        "command": "sim 7 ${files.output.out_7}",
        "invocation_script": "wrap 7",
        "resource_requirements": "rr_7",
        "failure_handler": "fh_{i}",  # not substituted, as in Torc
        "depends_on": ["prep_7"],
        "depends_on_regexes": ["^pre_7$"],
        "input_files": ["in_7"],
        "output_file_regexes": ["out_7"],
        "input_user_data": ["ud_7"],
        "output_user_data_regexes": ["res_7"],
    }


def test_expand_entries_fills_file_name_and_path():
    files = [{"name": "out_{i}", "path": "/data/{i:02d}.h5", "parameters": {"i": "1:2"}}]
    assert [entry for _, entry in expand_entries("files", files, {})] == [
        {"name": "out_1", "path": "/data/01.h5"},
        {"name": "out_2", "path": "/data/02.h5"},
    ]


def test_expand_entries_fills_user_data_name_and_strings_inside_data():
    data = {"id": "{i}", "tags": ["r{i}", 3], "n": None}
    entries = [{"name": "result_{i}", "data": data, "parameters": {"i": "1:2"}}]
    assert [entry for _, entry in expand_entries("user_data", entries, {})] == [
        {"name": "result_1", "data": {"id": "1", "tags": ["r1", 3], "n": None}},
        {"name": "result_2", "data": {"id": "2", "tags": ["r2", 3], "n": None}},
    ]


def test_expand_entries_uses_selected_workflow_parameters_in_listed_order():
    workflow = parse_parameters({"a": "1:2", "b": "[x,y]", "c": "9"})
    job = {"name": "j_{a}_{b}", "command": "run", "use_parameters": ["b", "a"]}
    names = [entry["name"] for _, entry in expand_entries("jobs", [job], workflow)]
    assert names == ["j_1_x", "j_2_x", "j_1_y", "j_2_y"]


def test_expand_entries_prefers_local_parameters_over_use_parameters():
    workflow = parse_parameters({"i": "1:3"})
    job = {"name": "j_{i}", "command": "x", "parameters": {"i": "[8,9]"}, "use_parameters": ["i"]}
    assert [entry["name"] for _, entry in expand_entries("jobs", [job], workflow)] == ["j_8", "j_9"]


def test_expand_entries_zips_when_asked():
    parameters = {"a": "1:3", "b": "[x,y,z]"}
    job = {"name": "j_{a}_{b}", "command": "x", "parameters": parameters, "parameter_mode": "zip"}
    assert [entry["name"] for _, entry in expand_entries("jobs", [job], {})] == ["j_1_x", "j_2_y", "j_3_z"]


def test_expand_entries_rejects_unknown_use_parameters():
    workflow = parse_parameters({"i": "1:3"})
    job = {"name": "j_{i}", "command": "x", "use_parameters": ["i", "k"]}
    with pytest.raises(SpecError) as caught:
        expand_entries("jobs", [{"name": "a", "command": "x"}, job], workflow)
    assert caught.value.path == "jobs[1].use_parameters[1]"
    assert "'k'" in caught.value.message and "i" in caught.value.message


def test_expand_entries_rejects_duplicate_names_suggesting_the_parameter():
    job = {"name": "worker", "command": "x {i}", "parameters": {"i": "1:3"}}
    with pytest.raises(SpecError) as caught:
        expand_entries("jobs", [job], {})
    assert caught.value.path == "jobs[0].command"
    assert "worker_{i}" in caught.value.message


def test_expand_entries_rejects_names_missing_one_of_several_parameters():
    job = {"name": "w_{i}", "command": "x {j}", "parameters": {"i": "1:2", "j": "1:2"}}
    with pytest.raises(SpecError, match=r"w_\{i\}_\{j\}"):
        expand_entries("jobs", [job], {})


def test_expand_entries_reports_bad_local_parameters_with_their_path():
    job = {"name": "w_{i}", "command": "x", "parameters": {"i": "1:0"}}
    with pytest.raises(SpecError) as caught:
        expand_entries("jobs", [{"name": "a", "command": "x"}, job], {})
    assert caught.value.path == "jobs[1].parameters.i"


def test_parse_parameter_values_rejects_ranges_beyond_the_expansion_limit():
    with pytest.raises(SpecError, match="1,000,000,000 values"):
        parse_parameter_values("1:1000000000", "parameters.i")
    with pytest.raises(SpecError, match="at most 10,000,000"):
        parse_parameter_values("0:1:0.00000001")


def test_parameter_combinations_rejects_products_beyond_the_expansion_limit():
    values = {"a": list(range(1000)), "b": list(range(1000)), "c": list(range(1000))}
    with pytest.raises(SpecError, match="1,000,000,000 values"):
        parameter_combinations(values, "product", "jobs[0].parameter_mode")
