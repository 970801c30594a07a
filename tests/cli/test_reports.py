"""`torc reports`: a real runner runs a workflow with one job over its memory, one that fails twice, one fine."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Cli

MIB = 1 << 20
SPEC = {
    "name": "reported",
    "resource_monitor": {"sample_interval_seconds": 0.2},
    "resource_requirements": [{"name": "small", "num_cpus": 1, "memory": "50m", "runtime": "PT1M"}],
    "jobs": [
        {"name": "hog", "command": "python3 -c \"import time; b = b'x' * (150 << 20); time.sleep(1.5)\"",
         "resource_requirements": "small"},
        {"name": "breaks", "command": "echo oops >&2; exit 1", "failure_handler": "again"},
        {"name": "fine", "command": "echo fine"},
    ],
    "failure_handlers": [{"name": "again", "rules": [{"exit_codes": [1], "max_retries": 2}]}],
}  # fmt: skip


@pytest.fixture(scope="module")
def reported(server, tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, int]:
    """The workflow after its run: `breaks` failed on both of its attempts."""
    cli = Cli(server.url, tmp_path_factory.mktemp("reports"))
    (cli.cwd / "spec.json").write_text(json.dumps(SPEC))
    first = cli("run", "spec.json", "-p", "0.2", check=False)
    assert first.returncode == 1
    wid = int(re.search(r"Created workflow (\d+)", first.stderr).group(1))
    return cli, wid


def report(cli: Cli, *args: str) -> dict:
    return json.loads(cli("reports", *args, "-f", "json").stdout)


def test_check_resource_utilization_names_the_job_over_its_memory_and_suggests_a_request(reported) -> None:
    cli, wid = reported
    found = report(cli, "check-resource-utilization", str(wid))
    assert (found["jobs_checked"], found["over_utilization_count"], found["failed"]) == (2, 1, None)
    assert found["under_utilization_count"] == 1  # fine: a fraction of its CPU and runtime, listed with --all
    (hog,) = found["jobs"]
    assert (hog["job_name"], hog["requirements_name"], hog["requested_memory_bytes"]) == ("hog", "small", 50 * MIB)
    assert hog["peak_memory_bytes"] > 150 * MIB and hog["memory_over_percent"] > 200
    assert "memory" in hog["violations"] and "runtime" in hog["underused"]
    small = next(g for g in found["groups"] if g["requirements_name"] == "small")
    assert small["verdict"] == "too small" and small["suggested_memory_bytes"] >= 1.2 * hog["peak_memory_bytes"]
    assert 0 < hog["avg_memory_bytes"] <= hog["peak_memory_bytes"] and 0 <= hog["avg_cpu_percent"] <= hog["peak_cpu_percent"]
    # The group's averages are the mean of its jobs' averages: here one job.
    assert (small["avg_memory_bytes"], small["avg_cpus"]) == (hog["avg_memory_bytes"], hog["avg_cpu_percent"] / 100)
    table = cli("reports", "check-resource-utilization", str(wid)).stdout
    assert "2 completed jobs checked; 1 job used more than it asked for; 1 used less than half of some request " \
           "(listed with --all)" in " ".join(table.split())  # fmt: skip
    assert "peak · avg / asked" in table
    assert "hog" in table and "memory +" in table and "fine" not in table


def test_check_resource_utilization_all_and_include_failed_adds_every_job_and_the_diagnosis(reported) -> None:
    cli, wid = reported
    found = report(cli, "check-resource-utilization", str(wid), "--all", "--include-failed")
    assert [j["job_name"] for j in found["jobs"]] == ["hog", "fine"]
    (breaks,) = found["failed"]
    assert (breaks["job_name"], breaks["status"], breaks["return_code"], breaks["failure"], breaks["attempt_id"]) == (
        "breaks", "failed", 1, "other", 2)  # fmt: skip
    table = cli("reports", "check-resource-utilization", str(wid), "--include-failed").stdout
    assert "Failed jobs: 1" in table and "breaks" in table


def test_summary_counts_times_the_slowest_and_points_at_the_failed_jobs_logs(reported) -> None:
    cli, wid = reported
    found = report(cli, "summary", str(wid))
    assert [found[k] for k in ("workflow_id", "workflow_name", "total_jobs", "run_id")] == [wid, "reported", 3, 1]
    assert {s: n for s, n in found["jobs_by_status"].items() if n} == {"completed": 2, "failed": 1}
    assert not found["all_completed"]
    assert found["total_exec_seconds"] >= 1.5 and found["walltime_seconds"] >= found["slowest_jobs"][0]["exec_seconds"]
    assert found["slowest_jobs"][0]["job_name"] == "hog"
    spent = found["exec_seconds_by_status"]
    assert list(spent) == ["completed", "failed"] and spent["completed"] >= 1.5
    assert sum(spent.values()) == pytest.approx(found["total_exec_seconds"])
    (breaks,) = found["failed_jobs"]
    # The runner recorded its output directory when it started: the path is exact, wherever the report runs.
    assert breaks["stderr"] == f"{cli.cwd.resolve()}/output/job_stdio/job_wf{wid}_j{breaks['job_id']}_r1_a2.e"
    assert Path(breaks["stderr"]).read_text() == "oops\n"
    shown = cli("reports", "summary", str(wid))
    assert "Failed jobs: 1" in shown.stdout and breaks["stderr"] in shown.stdout
    assert re.search(r"│ completed\s+│\s+2 │\s+\d+\.\ds │", shown.stdout)
    assert "completed successfully" not in shown.stdout
    assert "the server does not record it" not in shown.stderr  # no path is assumed


def test_results_lists_every_attempt_with_its_logs(reported) -> None:
    cli, wid = reported
    found = report(cli, "results", str(wid))
    assert found["log_pattern"] == "output/job_stdio/job_wf{workflow_id}_j{job_id}_r{run_id}_a{attempt_id}.o|.e"
    attempts = [(r["job_name"], r["run_id"], r["attempt_id"], r["status"], r["return_code"]) for r in found["results"]]
    assert attempts == [("hog", 1, 1, "completed", 0), ("breaks", 1, 1, "failed", 1), ("breaks", 1, 2, "failed", 1),
                        ("fine", 1, 1, "completed", 0)]  # fmt: skip
    assert all(Path(cli.cwd / r["stdout"]).is_file() and Path(cli.cwd / r["stderr"]).is_file()
               for r in found["results"])  # fmt: skip
    assert [r["failure"] for r in found["results"]] == [None, "other", "other", None]
    assert "job_stdio/job_wf" in cli("reports", "results", str(wid)).stdout


def test_reports_of_a_workflow_where_nothing_went_wrong(cli: Cli) -> None:
    (cli.cwd / "quick.json").write_text(json.dumps({"name": "quick", "jobs": [{"name": "q", "command": "true"}]}))
    wid = int(re.search(r"Created workflow (\d+)", cli("run", "quick.json", "-p", "0.2").stderr).group(1))
    assert "no job used more than it asked for" in cli("reports", "check-resource-utilization", str(wid)).stdout
    assert "All 1 job completed successfully" in cli("reports", "summary", str(wid)).stdout


@pytest.mark.parametrize("command", ["summary", "results", "check-resource-utilization"])
def test_reports_of_a_missing_workflow_fail_clearly(cli: Cli, command: str) -> None:
    result = cli("reports", command, "999999999", check=False)
    assert result.returncode == 1
    assert "workflow 999999999 does not exist" in result.stderr and not result.stdout
