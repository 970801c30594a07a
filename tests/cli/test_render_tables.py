"""Rendering records as rounded tables and JSON (pure: no server, no subprocess)."""

from __future__ import annotations

import json

import pytest

from torc_client import contract as c
from torc_client.cli import render

ML_CONFIG = c.UserData(id=1, workflow_id=1, name="ml_config", data=None)


def test_user_data_table_matches_the_tutorial(capsys: pytest.CaptureFixture[str]) -> None:
    render.show_list([ML_CONFIG], c.UserData, "table")
    assert capsys.readouterr().out == (
        "╭────┬───────────┬──────┬─────────────╮\n"
        "│ ID │ Name      │ Data │ Workflow ID │\n"
        "├────┼───────────┼──────┼─────────────┤\n"
        "│ 1  │ ml_config │ null │ 1           │\n"
        "╰────┴───────────┴──────┴─────────────╯\n"
    )


def test_json_list_is_a_bare_array_of_records(capsys: pytest.CaptureFixture[str]) -> None:
    data = c.UserData(id=2, workflow_id=1, name="cfg", data={"learning_rate": 0.001})
    render.show_list([ML_CONFIG, data], c.UserData, "json")
    assert json.loads(capsys.readouterr().out) == [
        {"id": 1, "workflow_id": 1, "name": "ml_config", "data": None, "is_ephemeral": False},
        {"id": 2, "workflow_id": 1, "name": "cfg", "data": {"learning_rate": 0.001}, "is_ephemeral": False},
    ]


def test_empty_json_list_is_an_empty_array(capsys: pytest.CaptureFixture[str]) -> None:
    render.show_list([], c.Job, "json")
    assert json.loads(capsys.readouterr().out) == []


def test_single_record_json_is_bare(capsys: pytest.CaptureFixture[str]) -> None:
    render.show_record(ML_CONFIG, "json")
    assert json.loads(capsys.readouterr().out)["name"] == "ml_config"


def test_table_is_not_truncated_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    big = {"values": list(range(400))}
    render.show_list([c.UserData(id=1, workflow_id=1, name="big", data=big)], c.UserData, "table")
    out = capsys.readouterr().out
    assert render.compact_json(big) in out
    assert len(out.splitlines()) == 5


def test_cells_are_not_read_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    job = c.Job(id=1, workflow_id=1, name="[bold]x[/bold]", command="echo [red]hi[/red]", status="ready")
    render.show_list([job], c.Job, "table")
    out = capsys.readouterr().out
    assert "[bold]x[/bold]" in out and "echo [red]hi[/red]" in out


def test_job_command_is_cut_to_its_first_line(capsys: pytest.CaptureFixture[str]) -> None:
    job = c.Job(id=1, workflow_id=1, name="multi", command="\necho one\necho two\n", status="blocked")
    render.show_list([job], c.Job, "table")
    out = capsys.readouterr().out
    assert "│ echo one … │" in out and "echo two" not in out


def test_results_table_names_jobs_and_formats_measures(capsys: pytest.CaptureFixture[str]) -> None:
    result = c.Result(id=5, workflow_id=1, job_id=7, run_id=1, attempt_id=1, compute_node_id=1, return_code=0,
                      status="completed", exec_time_minutes=0.5, completion_time="2026-01-01T00:00:00.000Z",
                      peak_memory_bytes=3 * 1024 * 1024, peak_cpu_percent=87.25)  # fmt: skip
    render.show_list([result], c.Result, "table", render.result_columns({7: "train"}))
    lines = capsys.readouterr().out.splitlines()
    headers = [cell.strip() for cell in lines[1].strip("│").split("│")]
    cells = [cell.strip() for cell in lines[3].strip("│").split("│")]
    assert headers == ["ID", "Job ID", "Job Name", "Run ID", "Attempt", "Return Code", "Status", "Exec Time (min)",
                       "Peak Mem", "Peak CPU %", "Completion Time"]  # fmt: skip
    assert cells == ["5", "7", "train", "1", "1", "0", "completed", "0.50", "3.0 MiB", "87.2",
                     "2026-01-01T00:00:00.000Z"]  # fmt: skip


def test_status_shows_counts_in_life_cycle_order(capsys: pytest.CaptureFixture[str]) -> None:
    status = c.WorkflowStatus(workflow_id=3, run_id=1, is_initialized=True, is_canceled=False, is_archived=False,
                              is_complete=False, num_jobs=6, job_counts={"completed": 2, "blocked": 3, "ready": 1})  # fmt: skip
    render.show_status(status, "table")
    out = capsys.readouterr().out
    assert out.startswith("Workflow 3: initialized, run 1, 6 jobs\n")
    assert out.index("blocked") < out.index("ready") < out.index("completed")


@pytest.mark.parametrize(("text", "expected"), [("echo hi", "echo hi"), ("a\nb", "a …"), ("\n\n", "")])
def test_first_line(text: str, expected: str) -> None:
    assert render.first_line(text) == expected


@pytest.mark.parametrize(("num", "expected"), [(None, ""), (512, "512 B"), (1536, "1.5 KiB"), (5 << 30, "5.0 GiB")])
def test_human_bytes(num: int | None, expected: str) -> None:
    assert render.human_bytes(num) == expected
