"""`torc validate SPEC` and `torc create --dry-run SPEC`: a spec checked with no server at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli

ROOT = Path(__file__).parents[2]
NO_SERVER = "http://127.0.0.1:9/torc-service/v1"  # nothing listens on port 9

KDL_SWEEP = """\
name "sweep"
parameters {
    i "1:3"
}
file "out_{i}" path="out_{i}.txt" {
    use_parameters "i"
}
job "run_{i}" {
    command "run {i} > ${files.output.out_{i}}"
    use_parameters "i"
}
job "aggregate" {
    command "cat out_*.txt"
    input_file "out_{i}"
    use_parameters "i"
}
"""

BROKEN = """\
name: broken
files: [{name: f, path: f.txt}]
jobs:
  - {name: a, command: 'x ${files.input.g}', depends_on: [zz]}
  - {name: b, command: x, resource_requirements: huge}
"""


@pytest.fixture()
def offline(tmp_path: Path) -> Cli:
    return Cli(NO_SERVER, tmp_path)


@pytest.mark.parametrize("command", [["validate"], ["create", "--dry-run"]])
def test_a_valid_spec_shows_what_it_would_create_without_a_server(offline: Cli, command: list[str]) -> None:
    (offline.cwd / "sweep.kdl").write_text(KDL_SWEEP)
    result = offline(*command, "sweep.kdl")
    lines = result.stdout.splitlines()
    assert lines[0] == ("sweep.kdl: valid; workflow 'sweep' would have 4 jobs, 3 files, 0 user_data records, "
                        "3 dependencies and 2 stages")  # fmt: skip
    assert lines[1] == "  stage 1 (3 jobs): run_1, run_2, run_3"
    assert lines[2] == "  stage 2 (1 job): aggregate"
    assert any("aggregate" in line and "run_1, run_2, run_3" in line for line in lines[3:])


def test_the_json_report_lists_the_stages(offline: Cli) -> None:
    (offline.cwd / "sweep.kdl").write_text(KDL_SWEEP)
    report = json.loads(offline("-f", "json", "validate", "sweep.kdl").stdout)
    assert report["valid"] is True
    assert report["stages"] == [["run_1", "run_2", "run_3"], ["aggregate"]]
    assert (report["jobs"], report["files"], report["dependencies"]) == (4, 3, 3)


def test_every_problem_is_reported_at_once_and_the_exit_code_is_1(offline: Cli) -> None:
    (offline.cwd / "broken.yaml").write_text(BROKEN)
    result = offline("validate", "broken.yaml", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: broken.yaml: 3 problems in the spec:",
        "  jobs[0].command: ${files.input.g} names no defined file; defined: f",
        "  jobs[0].depends_on[0]: depends_on of job 'a' names 'zz', which is not a defined job; defined: a, b",
        "  jobs[1].resource_requirements: job 'b' uses 'huge', which is not a defined resource_requirements; "
        "defined: default",
    ]
    report = json.loads(offline("-f", "json", "validate", "broken.yaml", check=False).stdout)
    assert report["valid"] is False
    assert [problem["path"] for problem in report["errors"]] == [
        "jobs[0].command", "jobs[0].depends_on[0]", "jobs[1].resource_requirements"]  # fmt: skip


def test_a_missing_spec_file_is_named(offline: Cli) -> None:
    result = offline("validate", "nowhere.yaml", check=False)
    assert result.returncode == 1
    assert "cannot read the spec file nowhere.yaml" in result.stderr


def test_every_example_in_the_repository_is_valid(offline: Cli) -> None:
    examples = sorted(p for p in (ROOT / "examples").iterdir() if p.suffix in (".yaml", ".json", ".json5", ".kdl"))
    assert examples
    for example in examples:
        assert offline("validate", str(example)).stdout.startswith(f"{example}: valid;")


def test_the_server_reports_the_same_problems_when_creating(cli: Cli, client) -> None:
    (cli.cwd / "broken.yaml").write_text(BROKEN)
    before = len(client.list_workflows())
    result = cli("create", "broken.yaml", check=False)
    assert result.returncode == 1
    assert "3 problems in the spec:" in result.stderr
    assert "jobs[1].resource_requirements: job 'b' uses 'huge'" in result.stderr
    problem = json.loads(cli("-f", "json", "create", "broken.yaml", check=False).stderr)
    assert [error["path"] for error in problem["errors"]] == [
        "jobs[0].command", "jobs[0].depends_on[0]", "jobs[1].resource_requirements"]  # fmt: skip
    assert len(client.list_workflows()) == before  # nothing was created
