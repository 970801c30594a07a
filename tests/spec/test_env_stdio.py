"""`env` and `stdio` read alike from every spec format, merged as Torc merges them (the job's env wins)."""

from __future__ import annotations

import pytest

from torc_client.spec import build_plan, load_spec_text

YAML = """
name: k
env: {DATA: /x, LEVEL: info}
execution_config: {stdio: {mode: combined, delete_on_success: true}}
jobs:
  - name: a
    command: "true"
    env: {LEVEL: debug}
    stdio: {mode: none}
  - name: b_{i}
    command: "true"
    env: {PART: "p{i}"}
    parameters: {i: "1:2"}
"""
JSON5 = """{name: 'k', env: {DATA: '/x', LEVEL: 'info'},
  execution_config: {stdio: {mode: 'combined', delete_on_success: true}},
  jobs: [{name: 'a', command: 'true', env: {LEVEL: 'debug'}, stdio: {mode: 'none'}},
         {name: 'b_{i}', command: 'true', env: {PART: 'p{i}'}, parameters: {i: '1:2'}}]}"""
KDL = """name "k"
env { DATA "/x"; LEVEL "info" }
execution_config { stdio { mode "combined"; delete_on_success #true } }
job "a" { command "true"; env { LEVEL "debug" }; stdio { mode "none" } }
job "b_{i}" { command "true"; env { PART "p{i}" }; parameters { i "1:2" } }
"""


@pytest.mark.parametrize(("text", "fmt"), [(YAML, "yaml"), (JSON5, "json5"), (KDL, "kdl")])
def test_env_and_stdio_plan_the_same_in_every_format(text, fmt) -> None:
    plan = build_plan(load_spec_text(text, fmt))
    assert [(j.name, j.env, j.stdio) for j in plan.jobs] == [
        ("a", {"DATA": "/x", "LEVEL": "debug"}, {"mode": "none"}),
        ("b_1", {"DATA": "/x", "LEVEL": "info", "PART": "p1"}, None),
        ("b_2", {"DATA": "/x", "LEVEL": "info", "PART": "p2"}, None),
    ]
    assert plan.settings["execution_config"]["stdio"] == {"mode": "combined", "delete_on_success": True}
    assert plan.settings["env"] == {"DATA": "/x", "LEVEL": "info"}


def test_a_spec_without_env_gives_jobs_none() -> None:
    plan = build_plan(load_spec_text('{"name": "k", "jobs": [{"name": "a", "command": "true"}]}'))
    assert plan.jobs[0].env is None and plan.jobs[0].stdio is None
