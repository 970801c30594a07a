"""Parameter values and templates (torc_client.spec.params): the exact values, messages and paths that
tests/spec/test_params.py leaves open, each held by one behaviour."""

from __future__ import annotations

import pytest

from torc_client.core.errors import SpecError
from torc_client.spec.params import (
    MAX_EXPANSION,
    format_value,
    iter_combinations,
    parameter_combinations,
    parse_parameter_values,
    parse_parameters,
    substitute_parameters,
    template_names,
)


def refusal(call, *args) -> tuple[str, str]:
    """(path, text) of the SpecError that `call(*args)` raises."""
    with pytest.raises(SpecError) as caught:
        call(*args)
    return caught.value.path, str(caught.value)


def test_a_list_item_that_is_not_a_string_or_number_is_refused_at_its_index() -> None:
    assert refusal(parse_parameter_values, [1, None], "jobs[0].parameters.i") == (
        "jobs[0].parameters.i[1]", "jobs[0].parameters.i[1]: a parameter list may hold only strings and numbers, not None")
    assert refusal(parse_parameter_values, [1, False])[0] == "parameters[1]"
    assert parse_parameter_values([1, 2.5, "x"]) == [1, 2.5, "x"]


def test_a_boolean_or_other_type_is_refused_with_what_to_write_instead() -> None:
    assert refusal(parse_parameter_values, True, "p") == (
        "p", "p: a parameter value cannot be a boolean (True); use e.g. \"[0,1]\"")
    assert refusal(parse_parameter_values, {"a": 1}) == (
        "parameters", "parameters: a parameter value must be a string, a number or a list, not {'a': 1}")
    assert refusal(parse_parameter_values, "[]", "q") == (
        "q", "q: the parameter has no values; give at least one, e.g. \"[1,2,3]\" or \"1:10\"")
    assert parse_parameter_values(7) == [7] and parse_parameter_values(2.5) == [2.5]


def test_a_list_text_that_python_cannot_read_as_strings_and_numbers_is_split_on_commas() -> None:
    assert parse_parameter_values("[None, 1]") == ["None", 1]
    assert parse_parameter_values("[True, 2]") == ["True", 2]
    assert parse_parameter_values("[a, 'b', 3.5, , 4]") == ["a", "b", 3.5, 4]
    assert parse_parameter_values("['a', 2, 3.0]") == ["a", 2, 3.0]
    assert parse_parameter_values("[1, [2]]") == [1, "[2]"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("''", ""), ('""', ""), ("'", "'"), ("'a", "'a"), ("a'", "a'"), ("'a\"", "'a\""), ("XaX", "XaX"),
    ("'x y'", "x y"), ("-3", -3), ("+4", 4), (".5", 0.5), ("1e3", 1000.0), ("1.", 1.0), ("abc", "abc"),
    (" 12 ", 12), ("{7}", 7), ("{a,b}", "{a,b}"), ("{ [1] }", [1]), ("x]", "x]"), ("[x", "[x"),
])  # fmt: skip
def test_a_scalar_text_is_an_int_a_float_a_quoted_string_or_the_text_itself(raw, expected) -> None:
    values = parse_parameter_values(raw)
    assert values == (expected if isinstance(expected, list) else [expected])
    assert [type(v) for v in values] == [type(v) for v in (expected if isinstance(expected, list) else [expected])]


@pytest.mark.parametrize(("raw", "expected"), [
    ("1:3", [1, 2, 3]), ("3:1:-1", [3, 2, 1]), ("0:6:3", [0, 3, 6]), ("0:7:3", [0, 3, 6]), ("+1:+2", [1, 2]),
    ("1:2:1.0", [1.0, 2.0]), ("0:1:0.5", [0.0, 0.5, 1.0]), ("1.0:0:-0.5", [1.0, 0.5, 0.0]),
    ("0:0.3:0.1", [0.0, 0.1, 0.2, 0.3]), ("0:1:0.3", [0.0, 0.3, 0.6, 0.9]), ("2.5:2.5", [2.5]),
    ("-1:-3:-1", [-1, -2, -3]), ("1:1:-1", [1]), ("0:2999999.9999:1000000.0", [0.0, 1e6, 2e6]),
])  # fmt: skip
def test_a_range_includes_its_end_when_a_step_lands_on_it_and_never_passes_it(raw, expected) -> None:
    values = parse_parameter_values(raw)
    assert values == expected and [type(v) for v in values] == [type(v) for v in expected]


@pytest.mark.parametrize(("raw", "message"), [
    ("5:1:+2", "range 5:1:+2 is empty; did you mean 1:5:+2 or a negative step 5:1:-2?"),
    ("5:1", "range 5:1 is empty; did you mean 1:5 or a negative step 5:1:-1?"),
    ("1:5:-2", "range 1:5:-2 is empty; did you mean 5:1:-2 or a positive step 1:5:2?"),
    ("1.0:0.0:0.5", "range 1.0:0.0:0.5 is empty; did you mean 0.0:1.0:0.5 or a negative step 1.0:0.0:-0.5?"),
])  # fmt: skip
def test_an_empty_range_is_refused_with_the_two_fixes_spelled_out(raw, message) -> None:
    assert refusal(parse_parameter_values, raw, "p.i") == ("p.i", f"p.i: {message}")


def test_a_zero_step_is_refused_with_a_step_of_one_suggested() -> None:
    assert refusal(parse_parameter_values, "0:10:0", "p.i") == (
        "p.i", "p.i: range 0:10:0 has a zero step; use e.g. 0:10:1")
    assert refusal(parse_parameter_values, "0.5:1:0.0")[1] == "parameters: range 0.5:1:0.0 has a zero step; use e.g. 0.5:1:1"


def test_the_expansion_limit_allows_exactly_the_maximum_and_names_what_is_too_big() -> None:
    assert refusal(parse_parameter_values, f"1:{MAX_EXPANSION + 1}", "p.i") == (
        "p.i", f"p.i: range 1:{MAX_EXPANSION + 1} gives {MAX_EXPANSION + 1:,} values; at most {MAX_EXPANSION:,} are "
        "allowed")
    assert refusal(parse_parameter_values, "0:1:0.0000001", "p.f")[1] == (
        f"p.f: range 0:1:0.0000001 gives {MAX_EXPANSION + 1:,} values; at most {MAX_EXPANSION:,} are allowed")
    assert refusal(parameter_combinations, {"a": range(10_001), "b": range(1000)}, "product", "jobs[0]") == (
        "jobs[0]", f"jobs[0]: the product of the parameters gives {10_001_000:,} values; at most {MAX_EXPANSION:,} "
        "are allowed")
    assert next(iter_combinations({"a": range(10_000), "b": range(1000)})) == {"a": 0, "b": 0}  # exactly the most


def test_combinations_default_to_the_product_and_zip_names_every_length() -> None:
    assert parameter_combinations({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
    assert list(iter_combinations({"a": [1, 2], "b": [3, 4]}, "zip")) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    assert refusal(parameter_combinations, {"a": [1, 2], "b": [1], "c": [1, 2, 3]}, "zip") == (
        "", "parameter_mode zip needs parameters with equal numbers of values; got a (2 values), b (1 values), "
        "c (3 values)")
    assert refusal(parameter_combinations, {"a": list(range(4000)), "b": list(range(4000))})[0] == ""
    assert refusal(iter_combinations, {"a": [1], "b": [1, 2]}, "zip")[0] == ""
    assert parameter_combinations({}) == [{}]


def test_parse_parameters_reads_each_value_under_its_own_path() -> None:
    assert parse_parameters({"i": "1:2", "s": "[a,b]", "n": 3}) == {"i": [1, 2], "s": ["a", "b"], "n": [3]}
    assert refusal(parse_parameters, {"i": "2:1"})[0] == "parameters.i"


@pytest.mark.parametrize(("value", "spec", "expected"), [
    (float("nan"), None, "NaN"), (float("inf"), None, "inf"), (float("-inf"), None, "-inf"),
    (0.5, None, "0.5"), (-0.0, None, "0"), (100.0, None, "100"), (1e20, None, "100000000000000000000"),
    (1.5e-7, None, "0.00000015"), (2.0, "", "2"), (3, None, "3"), ("x", None, "x"), (7, "03d", "007"),
    (0.25, ".1f", "0.2"),
])  # fmt: skip
def test_format_value_prints_floats_plainly_and_applies_a_given_spec(value, spec, expected) -> None:
    assert format_value(value, spec) == expected


def test_templates_are_filled_for_known_names_and_left_alone_otherwise() -> None:
    assert substitute_parameters("no templates", {"i": 1}) == "no templates"
    assert substitute_parameters("{i}", {"i": 1.0}) == "1"
    assert substitute_parameters("a{i}b{j:02d}c{k}d", {"i": 1, "j": 2}) == "a1b02c{k}d"
    assert substitute_parameters("{i}{i:>3}", {"i": 5}) == "5  5"
    assert substitute_parameters("${i} {i}", {"i": 5}) == "${i} 5"
    assert template_names("{a} {b:x} ${c} {1} {d e}") == ["a", "b"]
    assert template_names("plain") == []


def test_a_format_that_does_not_fit_the_value_is_refused_naming_template_value_and_parameter() -> None:
    path, text = refusal(substitute_parameters, "run {x:d}", {"x": "abc"}, "jobs[2].command")
    assert path == "jobs[2].command"
    assert text.startswith("jobs[2].command: format {x:d} does not apply to value 'abc' of parameter 'x' (")
    assert refusal(substitute_parameters, "{x:d}", {"x": 0.5})[0] == ""
