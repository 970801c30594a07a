"""Specs that would take the server down while it reads them are refused, with the limit in the error."""

from __future__ import annotations

import pytest

from torc_client.core.errors import SpecError
from torc_client.core.settings import MAX_COMMAND_BYTES, MAX_SPEC_DEPTH
from torc_client.spec import build_plan, load_spec_text

LAUGHS = "name: x\njobs: []\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))  # fmt: skip


def test_yaml_aliases_that_expand_past_the_limit_are_refused_without_expanding_them() -> None:
    with pytest.raises(SpecError) as refused:
        load_spec_text(LAUGHS, "yaml")
    assert "aliases expand to 490,329,068 values; at most 1,000,000 may come from aliases" in str(refused.value)


def test_a_yaml_alias_inside_the_value_it_names_is_refused() -> None:
    with pytest.raises(SpecError, match="an alias refers to a value that contains it"):
        load_spec_text("name: x\njobs: &j [*j]\n", "yaml")


def test_yaml_aliases_within_the_limit_still_work() -> None:
    doc = load_spec_text("name: x\ndefaults: &d {command: 'true'}\njobs:\n  - {<<: *d, name: a}\n  - {<<: *d, name: b}\n",
                         "yaml")  # fmt: skip
    assert [j["command"] for j in doc["jobs"]] == ["true", "true"]


@pytest.mark.parametrize("fmt", ["json", "json5", "yaml", None])
@pytest.mark.parametrize("levels", [MAX_SPEC_DEPTH + 1, 100_000])
def test_values_nested_past_the_limit_are_refused_in_every_format(fmt, levels) -> None:
    text = '{"name": "x", "jobs": []', f', "deep": {"[" * levels}{"]" * levels}' + "}"
    with pytest.raises(SpecError, match=f"nested (more than {MAX_SPEC_DEPTH} levels deep|too deeply)"):
        load_spec_text("".join(text), fmt)


def test_nesting_up_to_the_limit_is_read() -> None:
    levels = MAX_SPEC_DEPTH - 1
    doc = load_spec_text(f'{{"name": "x", "jobs": [], "deep": {"[" * levels}{"]" * levels}}}', "json")
    assert doc["name"] == "x"


def test_a_command_longer_than_one_command_line_is_refused_with_the_limit() -> None:
    long = "echo " + "x" * MAX_COMMAND_BYTES
    with pytest.raises(SpecError) as refused:
        build_plan({"name": "x", "jobs": [{"name": "long", "command": long}, {"name": "ok", "command": "true"}]})
    assert refused.value.problems == [{"path": "jobs[0].command", "message": f"job 'long': its command is "
                                       f"{len(long):,} bytes long; at most {MAX_COMMAND_BYTES:,} fit in one command "
                                       "line (put long scripts in a file and run that)"}]  # fmt: skip
    assert build_plan({"name": "x", "jobs": [{"name": "fits", "command": "x" * MAX_COMMAND_BYTES}]}).jobs
