"""Executing workflow actions: claim each pending one, then run its commands or submit its allocations.

Used by `torc submit` on the login node (no compute node: the start-of-workflow
allocations) and by runners (every other action). The claim decides who executes: an
action someone else claimed first is skipped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Collection
from pathlib import Path

from torc_client.client import Client
from torc_client.contract import ScheduledComputeNodeCreate, WorkflowAction
from torc_client.core.errors import ConflictError
from torc_client.hpc import slurm

Log = Callable[[str], None]


def run_pending(client: Client, workflow_id: int, output_dir: Path, *, node_id: int | None = None,
                triggers: Collection[str] | None = None, log: Log = print) -> list[WorkflowAction]:  # fmt: skip
    """Claim and execute every pending action (of `triggers`, if given); returns those this caller executed."""
    executed = []
    for action in client.list_actions(workflow_id, pending=True, compute_node_id=node_id):
        if triggers is not None and action.trigger_type not in triggers:
            continue
        try:
            claimed = client.claim_action(action.id, node_id)
        except ConflictError:
            continue  # another runner (or API process) took it first
        execute(client, claimed, output_dir, log)
        executed.append(claimed)
    return executed


def execute(client: Client, action: WorkflowAction, output_dir: Path, log: Log = print) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    if action.action_type == "run_commands":
        for command in action.action_config.get("commands", []):
            done = subprocess.run(["bash", "-c", command], cwd=output_dir, check=False)
            if done.returncode != 0:
                log(f"action {action.id}: command exited {done.returncode}: {command}")
        return
    ids = schedule_nodes(client, action.workflow_id, action.action_config, output_dir, action.id)
    log(f"action {action.id} ({action.trigger_type}): submitted Slurm allocation{'s' if len(ids) != 1 else ''} "
        f"{', '.join(ids)}")  # fmt: skip


def schedule_nodes(client: Client, workflow_id: int, config: dict, output_dir: Path,
                   action_id: int | None = None) -> list[str]:  # fmt: skip
    """Submit `num_allocations` allocations of a Slurm scheduler and record each; returns the Slurm job ids."""
    scheduler = client.get_slurm_scheduler(config["scheduler_id"])
    workflow = client.get_workflow(workflow_id)
    runner = slurm.RunnerCommand(api_url=client.url, workflow_id=workflow_id, output_dir=output_dir.resolve(),
                                 start_one_worker_per_node=bool(config.get("start_one_worker_per_node")),
                                 max_parallel_jobs=config.get("max_parallel_jobs"),
                                 enforce_memory=bool(config.get("enforce_memory")))  # fmt: skip
    script = slurm.batch_script(scheduler, workflow.slurm_defaults or {}, runner)
    output_dir.mkdir(parents=True, exist_ok=True)
    ids = []
    for _ in range(int(config.get("num_allocations", 1))):
        path = output_dir / f"slurm_wf{workflow_id}_{scheduler.name}_{len(list(output_dir.glob('slurm_wf*.sh')))}.sh"
        path.write_text(script)
        job_id = slurm.submit(path)
        client.create_scheduled_compute_node(ScheduledComputeNodeCreate(
            workflow_id=workflow_id, scheduler_id=int(job_id), scheduler_config_id=scheduler.id, action_id=action_id))
        ids.append(job_id)
    return ids
