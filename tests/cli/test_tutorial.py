"""The user_data tutorial (seeds/000), typed into bash with jq, exactly as written."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from runner import hardware

TUTORIAL_SPEC = (Path(__file__).parents[2] / "examples" / "user_data_workflow.yaml").read_text()

CONFIG = {"learning_rate": 0.001, "batch_size": 32, "epochs": 10}

DYNAMIC_CONFIG_SPEC = """\
name: dynamic_config
jobs:
  - name: analyze_data
    command: |
      # Analyze data and determine optimal parameters
      OPTIMAL_LR=$(python3 -c 'print(0.01 / 4)')
      torc user-data update ${user_data.output.optimal_params} \\
        --data "{\\"learning_rate\\": $OPTIMAL_LR}"
  - name: train
    command: |
      torc user-data get ${user_data.input.optimal_params} | jq '.data.learning_rate'
user_data:
  - name: optimal_params
"""

COLLECT_RESULTS_SPEC = r"""
name: collect_results
jobs:
  - name: worker_{i}
    command: |
      RESULT=$(python3 -c "import json; print(json.dumps({'id': {i}, 'value': {i} * {i}}))")
      torc user-data update ${user_data.output.result_{i}} --data "$RESULT"
    parameters:
      i: "1:10"

  - name: aggregate
    input_user_data_regexes: ['^result_\d+$']
    command: |
      # Collect all results
      torc user-data list $TORC_WORKFLOW_ID --consumer-job-id $TORC_JOB_ID -f json > all_results.json
      jq -c '[.[].data.value] | sort' all_results.json

user_data:
  - name: result_{i}
    parameters:
      i: "1:10"
"""


def _rows(table: str) -> dict[str, list[str]]:
    """Cells of a rounded table's body rows, keyed by the second column (the name)."""
    lines = [line for line in table.splitlines() if line.startswith("│")]
    rows = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]
    return {row[1]: row for row in rows[1:]}


def _created(run: subprocess.CompletedProcess) -> int:
    """The id in `torc run SPEC`'s "Created workflow N" line."""
    match = re.search(r"^Created workflow (\d+)$", run.stderr, re.MULTILINE)
    assert match, run.stderr
    return int(match.group(1))


def _job_stdout(cwd: Path, workflow_id: int, job_id: int) -> str:
    return (cwd / "output" / "job_stdio" / f"job_wf{workflow_id}_j{job_id}_r1_a1.o").read_text()


@pytest.mark.skipif(hardware.detect_gpus() > 0, reason="the tutorial's first run expects a machine without GPUs")
def test_tutorial_runs_as_written(cli) -> None:
    (cli.cwd / "user_data_workflow.yaml").write_text(TUTORIAL_SPEC)

    step2 = cli.shell("""
        # Create the workflow
        WORKFLOW_ID=$(torc create user_data_workflow.yaml -f json | jq -r '.id')
        echo "Created workflow: $WORKFLOW_ID"

        # Initialize jobs
        torc workflows init $WORKFLOW_ID
        echo $WORKFLOW_ID > workflow_id
    """)
    workflow_id = int((cli.cwd / "workflow_id").read_text())
    assert f"Created workflow: {workflow_id}" in step2.stdout
    prefix = f"WORKFLOW_ID={workflow_id}\n"

    listing = cli.shell(prefix + "torc user-data list $WORKFLOW_ID").stdout
    assert "│ ID │ Name      │ Data │ Workflow ID │" in listing
    assert _rows(listing)["ml_config"][2:] == ["null", str(workflow_id)]

    jobs = _rows(cli.shell(prefix + "torc jobs list $WORKFLOW_ID").stdout)
    assert {name: row[2] for name, row in jobs.items()} == {
        "generate_config": "ready", "train_model": "blocked", "evaluate_model": "blocked"}  # fmt: skip

    first_run = cli.shell(prefix + "torc run $WORKFLOW_ID", check=False)
    assert first_run.returncode != 0
    assert "train_model" in first_run.stderr and "evaluate_model" in first_run.stderr
    assert "--num-gpus 2" in first_run.stderr and "--num-gpus 1" in first_run.stderr

    observed = cli.shell(prefix + "torc user-data list $WORKFLOW_ID -f json | jq '.[] | {name, data}'").stdout
    assert json.loads(observed) == {"name": "ml_config", "data": CONFIG}

    cli.shell(prefix + "torc run $WORKFLOW_ID --num-gpus 2 --num-cpus 8 --memory-gb 64")

    results = json.loads(cli.shell(prefix + "torc results list $WORKFLOW_ID -f json").stdout)
    assert sorted(r["return_code"] for r in results) == [0, 0, 0]
    table = _rows(cli.shell(prefix + "torc results list $WORKFLOW_ID").stdout)
    assert {row[2]: row[5] for row in table.values()} == {
        "generate_config": "0", "train_model": "0", "evaluate_model": "0"}  # fmt: skip

    job_ids = {row[1]: int(row[0]) for row in jobs.values()}
    for name, heading in (("train_model", "Training with config:"), ("evaluate_model", "Evaluating with config:")):
        stdout = _job_stdout(cli.cwd, workflow_id, job_ids[name])
        assert stdout.startswith(heading + "\n")
        assert json.loads(stdout[len(heading):]) == CONFIG


def test_tutorial_table_matches_the_documented_output(cli) -> None:
    (cli.cwd / "user_data_workflow.yaml").write_text(TUTORIAL_SPEC)
    out = cli.shell("""
        WORKFLOW_ID=$(torc create user_data_workflow.yaml -f json | jq -r '.id')
        torc user-data list $WORKFLOW_ID
    """).stdout
    lines = out.splitlines()
    widths = [len(cell) for cell in lines[1].strip("│").split("│")]
    assert lines[0] == "╭" + "┬".join("─" * w for w in widths) + "╮"
    assert lines[2] == "├" + "┼".join("─" * w for w in widths) + "┤"
    assert lines[-1] == "╰" + "┴".join("─" * w for w in widths) + "╯"
    assert len(lines) == 5


def test_dynamic_configuration_pattern_passes_a_computed_value(cli) -> None:
    (cli.cwd / "dynamic.yaml").write_text(DYNAMIC_CONFIG_SPEC)
    workflow_id = _created(cli.shell("torc run dynamic.yaml"))

    data = json.loads(cli.shell(f"torc user-data list {workflow_id} -f json | jq '.[0].data'").stdout)
    assert data == {"learning_rate": 0.0025}
    train = json.loads(cli("jobs", "list", str(workflow_id), "--name", "train", "-f", "json").stdout)[0]
    assert _job_stdout(cli.cwd, workflow_id, train["id"]).strip() == "0.0025"


def test_collecting_results_pattern_aggregates_all_ten_workers(cli) -> None:
    (cli.cwd / "collect.yaml").write_text(COLLECT_RESULTS_SPEC)
    workflow_id = _created(cli.shell("torc run collect.yaml"))

    status = json.loads(cli("status", str(workflow_id), "-f", "json").stdout)
    assert status["job_counts"] == {"completed": 11}
    aggregate = json.loads(cli("jobs", "list", str(workflow_id), "--name", "aggregate", "-f", "json").stdout)[0]
    assert len(aggregate["input_user_data_ids"]) == 10
    seen = json.loads(_job_stdout(cli.cwd, workflow_id, aggregate["id"]))
    assert seen == [i * i for i in range(1, 11)]
