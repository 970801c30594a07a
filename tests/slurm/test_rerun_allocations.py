"""Allocations for a rerun and from the console, on a real Slurm: `torc jobs reset-status -r` submits what the rerun
jobs need and nothing more, and the console's `S` submits a workflow that has not run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.console.conftest import run, until
from tests.console.test_console import SIZE
from tests.slurm.conftest import squeue, wait_for
from torc_client import Client
from torc_client.console.app import TorcConsole
from torc_client.console.widgets import ConfirmScreen
from torc_client.console.workflow import WorkflowScreen

pytestmark = pytest.mark.usefixtures("slurm_cluster")

#: Jobs declare 10 s and keep 30 s of a two-minute allocation for its end: every job fits at once.
SPEC = {"compute_node_expiration_buffer_seconds": 30,
        "resource_requirements": [{"name": "one", "num_cpus": 1, "memory": "100m", "runtime": "PT10S"}],
        "slurm_schedulers": [{"name": "two_minutes", "account": "test", "walltime": "2"}],
        "actions": [{"trigger_type": "on_workflow_start", "action_type": "schedule_nodes",
                     "scheduler": "two_minutes", "scheduler_type": "slurm"}]}  # fmt: skip


def allocations(client: Client, workflow_id: int) -> list[str]:
    return [a.slurm_job_id for a in client.list_scheduled_compute_nodes(workflow_id)]


def test_jobs_reset_status_r_submits_an_allocation_for_the_rerun_jobs_only(cli, server, tmp_path: Path,
                                                                          monkeypatch) -> None:  # fmt: skip
    monkeypatch.setenv("TORC_HPC_PROFILE", "local")
    spec = {**SPEC, "name": "rerun_allocations", "jobs": [
        {"name": "fine", "command": "true", "resource_requirements": "one"},
        {"name": "twice", "command": "test -f twice.marker || { touch twice.marker; exit 2; }",
         "resource_requirements": "one"},
        {"name": "after", "command": "true", "resource_requirements": "one", "depends_on": ["twice"]}]}  # fmt: skip
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    [first] = json.loads(cli("-f", "json", "submit", "spec.yaml").stdout)
    workflow_id = first["workflow_id"]
    with Client(server.url) as client:
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 90, "the first run to finish")
        ended = {j.name: j.status for j in client.list_jobs(workflow_id)}
        assert ended["fine"] == "completed" and ended["twice"] == "failed" and ended["after"] != "completed"
        wait_for(lambda: not squeue([first["scheduler_id"]]), 60, "the first allocation to end")
        rerun = cli("jobs", "reset-status", str(workflow_id), "--return-code", "2", "-r")
        ids = allocations(client, workflow_id)
        assert len(ids) == 2 and f"submitted Slurm allocation {ids[1]} for the rerun" in rerun.stderr, rerun.stderr
        wait_for(lambda: client.workflow_status(workflow_id).is_complete, 90, "the rerun to finish")
        assert client.workflow_status(workflow_id).job_counts == {"completed": 3}
        names = {j.id: j.name for j in client.list_jobs(workflow_id)}
        runs = Counter(names[r.job_id] for r in client.list_results(workflow_id, all_runs=True))
        assert runs == Counter({"fine": 1, "twice": 2, "after": 1}), "the job that completed ran once"
        # A second reset with nothing left to run needs no allocation: none is submitted.
        again = cli("jobs", "reset-status", str(workflow_id), "--return-code", "7", "-r", check=False)
        assert allocations(client, workflow_id) == ids, again.stderr
        wait_for(lambda: not squeue(ids), 60, "the allocations to leave the queue")


def test_the_console_submits_a_workflow_to_slurm_after_saying_what_it_asks_for(client, server, tmp_path: Path,
                                                                               monkeypatch) -> None:  # fmt: skip
    monkeypatch.setenv("TORC_HPC_PROFILE", "local")
    spec = {**SPEC, "name": "console_submit",
            "jobs": [{"name": f"j{i}", "command": "true", "resource_requirements": "one"} for i in range(3)]}
    workflow = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
    app = TorcConsole(client, workflow.id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                        "the workflow screen")  # fmt: skip
            await pilot.press("S")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the submit confirmation")
            said = "\n".join(app.screen.proposal.lines)
            assert "Run 1 start-of-workflow action(s): 1 Slurm allocation(s)" in said, said
            assert allocations(client, workflow.id) == [], "the preview submitted nothing"
            await pilot.press("y")
            await until(pilot, lambda: len(allocations(client, workflow.id)) == 1, "the allocation submitted")

    run(scenario)
    ids = allocations(client, workflow.id)
    wait_for(lambda: client.workflow_status(workflow.id).job_counts == {"completed": 3}, 90, "the jobs to run")
    wait_for(lambda: not squeue(ids), 60, "the allocation to leave the queue")
