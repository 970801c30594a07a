"""`torc jobs why` and `torc workflows execution-plan`: through the API, the client and the `torc` executable."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from torc_client import Client
from torc_client import contract as c
from torc_client.core.errors import NotFoundError


def diamond(**middle) -> dict:
    """top -> left, right -> bottom; `middle` adds keys to left and right."""
    return {"name": "diamond", "jobs": [
        {"name": "top", "command": "true"},
        {"name": "left", "command": "true", "depends_on": ["top"], **middle},
        {"name": "right", "command": "true", "depends_on": ["top"], **middle},
        {"name": "bottom", "command": "true", "depends_on": ["left", "right"]}]}  # fmt: skip


def job_ids(client: Client, workflow_id: int) -> dict[str, int]:
    return {job.name: job.id for job in client.list_jobs(workflow_id)}


def claim_one(client: Client, workflow_id: int) -> tuple[int, c.ClaimedJob]:
    node = client.register_compute_node(c.ComputeNodeCreate(workflow_id=workflow_id, hostname="h", pid=os.getpid(),
                                                            num_cpus=4, memory_gb=8))  # fmt: skip
    jobs = client.claim(workflow_id, c.ClaimRequest(compute_node_id=node.id, limit=1, ignore_resources=True)).jobs
    assert len(jobs) == 1
    return node.id, jobs[0]


def start(client: Client, workflow_id: int, node: int, job: c.ClaimedJob) -> None:
    client.report_start(workflow_id, c.StartReport(compute_node_id=node, jobs=[
        c.JobStart(job_id=job.id, claim_token=job.claim_token)]))  # fmt: skip


def finish(client: Client, workflow_id: int, node: int, job: c.ClaimedJob, status: str) -> None:
    report = client.report_complete(workflow_id, c.CompleteReport(compute_node_id=node, outcomes=[
        c.JobOutcome(job_id=job.id, claim_token=job.claim_token, status=status, return_code=0 if status == "completed"
                     else 1, exec_time_minutes=0.01, completion_time="2026-01-01T00:00:00.000Z")]))  # fmt: skip
    assert report.accepted == [job.id]


# --- why ---------------------------------------------------------------------------------


def test_why_of_the_bottom_of_a_diamond_names_the_running_top_as_its_root(client: Client, make_workflow) -> None:
    wf = make_workflow(diamond(), initialize=True)
    ids = job_ids(client, wf.id)
    node, top = claim_one(client, wf.id)
    start(client, wf.id, node, top)

    why = client.job_why(ids["bottom"])

    assert (why.job.status, why.num_upstream, why.num_waiting_on) == ("blocked", 2, 2)
    assert [(r.name, r.status, r.num_waiting_on) for r in why.waiting_on] == [("left", "blocked", 1),
                                                                             ("right", "blocked", 1)]  # fmt: skip
    assert [(r.id, r.name, r.status) for r in why.roots] == [(ids["top"], "top", "running")]
    assert (why.num_roots, why.walk_complete, why.jobs_read) == (1, True, 3)
    assert why.verdict == (f"job {ids['bottom']} (bottom) is blocked: it waits for 2 jobs: left (blocked), "
                           "right (blocked); at the root of those, 1 job not blocked: top (running)")  # fmt: skip


def test_why_of_a_job_canceled_by_a_failure_names_the_failed_job(client: Client, make_workflow) -> None:
    wf = make_workflow(diamond(), initialize=True)
    ids = job_ids(client, wf.id)
    node, top = claim_one(client, wf.id)
    finish(client, wf.id, node, top, "failed")

    why = client.job_why(ids["bottom"])

    assert why.job.status == "canceled"
    assert [(r.name, r.status) for r in why.canceled_by] == [("top", "failed")]
    assert why.roots == [] and why.waiting_on == []
    assert "canceled because upstream jobs did not succeed: top (failed)" in why.verdict


def test_why_lists_the_jobs_that_run_anyway_after_a_failure_as_roots(client: Client, make_workflow) -> None:
    wf = make_workflow(diamond(cancel_on_blocking_job_failure=False), initialize=True)
    ids = job_ids(client, wf.id)
    node, top = claim_one(client, wf.id)
    finish(client, wf.id, node, top, "failed")

    why = client.job_why(ids["bottom"])

    assert why.job.status == "blocked"
    assert [(r.name, r.status) for r in why.roots] == [("left", "ready"), ("right", "ready")]
    assert [(r.name, r.status) for r in why.waiting_on] == [("left", "ready"), ("right", "ready")]
    assert "waits for 2 jobs: left (ready), right (ready)" in why.verdict
    assert "at the root" not in why.verdict


def test_why_names_an_input_file_that_does_not_exist_and_one_not_produced_yet(client: Client, make_workflow) -> None:
    spec = {"name": "inputs", "jobs": [
        {"name": "prepare", "command": "true", "input_files": ["raw"], "output_files": ["mid"],
         "output_user_data": ["cfg"]},
        {"name": "use", "command": "true", "input_files": ["mid"], "input_user_data": ["cfg"]}],
        "files": [{"name": "raw", "path": "raw.csv"}, {"name": "mid", "path": "mid.csv"}],
        "user_data": [{"name": "cfg"}]}  # fmt: skip
    wf = make_workflow(spec)
    client.initialize_workflow(wf.id, force=True)  # raw.csv is missing: only force lets the run open
    ids = job_ids(client, wf.id)

    prepare, use = client.job_why(ids["prepare"]), client.job_why(ids["use"])

    assert prepare.job.status == "ready"
    assert [(m.kind, m.name, m.path, m.producer) for m in prepare.missing_files] == [("file", "raw", "raw.csv", None)]
    assert "raw" in prepare.verdict and "no job writes it" in prepare.verdict
    assert [(m.name, m.producer.name, m.producer.status) for m in use.missing_files] == [("mid", "prepare", "ready")]
    assert [(m.kind, m.name, m.producer.name) for m in use.missing_user_data] == [("user_data", "cfg", "prepare")]
    assert use.missing_files[0].reason == "not produced yet: prepare (ready) writes it"
    assert use.verdict == f"job {ids['use']} (use) is blocked: it waits for 1 job: prepare (ready)"


def test_why_counts_every_root_but_lists_only_as_many_as_asked(client: Client, make_workflow) -> None:
    spec = {"name": "fan_in", "jobs": [
        {"name": "src_{i}", "command": "true", "parameters": {"i": "1:5"}},
        {"name": "mid_{i}", "command": "true", "depends_on": ["src_{i}"], "parameters": {"i": "1:5"}},
        {"name": "sink", "command": "true", "depends_on_regexes": ["^mid_"]}]}  # fmt: skip
    wf = make_workflow(spec, initialize=True)

    why = client.job_why(job_ids(client, wf.id)["sink"], max_roots=2)

    assert (why.num_waiting_on, len(why.waiting_on), why.num_roots, len(why.roots)) == (5, 5, 5, 2)
    assert "at the root of those, 5 jobs not blocked: src_1 (ready), src_2 (ready) and 3 more" in why.verdict


def test_why_of_a_completed_job_says_it_is_done(client: Client, make_workflow) -> None:
    wf = make_workflow(diamond(), initialize=True)
    node, top = claim_one(client, wf.id)
    finish(client, wf.id, node, top, "completed")

    why = client.job_why(top.id)

    assert why.verdict == f"job {top.id} (top) is done: completed; it waits for nothing"


def test_why_before_initialisation_says_so(client: Client, make_workflow) -> None:
    wf = make_workflow(diamond())
    why = client.job_why(job_ids(client, wf.id)["left"])
    assert why.job.status == "uninitialized" and not why.workflow_initialized
    assert f"workflow {wf.id} is not initialized" in why.verdict and "top (uninitialized)" in why.verdict


def test_why_of_a_missing_job_is_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError, match="job 999999999 does not exist"):
        client.job_why(999999999)


def test_cli_why_prints_the_verdict_and_tables_or_the_record(cli, client: Client, make_workflow) -> None:
    wf = make_workflow(diamond(), initialize=True)
    ids = job_ids(client, wf.id)
    node, top = claim_one(client, wf.id)
    start(client, wf.id, node, top)

    table = cli("jobs", "why", str(ids["bottom"])).stdout
    record = json.loads(cli("jobs", "why", str(ids["bottom"]), "-f", "json").stdout)

    assert table.splitlines()[0].startswith(f"job {ids['bottom']} (bottom) is blocked")
    assert "│ top  │ running" in table and "│ left  │ blocked" in table
    assert [r["name"] for r in record["roots"]] == ["top"] and record["num_waiting_on"] == 2


def test_cli_why_of_a_missing_job_fails_cleanly(cli) -> None:
    result = cli("jobs", "why", "999999999", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == "Error: Not found: job 999999999 does not exist"


# --- execution plan ----------------------------------------------------------------------------


def test_execution_plan_of_a_diamond_has_stages_of_1_2_1_jobs(client: Client, make_workflow) -> None:
    spec = diamond(resource_requirements="big")
    spec["resource_requirements"] = [{"name": "big", "num_cpus": 4, "memory": "2g", "runtime": "PT2H"}]
    wf = make_workflow(spec, initialize=True)

    plan = client.execution_plan(wf.id)

    assert [s.num_jobs for s in plan.stages] == [1, 2, 1] and plan.num_jobs == 4
    assert [s.job_names for s in plan.stages] == [["top"], ["left", "right"], ["bottom"]]
    assert [s.job_counts for s in plan.stages] == [{"ready": 1}, {"blocked": 2}, {"blocked": 1}]
    assert [(r.name, r.num_jobs, r.num_cpus, r.memory) for r in plan.stages[1].resource_requirements] == [
        ("big", 2, 4, "2g")]  # fmt: skip


def test_execution_plan_lists_only_the_first_names_of_a_stage(client: Client, make_workflow) -> None:
    wf = make_workflow({"name": "wide", "jobs": [{"name": "j{i}", "command": "true", "parameters": {"i": "1:7"}}]})
    plan = client.execution_plan(wf.id, names_per_stage=3)
    assert [(s.num_jobs, s.job_names, s.job_counts) for s in plan.stages] == [(7, ["j1", "j2", "j3"],
                                                                              {"uninitialized": 7})]  # fmt: skip


def test_cli_execution_plan_of_a_workflow_and_of_its_spec_file_agree(cli, make_workflow, tmp_path: Path) -> None:
    wf = make_workflow(diamond())
    spec_file = tmp_path / "diamond.yaml"
    spec_file.write_text(yaml.safe_dump(diamond()))

    table = cli("workflows", "execution-plan", str(wf.id)).stdout
    offline = json.loads(cli("workflows", "execution-plan", str(spec_file), "-f", "json", env={
        "TORC_API_URL": "http://127.0.0.1:9/none"}).stdout)  # no server needed for a spec file  # fmt: skip

    assert f"workflow {wf.id} (diamond): 4 jobs in 3 stages" in table
    rows = [line.split("│")[1:4] for line in table.splitlines() if line.startswith("│ ") and "Stage" not in line]
    assert [[cell.strip() for cell in row] for row in rows] == [["1", "1", "top"], ["2", "2", "left, right"],
                                                                ["3", "1", "bottom"]]  # fmt: skip
    assert [(s["num_jobs"], s["job_names"]) for s in offline["stages"]] == [(1, ["top"]), (2, ["left", "right"]),
                                                                            (1, ["bottom"])]  # fmt: skip
    assert offline["spec_file"] == str(spec_file) and offline["workflow_id"] is None


def test_cli_execution_plan_of_a_missing_workflow_fails_cleanly(cli) -> None:
    result = cli("workflows", "execution-plan", "999999999", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == "Error: Not found: workflow 999999999 does not exist"
