"""Workflows on a real Slurm: `torc submit` from the "login node", runners inside allocations, cancellation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import psutil
import pytest
import yaml

from tests.slurm.conftest import squeue, wait_for
from torc_client import Client
from torc_client.hpc import slurm

pytestmark = pytest.mark.usefixtures("slurm_cluster")

SMALL = {"name": "small", "num_cpus": 1, "memory": "100m", "runtime": "PT1M"}


def two_stage() -> dict:
    """Stage 1 starts at submit; stage 2's allocation is asked for when its jobs become ready.

    `combine` may run for ten minutes, longer than stage 1's five-minute allocation: only
    stage 2's allocation can take it, as on a cluster where each stage has its own shape.
    """
    return {
        "name": "two-stage", "compute_node_expiration_buffer_seconds": 5,
        "resource_requirements": [SMALL, {**SMALL, "name": "longer", "runtime": "PT10M"}],
        "slurm_schedulers": [{"name": "stage1", "account": "test", "walltime": "00:05:00"},
                             {"name": "stage2", "account": "test", "walltime": "00:15:00"}],
        "actions": [
            {"trigger_type": "on_workflow_start", "action_type": "schedule_nodes", "scheduler": "stage1",
             "scheduler_type": "slurm"},
            {"trigger_type": "on_jobs_ready", "action_type": "schedule_nodes", "scheduler": "stage2",
             "scheduler_type": "slurm", "job_name_regexes": ["^combine"]}],
        "jobs": [
            {"name": "part{i}", "command": "sleep 1; echo {i} > part{i}.txt", "resource_requirements": "small",
             "parameters": {"i": "1:3"}},
            {"name": "combine", "command": "cat part*.txt > all.txt", "resource_requirements": "longer",
             "depends_on_regexes": ["^part"]}],
    }  # fmt: skip


def submit(cli, spec: dict, tmp_path: Path) -> int:
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    listed = json.loads(cli("-f", "json", "submit", "spec.yaml").stdout)
    assert len(listed) == 1 and listed[0]["status"] == "pending"
    return listed[0]["workflow_id"]


def test_two_stage_workflow_submitted_with_torc_submit(cli, server, tmp_path: Path) -> None:
    workflow_id = submit(cli, two_stage(), tmp_path)
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 180, "the workflow to complete")
        status = client.workflow_status(workflow_id)
        assert status.job_counts == {"completed": 4}
        assert sorted((tmp_path / "all.txt").read_text().split()) == ["1", "2", "3"]
        results = client.list_results(workflow_id, all_runs=True)
        assert Counter(r.job_id for r in results) == Counter({job.id: 1 for job in client.list_jobs(workflow_id)})
        start = client.list_actions(workflow_id)[0]
        assert (start.trigger_type, start.executed, start.executed_by) == ("on_workflow_start", True, None)
        ready = client.list_actions(workflow_id)[1]
        assert ready.trigger_type == "on_jobs_ready" and ready.executed and ready.executed_by is not None
        allocations = client.list_scheduled_compute_nodes(workflow_id)
        (combine,) = [j.id for j in client.list_jobs(workflow_id) if j.name == "combine"]
        (runner,) = [r.compute_node_id for r in results if r.job_id == combine]
        combined_by = [n.scheduler_id for n in client.list_compute_nodes(workflow_id) if n.id == runner]
        assert [a.action_id for a in allocations] == [start.id, ready.id]
        ids = [a.slurm_job_id for a in allocations]
        assert combined_by == ids[1:]  # the second allocation ran the second stage
        wait_for(lambda: not squeue(ids), 60, f"allocations {ids} to leave the queue")
        assert {a.status for a in client.list_scheduled_compute_nodes(workflow_id)} == {"complete"}
    accounted = wait_for(lambda: len(rows := json.loads(cli("-f", "json", "slurm", "sacct", str(workflow_id)).stdout))
                         == 2 and rows, 30, "Slurm's accounting of both allocations")  # fmt: skip
    assert [(row["JobID"], row["State"]) for row in accounted] == [(job, "COMPLETED") for job in ids]


def test_an_idle_allocation_is_given_back_while_another_works_and_both_are_completed(cli, server, tmp_path) -> None:
    # Two allocations, one job: one runner runs it, the other has nothing to do. It leaves after the
    # workflow's idle wait, exit code 0: the remaining work is in the other allocation's hands.
    spec = {**two_stage(), "compute_node_wait_for_new_jobs_seconds": 3,
            "jobs": [{"name": "only", "command": "sleep 20", "resource_requirements": "small"}],
            "actions": [{**two_stage()["actions"][0], "num_allocations": 2}]}  # fmt: skip
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    listed = json.loads(cli("-f", "json", "submit", "spec.yaml").stdout)
    assert len(listed) == 2
    workflow_id = listed[0]["workflow_id"]
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 120, "the workflow to complete")
        ids = [a.slurm_job_id for a in client.list_scheduled_compute_nodes(workflow_id)]
        wait_for(lambda: not squeue(ids), 60, f"allocations {ids} to leave the queue")
    logs = {job: (tmp_path / "output" / f"slurm_output_wf{workflow_id}_sl{job}.e").read_text() for job in ids}
    idle = [job for job, log in logs.items() if "giving the allocation back" in log]
    assert len(idle) == 1 and "started only" not in logs[idle[0]], logs
    accounted = wait_for(lambda: len(rows := json.loads(cli("-f", "json", "slurm", "sacct", str(workflow_id)).stdout))
                         == 2 and rows, 30, "Slurm's accounting of both allocations")  # fmt: skip
    assert [(row["JobID"], row["State"]) for row in accounted] == [(job, "COMPLETED") for job in ids]


def test_cancel_scancels_the_allocations_and_leaves_nothing_running(cli, server, tmp_path: Path) -> None:
    spec = {**two_stage(), "jobs": [{"name": "long{i}", "command": "echo $$ > pid{i}; sleep 300",
                                     "resource_requirements": "small", "parameters": {"i": "1:2"}}],
            "actions": two_stage()["actions"][:1]}  # fmt: skip
    spec["slurm_schedulers"][0]["walltime"] = "00:10:00"
    spec["resource_requirements"] = [{**SMALL, "runtime": "PT5M"}]
    spec["actions"][0]["max_parallel_jobs"] = 2
    workflow_id = submit(cli, spec, tmp_path)
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).job_counts.get("running") == 2, 120, "both jobs to run")
        pids = wait_for(lambda: [int(p.read_text()) for p in sorted(tmp_path.glob("pid*")) if p.read_text().strip()]
                        if len(list(tmp_path.glob("pid*"))) == 2 else None, 30, "the jobs' pid files")  # fmt: skip
        ids = [a.slurm_job_id for a in client.list_scheduled_compute_nodes(workflow_id)]
        cancelled = cli("cancel", str(workflow_id))
        assert f"Cancelled Slurm allocation {ids[0]}" in cancelled.stderr
        wait_for(lambda: not squeue(ids), 60, f"allocation {ids} to be gone")
        wait_for(lambda: not any(_alive(pid) for pid in pids), 30, "the jobs' processes to be gone")
        assert {a.status for a in client.list_scheduled_compute_nodes(workflow_id)} == {"complete"}
        status = wait_for(lambda: (st := client.workflow_status(workflow_id)).job_counts.get("terminated") == 2 and st,
                          30, "the stopped jobs to be recorded terminated")  # fmt: skip
        assert status.is_canceled and status.job_counts == {"terminated": 2}


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_submit_slurm_generates_three_parallel_allocations_for_a_spec_without_slurm_keys(cli, server, tmp_path):
    # Three runners start at once; the one on_worker_start action that is not persistent runs once.
    spec = {"name": "plain", "resource_requirements": [SMALL],
            "actions": [{"trigger_type": "on_worker_start", "action_type": "run_commands",
                         "commands": ["echo $SLURM_JOB_ID >> ../worker_started.txt"]}],
            "jobs": [{"name": "w{i}", "command": "sleep 6", "resource_requirements": "small",
                      "parameters": {"i": "1:6"}}]}  # fmt: skip
    (tmp_path / "plain.yaml").write_text(yaml.safe_dump(spec))
    listed = json.loads(cli("-f", "json", "submit-slurm", "--account", "test", "--profile", "local",
                            "plain.yaml").stdout)  # fmt: skip
    ids = [str(a["scheduler_id"]) for a in listed]
    assert len(ids) == 3
    wait_for(lambda: slurm.states(ids) == dict.fromkeys(ids, "RUNNING"), 60, "three allocations running at once")
    with Client(server.url) as client:
        workflow_id = listed[0]["workflow_id"]
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 120, "the workflow to complete")
        assert client.workflow_status(workflow_id).job_counts == {"completed": 6}
        (scheduler,) = client.list_slurm_schedulers(workflow_id)
        assert (scheduler.partition, scheduler.walltime) == ("debug", "00:02:30")  # 1.5 x 1 min + the 60 s end buffer
        assert len({n.scheduler_id for n in client.list_compute_nodes(workflow_id)}) == 3  # a runner in each
    assert len((tmp_path / "worker_started.txt").read_text().split()) == 1
    wait_for(lambda: not squeue(ids), 60, "the allocations to end")


def submit_one_long_job(cli, tmp_path: Path) -> tuple[int, int]:
    """Submit a workflow of one five-minute job in one allocation; returns its id and the job's pid once it runs."""
    spec = {**two_stage(), "resource_requirements": [{**SMALL, "runtime": "PT10M"}],
            "jobs": [{"name": "long", "command": "echo $$ > pid; sleep 300", "resource_requirements": "small"}],
            "actions": two_stage()["actions"][:1]}  # fmt: skip
    spec["slurm_schedulers"][0]["walltime"] = "00:15:00"
    workflow_id = submit(cli, spec, tmp_path)
    pid = wait_for(lambda: (tmp_path / "pid").exists() and (tmp_path / "pid").read_text().strip(), 120, "the job")
    return workflow_id, int(pid)


def test_sync_status_requeues_the_jobs_of_an_allocation_whose_runner_died(cli, server, tmp_path: Path) -> None:
    workflow_id, pid = submit_one_long_job(cli, tmp_path)
    with Client(server.url) as client:
        (allocation,) = client.list_scheduled_compute_nodes(workflow_id)
        # The node is lost: the runner inside the allocation dies without a word, and the allocation with it.
        runners = [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [])[1:2]
                   and p.info["cmdline"][1].endswith("/torc") and p.info["cmdline"][2:4] == ["run", str(workflow_id)]]
        assert len(runners) == 1, f"expected the allocation's one runner, found {len(runners)}"
        runners[0].kill()
        wait_for(lambda: not squeue([allocation.slurm_job_id]), 30, "the allocation to be gone")
        wait_for(lambda: not _alive(pid), 30, "the job to die with its allocation")
        synced = cli("workflows", "sync-status", str(workflow_id))
        assert "1 allocation marked complete" in synced.stderr and "1 runner whose allocation is gone" in synced.stderr
        assert client.workflow_status(workflow_id).job_counts == {"ready": 1}
        assert client.list_compute_nodes(workflow_id, is_active=True) == []
        assert client.list_scheduled_compute_nodes(workflow_id)[0].status == "complete"
        again = cli("workflows", "sync-status", str(workflow_id))  # nothing left to settle: requeued once
        assert "0 allocations marked complete" in again.stderr
        assert client.workflow_status(workflow_id).job_counts == {"ready": 1}
        cli("cancel", str(workflow_id))


def test_a_scancelled_allocation_returns_its_running_jobs_to_the_queue(cli, server, tmp_path: Path) -> None:
    workflow_id, pid = submit_one_long_job(cli, tmp_path)
    with Client(server.url) as client:
        (allocation,) = client.list_scheduled_compute_nodes(workflow_id)
        slurm.cancel([allocation.slurm_job_id])  # as the user or the scheduler would: SIGTERM to the runner
        wait_for(lambda: client.workflow_status(workflow_id).job_counts == {"ready": 1}, 30, "the job to be requeued")
        wait_for(lambda: not _alive(pid), 30, "the job's process to be gone")
        # Recorded terminated (Slurm's SIGTERM ended the step: -15), then queued again as its next attempt.
        assert [(r.status, r.return_code) for r in client.list_results(workflow_id, all_runs=True)] == [
            ("terminated", -15)]
        assert [j.attempt_id for j in client.list_jobs(workflow_id)] == [2]
        assert any("stopped them" in e.message for e in client.list_events(workflow_id).items)
        assert client.list_compute_nodes(workflow_id, is_active=True) == []
        cli("cancel", str(workflow_id))


def test_one_worker_per_node_starts_a_runner_on_every_node_of_an_allocation(cli, server, tmp_path: Path) -> None:
    spec = {**two_stage(), "actions": [{**two_stage()["actions"][0], "start_one_worker_per_node": True}],
            "jobs": [{"name": "w{i}", "command": "sleep 2", "resource_requirements": "small",
                      "parameters": {"i": "1:4"}}]}  # fmt: skip
    spec["slurm_schedulers"][0]["nodes"] = 2
    workflow_id = submit(cli, spec, tmp_path)
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 120, "the workflow to complete")
        (allocation,) = client.list_scheduled_compute_nodes(workflow_id)
        runners = client.list_compute_nodes(workflow_id)
        assert [n.scheduler_id for n in runners] == [allocation.slurm_job_id] * 2
        assert client.workflow_status(workflow_id).job_counts == {"completed": 4}
        # Both runners see the completion at their next poll and leave: the allocation ends with them.
        wait_for(lambda: not squeue([allocation.slurm_job_id]), 60, "the allocation to end")
