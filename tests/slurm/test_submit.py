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

pytestmark = pytest.mark.usefixtures("slurm_cluster")

SMALL = {"name": "small", "num_cpus": 1, "memory": "100m", "runtime": "PT1M"}


def two_stage() -> dict:
    """Stage 1 starts at submit; stage 2's allocation is asked for when its jobs become ready."""
    return {
        "name": "two-stage", "compute_node_expiration_buffer_seconds": 5, "resource_requirements": [SMALL],
        "slurm_schedulers": [{"name": "stage1", "account": "test", "walltime": "00:05:00"},
                             {"name": "stage2", "account": "test", "walltime": "00:05:00"}],
        "actions": [
            {"trigger_type": "on_workflow_start", "action_type": "schedule_nodes", "scheduler": "stage1",
             "scheduler_type": "slurm"},
            {"trigger_type": "on_jobs_ready", "action_type": "schedule_nodes", "scheduler": "stage2",
             "scheduler_type": "slurm", "job_name_regexes": ["^combine"]}],
        "jobs": [
            {"name": "part{i}", "command": "sleep 1; echo {i} > part{i}.txt", "resource_requirements": "small",
             "parameters": {"i": "1:3"}},
            {"name": "combine", "command": "cat part*.txt > all.txt", "resource_requirements": "small",
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
        start, ready = client.list_actions(workflow_id)
        assert (start.trigger_type, start.executed, start.executed_by) == ("on_workflow_start", True, None)
        assert ready.trigger_type == "on_jobs_ready" and ready.executed and ready.executed_by is not None
        allocations = client.list_scheduled_compute_nodes(workflow_id)
        assert [a.action_id for a in allocations] == [start.id, ready.id]
        ids = [a.scheduler_id for a in allocations]
        wait_for(lambda: not squeue(ids), 60, f"allocations {ids} to leave the queue")
        assert {a.status for a in client.list_scheduled_compute_nodes(workflow_id)} == {"complete"}


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
        ids = [a.scheduler_id for a in client.list_scheduled_compute_nodes(workflow_id)]
        cancelled = cli("cancel", str(workflow_id))
        assert f"Cancelled Slurm allocation {ids[0]}" in cancelled.stderr
        wait_for(lambda: not squeue(ids), 60, f"allocation {ids} to be gone")
        wait_for(lambda: not any(_alive(pid) for pid in pids), 30, "the jobs' processes to be gone")
        assert {a.status for a in client.list_scheduled_compute_nodes(workflow_id)} == {"complete"}
        assert client.workflow_status(workflow_id).is_canceled


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
