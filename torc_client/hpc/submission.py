"""Submitting a workflow's Slurm allocations from a login node: `torc submit`, the console's submit action, and
the allocations a rerun of chosen jobs needs (`torc jobs reset-status -r`).

At first submission the workflow's own start-of-workflow `schedule_nodes` actions decide what is asked for. After
that, or when it has none, one auto-schedule round (`AutoSchedule.round`, as `torc slurm regenerate --submit`)
asks for allocations sized for the ready jobs that no queued or running allocation can take, and only for those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torc_client.client import Client
from torc_client.core.triggers import Trigger
from torc_client.hpc import actions as workflow_actions
from torc_client.hpc import slurm, unattended
from torc_client.hpc.auto_schedule import AutoSchedule


@dataclass(frozen=True)
class Plan:
    """What a submission would ask Slurm for, read from the server without changing anything."""

    #: Pending start-of-workflow `schedule_nodes` actions, and the allocations they ask for.
    start_actions: int
    start_allocations: int
    #: Allocations an auto-schedule round would add for ready jobs (used when there are no start actions).
    extra: tuple[unattended.Planned, ...]
    #: Why nothing can be submitted (no Slurm here, no scheduler), or None.
    problem: str | None

    def lines(self) -> list[str]:
        if self.problem is not None:
            return [self.problem]
        if self.start_actions:
            return [f"Run {self.start_actions} start-of-workflow action(s): {self.start_allocations} Slurm "
                    "allocation(s), as the workflow's schedulers say; later stages follow as their jobs become ready."]
        if not self.extra:
            return ["No ready job lacks a queued or running allocation that can take it: nothing to submit."]
        return ["Submit allocations for ready jobs no allocation can take:", *(_described(p) for p in self.extra)]


def _described(planned: unattended.Planned) -> str:
    names = ", ".join(planned.jobs[:6]) + (" ..." if len(planned.jobs) > 6 else "")
    return (f"  {planned.allocations} x {planned.name} (partition {planned.partition}, {planned.nodes} node(s), "
            f"{planned.walltime}) for {len(planned.jobs)} job(s): {names}")


def plan(client: Client, workflow_id: int, output_dir: Path) -> Plan:
    """What `submit` would do now."""
    problem = _problem(client, workflow_id)
    if problem is not None:
        return Plan(0, 0, (), problem)
    initialized = client.get_workflow(workflow_id).is_initialized
    # Before the first run every start-of-workflow action will fire; afterwards, those a new run made pending again.
    starts = [a for a in client.list_actions(workflow_id, pending=initialized)
              if a.trigger_type == Trigger.ON_WORKFLOW_START and a.action_type == "schedule_nodes"]  # fmt: skip
    if initialized and not client.workflow_status(workflow_id).job_counts.get("ready", 0):
        return Plan(0, 0, (), None)
    if starts:
        return Plan(len(starts), sum(int(a.action_config.get("num_allocations", 1)) for a in starts), (), None)
    if not initialized:
        return Plan(0, 0, (), "The workflow has not run yet and has no start-of-workflow schedule_nodes action.")
    _, planned, _ = AutoSchedule(workflow_id, output_dir).round(client, lambda _: None, force=True, dry_run=True)
    return Plan(0, 0, tuple(planned), None)


def submit(client: Client, workflow_id: int, output_dir: Path, say: unattended.Say) -> list[str]:
    """Initialise the workflow if it has not run, run its pending start-of-workflow actions, or else submit what its
    ready jobs need; returns the Slurm job ids submitted."""
    if not client.get_workflow(workflow_id).is_initialized:
        for warning in client.initialize_workflow(workflow_id).warnings:
            say(f"warning: {warning}")
    return resubmit(client, workflow_id, output_dir, say)


def resubmit(client: Client, workflow_id: int, output_dir: Path, say: unattended.Say) -> list[str]:
    """Allocations for the ready jobs of a run that has none to take them: the run's pending start-of-workflow
    actions (a new run fires them again), or else allocations sized for the ready jobs that no queued or running
    allocation can take. Nothing for a workflow without a Slurm scheduler, where Slurm is not at hand, or with no
    job ready."""
    problem = _problem(client, workflow_id)
    if problem is not None:
        say(problem)
        return []
    if not client.workflow_status(workflow_id).job_counts.get("ready", 0):
        say(f"no job of workflow {workflow_id} is ready: nothing to submit")
        return []
    before = {n.slurm_job_id for n in client.list_scheduled_compute_nodes(workflow_id)}
    executed = workflow_actions.run_pending(client, workflow_id, output_dir, triggers=(Trigger.ON_WORKFLOW_START,),
                                            log=say)  # fmt: skip
    if any(a.action_type == "schedule_nodes" for a in executed):
        return [n.slurm_job_id for n in client.list_scheduled_compute_nodes(workflow_id) if n.slurm_job_id not in before]
    _, _, ids = AutoSchedule(workflow_id, output_dir).round(client, say, force=True, submit=True)
    return ids


def _problem(client: Client, workflow_id: int) -> str | None:
    if not client.list_slurm_schedulers(workflow_id):
        return f"Workflow {workflow_id} has no Slurm scheduler: its jobs run where runners are started (`torc run`)."
    if not slurm.available():
        return "Slurm's sbatch is not on PATH here: submit from a login node of the cluster."
    return None
