"""`torc recover` on a real Slurm: a job out of time gets more, and a new allocation that fits runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.slurm.conftest import squeue, wait_for
from torc_client import Client

pytestmark = pytest.mark.usefixtures("slurm_cluster")


def test_recover_submits_an_allocation_for_the_raised_requirements(cli, server, tmp_path: Path) -> None:
    spec = {
        "name": "recover-on-slurm", "compute_node_expiration_buffer_seconds": 5,
        "resource_requirements": [{"name": "quick", "num_cpus": 1, "memory": "100m", "runtime": "PT3S"}],
        "slurm_schedulers": [{"name": "batch", "account": "test", "walltime": "00:05:00"}],
        "actions": [{"trigger_type": "on_workflow_start", "action_type": "schedule_nodes", "scheduler": "batch",
                     "scheduler_type": "slurm"}],
        "jobs": [{"name": "slow", "command": "sleep 4", "resource_requirements": "quick"},
                 {"name": "after", "command": "echo after", "depends_on": ["slow"], "resource_requirements": "quick"}],
    }  # fmt: skip
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    [first] = json.loads(cli("-f", "json", "submit", "spec.yaml").stdout)
    workflow_id = first["workflow_id"]
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 180, "the first run to end")
        assert client.workflow_status(workflow_id).job_counts == {"terminated": 1, "canceled": 1}
        wait_for(lambda: not squeue([first["scheduler_id"]]) and not client.list_compute_nodes(workflow_id,
                 is_active=True), 120, "the first allocation to end")  # fmt: skip
        done = json.loads(cli("-f", "json", "recover", str(workflow_id)).stdout)
        assert [(r["name"], r["runtime"]) for r in done["raises"]] == [("quick_timeout1", "PT5S")]
        [allocation] = done["allocations"]
        scheduler = {s.name: s for s in client.list_slurm_schedulers(workflow_id)}["batch_timeout1"]
        assert scheduler.walltime == "00:05:00"  # already long enough for PT5S
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 180, "the rerun to end")
        assert client.workflow_status(workflow_id).job_counts == {"completed": 2}
        allocations = {a.slurm_job_id: a.scheduler_config_id for a in client.list_scheduled_compute_nodes(workflow_id)}
        assert allocations[allocation] == scheduler.id and len(allocations) == 2  # the start action did not fire again
        wait_for(lambda: not squeue([allocation]), 60, f"allocation {allocation} to leave the queue")
