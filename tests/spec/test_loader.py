"""Reading spec text (torc_client.spec.loader) and checking its shape (torc_client.spec.validate)."""

import json

import jsonschema
import pytest

from torc_client.core.errors import SpecError
from torc_client.spec import (
    format_from_filename,
    load_spec_text,
    spec_schema,
    validate_spec,
)
from torc_client.spec.validate import format_path

YAML_SPEC = """\
name: demo
parameters:
  i: 1:10
jobs:
  - name: job_{i}
    command: echo {i}
    use_parameters: [i]
"""
JSON_SPEC = '{"name": "demo", "jobs": [{"name": "a", "command": "echo a"}]}'
JSON5_SPEC = """\
// a comment
{
  name: 'demo',
  jobs: [{name: 'a', command: 'echo a',},],
}
"""


# --- formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("wf.yaml", "yaml"),
        ("wf.yml", "yaml"),
        ("dir/WF.YAML", "yaml"),
        ("wf.json", "json"),
        ("wf.json5", "json5"),
        ("wf.kdl", "kdl"),
        ("wf.toml", None),
        ("wf", None),
        ("archive.yaml.txt", None),
    ],
)
def test_format_from_filename_maps_extensions(filename, expected):
    assert format_from_filename(filename) == expected


def test_load_spec_text_reads_yaml():
    doc = load_spec_text(YAML_SPEC, "yaml")
    assert doc["jobs"] == [{"name": "job_{i}", "command": "echo {i}", "use_parameters": ["i"]}]


def test_load_spec_text_keeps_unquoted_ranges_as_strings():
    # YAML 1.1 reads `1:10` as the base-60 integer 70; Torc (YAML 1.2) keeps the string.
    assert load_spec_text(YAML_SPEC, "yml")["parameters"] == {"i": "1:10"}


def test_load_spec_text_keeps_dates_as_strings():
    doc = load_spec_text("name: w\njobs: []\nmetadata: {day: 2024-01-31}\n", "yaml")
    assert doc["metadata"] == {"day": "2024-01-31"}


def test_load_spec_text_reads_yaml_numbers_and_booleans():
    doc = load_spec_text("a: 12\nb: 1.5\nc: -3\nd: true\ne: null\nf: 1e3\ng: '7'\nh: 007\n", "yaml")
    assert doc == {"a": 12, "b": 1.5, "c": -3, "d": True, "e": None, "f": 1000.0, "g": "7", "h": "007"}


def test_load_spec_text_reads_yaml_anchors_and_merges():
    text = "base: &rr {num_cpus: 2, memory: 1g}\nbig:\n  <<: *rr\n  memory: 8g\n"
    assert load_spec_text(text, "yaml")["big"] == {"num_cpus": 2, "memory": "8g"}


def test_load_spec_text_reads_json():
    assert load_spec_text(JSON_SPEC, "json")["jobs"][0]["name"] == "a"


def test_load_spec_text_reads_json5():
    assert load_spec_text(JSON5_SPEC, "json5")["jobs"][0]["command"] == "echo a"


@pytest.mark.parametrize("text", [JSON_SPEC, JSON5_SPEC, YAML_SPEC])
def test_load_spec_text_detects_the_format_when_none_is_given(text):
    assert load_spec_text(text)["name"] == "demo"


def test_load_spec_text_accepts_format_names_in_any_case():
    assert load_spec_text(JSON_SPEC, "JSON")["name"] == "demo"


def test_load_spec_text_rejects_an_unknown_format():
    with pytest.raises(SpecError, match="toml"):
        load_spec_text(JSON_SPEC, "toml")


# --- syntax errors --------------------------------------------------------------------


def test_load_spec_text_reports_yaml_errors_with_line_and_column():
    text = "name: demo\njobs:\n  - name: a\n    command: [unclosed\n"
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "yaml", source="wf.yaml")
    assert caught.value.path == "line 5, column 1"
    assert "wf.yaml is not valid YAML" in caught.value.message
    assert "flow sequence" in caught.value.message


def test_load_spec_text_reports_bad_yaml_indentation():
    text = "name: demo\njobs:\n  - name: a\n   command: x\n"
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "yaml", source="wf.yaml")
    assert caught.value.path.startswith("line 4, column ")


def test_load_spec_text_rejects_duplicate_yaml_keys_where_they_are():
    text = "name: demo\njobs:\n  - name: a\n    command: x\n    name: b\n"
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "yaml", source="wf.yaml")
    assert caught.value.path == "line 5, column 5"
    assert "'name'" in caught.value.message and "twice" in caught.value.message


def test_load_spec_text_reports_json_errors_with_line_and_column():
    with pytest.raises(SpecError) as caught:
        load_spec_text('{"name": "demo",\n  "jobs": [}\n', "json", source="wf.json")
    assert caught.value.path == "line 2, column 12"
    assert "wf.json is not valid JSON" in caught.value.message


def test_load_spec_text_rejects_duplicate_json_keys():
    with pytest.raises(SpecError, match="'name' appears twice"):
        load_spec_text('{"name": "a", "name": "b", "jobs": []}', "json")


def test_load_spec_text_reports_json5_errors_with_line_and_column():
    with pytest.raises(SpecError) as caught:
        load_spec_text("{\n  name: 'demo',\n  jobs: [,]\n}\n", "json5", source="wf.json5")
    assert caught.value.path == "line 3, column 10"
    assert "wf.json5 is not valid JSON5" in caught.value.message


def test_load_spec_text_reports_the_json5_error_for_brace_text_of_unknown_format():
    with pytest.raises(SpecError) as caught:
        load_spec_text("{name: 'demo' jobs: []}", source="wf")
    assert caught.value.path == "line 1, column 15"
    assert "JSON5" in caught.value.message


def test_load_spec_text_reports_the_yaml_error_for_other_text_of_unknown_format():
    with pytest.raises(SpecError) as caught:
        load_spec_text("name: demo\n  jobs: x\n", source="wf")
    assert caught.value.path.startswith("line 2, ")
    assert "YAML" in caught.value.message


@pytest.mark.parametrize(("text", "found"), [("- a\n- b\n", "list"), ("just text", "string"), ("", "empty")])
def test_load_spec_text_requires_a_mapping_at_the_top(text, found):
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "yaml", source="wf.yaml")
    assert "wf.yaml" in caught.value.message
    assert "mapping" in caught.value.message and found in caught.value.message


# --- the schema -----------------------------------------------------------------------


def test_spec_schema_is_a_valid_draft_2020_12_schema():
    schema = spec_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _objects(node, where="$"):
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield where, node
        for key, value in node.items():
            yield from _objects(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{where}[{index}]")


def test_spec_schema_closes_every_object_and_describes_every_property():
    for where, node in _objects(spec_schema()):
        if "properties" in node:
            assert node.get("additionalProperties") is False, where
            for name, prop in node["properties"].items():
                assert prop.get("description"), f"{where}.{name}"


def test_spec_schema_returns_a_copy():
    spec_schema()["properties"].clear()
    assert "jobs" in spec_schema()["properties"]


def test_spec_schema_is_the_packaged_file():
    import importlib.resources

    text = importlib.resources.files("torc_client.spec").joinpath("schema.json").read_text()
    assert json.loads(text) == spec_schema()


# --- validation -----------------------------------------------------------------------


def _spec(**extra):
    return {"name": "w", "jobs": [{"name": "a", "command": "echo a"}], **extra}


def test_validate_spec_accepts_a_spec_using_every_key():
    validate_spec(
        _spec(
            description="d",
            user="me",
            working_dir="/tmp",
            parameters={"i": "1:3", "x": 0.5, "names": ["a", "b"], "n": 4},
            files=[{"name": "f_{i}", "path": "/f/{i}", "use_parameters": ["i"], "parameter_mode": "zip"}],
            user_data=[{"name": "u", "data": None, "is_ephemeral": True, "parameters": {"k": "[1,2]"}}],
            resource_requirements=[
                {"name": "r", "num_cpus": 2, "num_gpus": 0, "num_nodes": 1, "memory": "1g", "runtime": "PT1H"},
                {"name": "s", "memory": 1073741824},
            ],
            failure_handlers=[
                {
                    "name": "h",
                    "rules": [
                        {"exit_codes": [1, 2], "match_all_exit_codes": False, "recovery_script": "x", "max_retries": 2}
                    ],
                }
            ],
            resource_monitor={"enabled": True, "granularity": "time_series", "sample_interval_seconds": 1},
            jobs_sort_method="none",
            cancel_on_blocking_job_failure=False,
            compute_node_expiration_buffer_seconds=30,
            compute_node_wait_for_new_jobs_seconds=10,
            compute_node_ignore_workflow_completion=True,
            use_pending_failed=True,
            project="p",
            metadata={"anything": [1, {"x": None}]},
        )
    )


@pytest.mark.parametrize(
    ("doc", "path", "fragment"),
    [
        ({"jobs": [{"name": "a", "command": "x"}]}, "", "missing required key 'name'"),
        ({"name": "w"}, "", "missing required key 'jobs'"),
        (_spec(jobs=[]), "jobs", "at least 1"),
        (_spec(jobs=[{"name": "a"}]), "jobs[0]", "missing required key 'command'"),
        (_spec(jobs=[{"name": "a", "command": "x", "depends_on": "b"}]), "jobs[0].depends_on", "a list, got 'b'"),
        (_spec(jobs=[{"name": "a", "command": "x", "depends_on": [1]}]), "jobs[0].depends_on[0]", "a string"),
        (_spec(jobs_sort_method="fast"), "jobs_sort_method", "'fast' is not one of: gpus_runtime_memory"),
        (_spec(resource_requirements=[{"name": "r", "num_cpus": 0}]), "resource_requirements[0].num_cpus", "least 1"),
        (_spec(resource_requirements=[{"name": "r", "num_gpus": 1.5}]), "resource_requirements[0].num_gpus", "integ"),
        (_spec(parameters={"1x": "1:3"}), "parameters", "'1x' is not a valid parameter name"),
        (_spec(parameters={"x": True}), "parameters.x", "true is not allowed here; expected a range"),
        (_spec(resource_monitor={"granularity": "hourly"}), "resource_monitor.granularity", "time_series"),
        (_spec(name=""), "name", "must not be empty"),
        (_spec(metadata=[1]), "metadata", "expected a mapping or a string, got a list"),
    ],
)
def test_validate_spec_rejects_bad_shapes_with_paths(doc, path, fragment):
    with pytest.raises(SpecError) as caught:
        validate_spec(doc)
    assert caught.value.path == path
    assert fragment in caught.value.message


def test_validate_spec_names_an_unknown_job_key_and_the_allowed_ones():
    doc = _spec(jobs=[{"name": "a", "command": "x"}, {"name": "b", "comand": "y"}])
    with pytest.raises(SpecError) as caught:
        validate_spec(doc)
    assert caught.value.path == "jobs[1]"
    assert str(caught.value).startswith(
        "jobs[1]: unknown key 'comand'; allowed keys: cancel_on_blocking_job_failure, command, depends_on, "
    )
    assert "did you mean 'command'?" in caught.value.message


def test_validate_spec_names_every_unknown_key():
    with pytest.raises(SpecError) as caught:
        validate_spec(_spec(slurm_scheduler=[], action=[]))
    assert caught.value.path == ""
    assert "unknown keys 'slurm_scheduler', 'action'" in caught.value.message
    assert "allowed keys: actions, cancel_on_blocking_job_failure" in caught.value.message
    assert "did you mean 'slurm_schedulers', 'actions'?" in caught.value.message


def test_validate_spec_rejects_unknown_keys_in_nested_records():
    doc = _spec(failure_handlers=[{"name": "h", "rules": [{"exit_codes": [1], "max_retry": 2}]}])
    with pytest.raises(SpecError) as caught:
        validate_spec(doc)
    assert caught.value.path == "failure_handlers[0].rules[0]"
    assert "unknown key 'max_retry'" in caught.value.message and "max_retries" in caught.value.message


@pytest.mark.parametrize(
    "doc",
    [
        _spec(jobs=[{"name": "a", "command": "x", "supports_termination": 1}]),
        _spec(jobs=[{"name": "a", "command": "x", "parameters": {"i": [[1]]}}]),
        _spec(parameters={"i": None}),
        _spec(resource_requirements=[{"name": "r", "num_cpus": True}]),
        _spec(resource_requirements=[{"name": "r", "memory": 1.5}]),
        _spec(resource_monitor={"sample_interval_seconds": 0}),
        _spec(user_data=[{"data": 1}]),
        _spec(files=[{"name": "f"}]),
        _spec(jobs=[{"name": "a", "command": "x", "parameter_mode": "cross"}]),
        {**_spec(), 3: "x"},
    ],
)
def test_validate_spec_rejects_what_jsonschema_rejects(doc):
    # validate_spec accepts valid specs through a fast checker; it must never be more lenient.
    assert list(jsonschema.Draft202012Validator(spec_schema()).iter_errors(doc))
    with pytest.raises(SpecError):
        validate_spec(doc)


def test_validate_spec_accepts_integral_floats_as_integers_like_jsonschema():
    validate_spec(_spec(resource_requirements=[{"name": "r", "num_cpus": 2.0}]))


def test_validate_spec_accepts_a_hundred_thousand_jobs():
    jobs = [{"name": f"j{i}", "command": "true", "depends_on": [f"j{i - 1}"] if i else []} for i in range(100_000)]
    validate_spec({"name": "big", "jobs": jobs})


def test_format_path_renders_indexes_and_keys():
    assert format_path(["jobs", 2, "depends_on", 0]) == "jobs[2].depends_on[0]"
    assert format_path([]) == ""


def _every_key_spec():
    return _spec(
        parameters={"i": "1:3", "names": ["a", "b"]},
        files=[{"name": "f", "path": "/f", "use_parameters": ["i"], "parameter_mode": "zip"}],
        user_data=[{"name": "u", "data": {"x": [1]}, "is_ephemeral": True}],
        resource_requirements=[
            {"name": "r", "num_cpus": 2, "num_gpus": 0, "num_nodes": 1, "memory": "1g", "runtime": "PT1H"}
        ],
        failure_handlers=[
            {"name": "h", "rules": [{"exit_codes": [1], "match_all_exit_codes": False, "max_retries": 2}]}
        ],
        resource_monitor={"enabled": True, "granularity": "summary", "sample_interval_seconds": 5},
        jobs_sort_method="none",
        compute_node_wait_for_new_jobs_seconds=10,
        metadata={"k": "v"},
    )


def _locations(node, path=()):
    yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _locations(value, (*path, key))


def _replaced(doc, path, value):
    if not path:
        return value
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[path[0]] = _replaced(doc[path[0]], path[1:], value)
    return copy


def test_validate_spec_fast_checker_agrees_with_jsonschema_on_every_mutation():
    from torc_client.spec.validate import _accepts

    base = _every_key_spec()
    validator = jsonschema.Draft202012Validator(spec_schema())
    replacements = [None, True, 0, -1, 2.0, 1.5, "", "x", "1:3", [], ["a"], [1], {}, {"zz": 1}, {"name": "n"}]
    checked = 0
    for path in _locations(base):
        for value in replacements:
            doc = _replaced(base, path, value)
            assert _accepts()(doc) == validator.is_valid(doc), (path, value)
            checked += 1
    assert checked > 500


def test_validate_spec_fast_checker_rejects_keywords_it_does_not_know():
    from torc_client.spec.validate import _compile

    # A keyword added to schema.json later must send specs to jsonschema, never wave them through.
    assert _compile({"maxLength": 3}, ref=lambda name: None)("ok") is False


def test_load_spec_text_reads_yaml_1_1_words_as_strings_like_yaml_1_2():
    doc = load_spec_text("a: yes\nb: no\nc: on\nd: off\ne: NO\nf: True\ng: FALSE\n", "yaml")
    assert doc == {"a": "yes", "b": "no", "c": "on", "d": "off", "e": "NO", "f": True, "g": False}
