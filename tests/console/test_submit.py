"""The console's submit to Slurm (S) on a workflow that has no Slurm scheduler: it says why, and changes nothing.
Submitting on a real Slurm is tested in tests/slurm/test_rerun_allocations.py."""

from __future__ import annotations

from pathlib import Path

from tests.console.conftest import run, until
from tests.console.test_console import SIZE
from torc_client.console.app import TorcConsole
from torc_client.console.widgets import ConfirmScreen
from torc_client.console.workflow import WorkflowScreen


def test_submit_to_slurm_says_a_workflow_without_a_scheduler_has_nothing_to_submit(client, tmp_path: Path) -> None:
    workflow = client.create_workflow_from_spec({"name": "no_slurm", "jobs": [{"name": "a", "command": "true"}]},
                                                working_dir=str(tmp_path))  # fmt: skip
    app = TorcConsole(client, workflow.id, output_dir=tmp_path / "output", poll_interval=0.2)

    async def scenario() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen) and app.screen.page is not None,
                        "the workflow screen")  # fmt: skip
            await pilot.press("S")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the submit confirmation")
            assert not app.screen.proposal.possible
            assert f"Workflow {workflow.id} has no Slurm scheduler" in "\n".join(app.screen.proposal.lines)
            await pilot.press("y")  # refused: nothing to confirm
            await until(pilot, lambda: isinstance(app.screen, WorkflowScreen), "the workflow screen again")

    run(scenario)
    assert not client.get_workflow(workflow.id).is_initialized
    assert client.list_scheduled_compute_nodes(workflow.id) == []
