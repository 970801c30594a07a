"""`torc jobs reset-status`: exactly the chosen jobs (and what depends on them) go back and run again."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.cli import fifty_jobs
from tests.cli.fifty_jobs import BAD, GPU_JOBS, OK


@pytest.fixture()
def failed_fifty(client, make_workflow, cli):
    """The 50-job workflow after its first run: 5 jobs exited 2, 5 hit a CUDA error, 1 canceled, 39 completed."""
    wf = make_workflow(fifty_jobs.spec(), initialize=True)
    assert cli("run", str(wf.id), "--poll-interval", "0.2", "--num-gpus", "1", check=False, timeout=300).returncode == 1
    assert fifty_jobs.statuses(client, wf.id) == fifty_jobs.expected_after_first_run()
    return wf


def test_reset_status_by_return_code_reruns_that_family_alone(client, cli, failed_fifty, tmp_path) -> None:
    wid = str(failed_fifty.id)
    out = cli("-f", "json", "jobs", "reset-status", wid, "--return-code", "2", "-r")
    result = json.loads(out.stdout)
    names = {v: k for k, v in fifty_jobs.ids(client, failed_fifty.id).items()}
    assert sorted(names[j] for j in result["selected_job_ids"]) == BAD
    assert sorted(names[j] for j in result["reset_job_ids"]) == sorted(BAD + ["report_0"])
    assert result["updated_count"] == 6
    assert sorted(r["job_name"] for r in result["reinitialized"]["jobs"]) == sorted(BAD + ["report_0"])
    assert result["reinitialized"]["run_id"] == 2
    now = fifty_jobs.statuses(client, failed_fifty.id)
    assert {n: now[n] for n in BAD} == {n: "ready" for n in BAD}
    assert now["report_0"] == "blocked"
    assert {n: now[n] for n in GPU_JOBS} == {n: "failed" for n in GPU_JOBS}

    (tmp_path / "fixed").write_text("")
    cli("run", wid, "--poll-interval", "0.2", "--num-gpus", "1", check=False, timeout=300)
    after = fifty_jobs.statuses(client, failed_fifty.id)
    assert after == {**fifty_jobs.expected_after_first_run(), **{n: "completed" for n in BAD + ["report_0"]}}
    runs = Counter((names[r.job_id], r.run_id) for r in client.list_results(failed_fifty.id, all_runs=True))
    assert {key for key, n in runs.items() if key[1] == 2} == {(n, 2) for n in BAD + ["report_0"]}
    assert all(runs[(n, 1)] == 1 and (n, 2) not in runs for n in GPU_JOBS + OK)


def test_reset_status_by_ids_and_status_resets_only_those(client, cli, failed_fifty) -> None:
    by_name = fifty_jobs.ids(client, failed_fifty.id)
    wid = str(failed_fifty.id)
    cli("jobs", "reset-status", wid, str(by_name["gpu_3"]), str(by_name["ok_7"]))
    now = fifty_jobs.statuses(client, failed_fifty.id)
    changed = {n for n, s in now.items() if s != fifty_jobs.expected_after_first_run()[n]}
    assert changed == {"gpu_3", "ok_7"}
    assert now["gpu_3"] == now["ok_7"] == "uninitialized"

    done = cli("jobs", "reset-status", wid, "--status", "canceled")
    assert "Reset 1 job" in done.stderr
    assert fifty_jobs.statuses(client, failed_fifty.id)["report_0"] == "uninitialized"
    assert client.workflow_status(failed_fifty.id).job_counts["uninitialized"] == 3

    # Ids and filters narrow each other: of these two, only the failed one.
    cli("jobs", "reset-status", wid, str(by_name["gpu_1"]), str(by_name["ok_1"]), "--status", "failed")
    now = fifty_jobs.statuses(client, failed_fifty.id)
    assert (now["gpu_1"], now["ok_1"]) == ("uninitialized", "completed")


def test_reset_status_names_missing_jobs_and_workflows(client, cli, failed_fifty, make_workflow) -> None:
    wid = str(failed_fifty.id)
    missing = cli("jobs", "reset-status", wid, "999999999", check=False)
    assert missing.returncode == 1
    assert "job 999999999" in missing.stderr and "not found" in missing.stderr.lower()
    other = make_workflow({"name": "other", "jobs": [{"name": "x", "command": "true"}]})
    foreign = client.list_jobs(other.id)[0].id
    elsewhere = cli("jobs", "reset-status", wid, str(foreign), check=False)
    assert elsewhere.returncode == 1 and f"belongs to workflow {other.id}" in elsewhere.stderr
    no_workflow = cli("jobs", "reset-status", "999999999", "--status", "failed", check=False)
    assert no_workflow.returncode == 1 and "workflow 999999999" in no_workflow.stderr
    nothing = cli("jobs", "reset-status", wid, check=False)
    assert nothing.returncode == 2 and "choose the jobs" in nothing.stderr
    assert fifty_jobs.statuses(client, failed_fifty.id) == fifty_jobs.expected_after_first_run()
