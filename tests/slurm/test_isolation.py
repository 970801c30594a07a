"""Inside a real allocation each job is a job step (`srun --exact`): Slurm's cgroups hold it to its memory request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.slurm.conftest import squeue, wait_for
from tests.slurm.test_submit import submit
from torc_client import Client

pytestmark = pytest.mark.usefixtures("slurm_cluster")

#: Fills ~300 MB, three times its 100m request, and holds it for two seconds.
HUNGRY = "python3 -c \"import time; x = bytearray(300 * 2**20); time.sleep(2)\""


def hungry_workflow(name: str, **settings) -> dict:
    return {"name": name, "compute_node_expiration_buffer_seconds": 5, **settings,
            "resource_requirements": [{"name": "small", "num_cpus": 1, "memory": "100m", "runtime": "PT1M"},
                                      {"name": "unstated", "num_cpus": 1, "runtime": "PT1M"}],
            "slurm_schedulers": [{"name": "one", "account": "test", "walltime": "00:05:00", "mem": "1000M"}],
            "actions": [{"trigger_type": "on_workflow_start", "action_type": "schedule_nodes", "scheduler": "one",
                         "scheduler_type": "slurm"}],
            "jobs": [{"name": "hungry", "command": HUNGRY, "resource_requirements": "small"},
                     {"name": "modest", "command": "cat /proc/self/cgroup > modest.cgroup",
                      "resource_requirements": "unstated"}]}  # fmt: skip


def run_to_the_end(cli, server, spec: dict, tmp_path: Path) -> tuple[dict, str]:
    """Submit, wait for the workflow and its allocation to end; the results by job name, and the runner's output."""
    workflow_id = submit(cli, spec, tmp_path)
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 180, "the workflow to complete")
        names = {job.id: job.name for job in client.list_jobs(workflow_id)}
        results = {names[r.job_id]: r for r in client.list_results(workflow_id)}
        (allocation,) = client.list_scheduled_compute_nodes(workflow_id)
    wait_for(lambda: not squeue([allocation.slurm_job_id]), 60, "the allocation to end")
    logs = sorted((tmp_path / "output").glob(f"slurm_output_wf{workflow_id}_sl{allocation.slurm_job_id}.[oe]"))
    return results, "".join(log.read_text(errors="replace") for log in logs)


def test_a_job_under_srun_in_an_allocation_cannot_exceed_its_memory(cli, server, tmp_path: Path) -> None:
    results, runner = run_to_the_end(cli, server, hungry_workflow("srun_oom"), tmp_path)
    assert "each job runs as a job step of Slurm allocation" in runner
    hungry = results["hungry"]
    assert (hungry.status, hungry.return_code) == ("failed", 137)
    assert (results["modest"].status, results["modest"].return_code) == ("completed", 0)
    # The job ran in a job step's own memory cgroup (task/cgroup), not in the runner's (the batch step).
    step = memory_cgroup(tmp_path / "modest.cgroup")
    assert "/step_" in step and "step_batch" not in step
    (stderr,) = (tmp_path / "output" / "job_stdio").glob(f"job_wf*_j{hungry.job_id}_r1_a1.e")
    assert "reached its 100 MiB memory request: killed by Slurm (out of memory" in stderr.read_text()


def test_execution_mode_direct_runs_jobs_as_the_runners_children(cli, server, tmp_path: Path) -> None:
    spec = hungry_workflow("srun_opt_out", execution_config={"mode": "direct"})
    results, runner = run_to_the_end(cli, server, spec, tmp_path)
    assert "jobs run as child processes" in runner
    # Only the allocation's 1000M holds it: its 100m request is not enforced (no --enforce-memory).
    assert {name: (r.status, r.return_code) for name, r in results.items()} == {
        "hungry": ("completed", 0), "modest": ("completed", 0)}
    assert "/step_batch" in memory_cgroup(tmp_path / "modest.cgroup")


def memory_cgroup(path: Path) -> str:
    """The memory cgroup a job wrote from /proc/self/cgroup (v1), or its one v2 cgroup."""
    lines = path.read_text().splitlines()
    return next((line for line in lines if ":memory:" in line), lines[-1])
