"""The steps that several commands share: read a spec, create or find a workflow, initialise it, submit,
cancel and settle its Slurm allocations.

Command modules only parse their options, call these (or the client) and render; a step never imports
a command, so no command depends on another.
"""

from __future__ import annotations

import time
from pathlib import Path

from torc_client import contract as c
from torc_client.cli import progress, render
from torc_client.client import Client
from torc_client.core import allocations, errors
from torc_client.core.allocations import AllocationStatus
from torc_client.core.triggers import Trigger
from torc_client.hpc import actions as workflow_actions
from torc_client.hpc import generate as slurm_generate
from torc_client.hpc import profiles as hpc_profiles
from torc_client.hpc import slurm
from torc_client.spec import (
    WorkflowPlan,
    build_plan,
    format_from_filename,
    load_spec_text,
)

#: How long a command waits for another request's initialisation of the same workflow to open its run.
INIT_WAIT_SECONDS = 60.0


def read_spec_file(spec_file: str) -> str:
    """The text of a spec file, or SpecError saying why it cannot be read."""
    try:
        return Path(spec_file).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise errors.SpecError("", f"cannot read the spec file {spec_file}: {reason}") from None


def plan_spec_file(spec_file: str) -> WorkflowPlan:
    """The plan of a spec file, or SpecError naming the file and every problem in it."""
    text = read_spec_file(spec_file)
    return build_plan(load_spec_text(text, format_from_filename(Path(spec_file).name), source=spec_file))


def create_from_file(client: Client, spec_file: str, working_dir: str | None) -> c.Workflow:
    """Create a workflow from a spec file (YAML, JSON, JSON5 or KDL, by extension; else detected)."""
    text = read_spec_file(spec_file)
    try:
        with progress.creation_progress(spec_file) as show:
            return client.create_workflow_from_spec(text, format_from_filename(Path(spec_file).name), progress=show,
                                                    working_dir=str(Path(working_dir or Path.cwd()).resolve()))  # fmt: skip
    except errors.ValidationError as exc:
        exc.problem_doc.setdefault("spec_file", spec_file)
        raise


def resolve_workflow(client: Client, spec_or_id: str, working_dir: str | None) -> int:
    """The id of the workflow to run: an existing spec file is created first, anything else must be an id."""
    if Path(spec_or_id).is_file():
        workflow = create_from_file(client, spec_or_id, working_dir)
        render.message(f"Created workflow {workflow.id}")
        return workflow.id
    if spec_or_id.isdigit():
        return int(spec_or_id)
    raise errors.SpecError("", f"{spec_or_id} is neither a spec file nor a workflow id")


def ensure_initialized(client: Client, workflow_id: int, force: bool = False, created: bool = False) -> None:
    """Initialise the workflow unless it was; one created by this command is deleted again if that fails."""
    if client.get_workflow(workflow_id).is_initialized:
        return
    try:
        result = client.initialize_workflow(workflow_id, force=force)
    except errors.ApiError as error:
        if error.status_code == 409 and _initialised_by_another(client, workflow_id):
            return
        if created:  # a retry would otherwise leave one more uninitialised copy behind each time
            client.delete_workflow(workflow_id)
            render.message(f"Deleted workflow {workflow_id} again: it could not be initialised")
        raise
    for warning in result.warnings:
        render.message(f"warning: {warning}")


def _initialised_by_another(client: Client, workflow_id: int, wait: float = INIT_WAIT_SECONDS) -> bool:
    """Whether another request (a runner started at the same moment on another host, say) initialised the workflow
    while this one tried: waits up to `wait` seconds for its run to open."""
    deadline = time.monotonic() + wait
    while True:
        if client.get_workflow(workflow_id).is_initialized:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def submit_workflow(client: Client, workflow_id: int, output_dir: Path) -> list[str]:
    """Initialise if needed, then run the start-of-workflow schedule_nodes actions from here; returns Slurm ids."""
    ensure_initialized(client, workflow_id)
    executed = workflow_actions.run_pending(client, workflow_id, output_dir, triggers=(Trigger.ON_WORKFLOW_START,),
                                            log=render.message)  # fmt: skip
    if not any(a.action_type == "schedule_nodes" for a in executed):
        render.message(f"workflow {workflow_id} has no pending on_workflow_start schedule_nodes action: nothing was "
                       "submitted (add one, or use `torc slurm schedule-nodes`)")  # fmt: skip
    return [n.slurm_job_id for n in client.list_scheduled_compute_nodes(workflow_id)]


def cancel_allocations(client: Client, workflow_id: int) -> list[str]:
    """`scancel` a workflow's allocations that are still pending or active, and mark them complete."""
    live = [n for n in client.list_scheduled_compute_nodes(workflow_id) if n.status in allocations.LIVE]
    if not live:
        return []
    slurm.cancel([n.slurm_job_id for n in live])
    for node in live:
        client.update_scheduled_compute_node(node.id, AllocationStatus.COMPLETE)
    return [n.slurm_job_id for n in live]


def sync_status(client: Client, workflow_id: int) -> tuple[list[str], list[int]]:
    """Settle what Slurm says is over: allocations that ended are complete, and the runners that worked in them sign
    off (their jobs go back to the queue at once, instead of when their leases run out).

    Returns the allocations marked complete and the compute nodes signed off.
    """
    allocations = client.list_scheduled_compute_nodes(workflow_id)
    runners = [n for n in client.list_compute_nodes(workflow_id, is_active=True) if n.scheduler_id]
    ids = sorted({a.slurm_job_id for a in allocations} | {n.scheduler_id for n in runners})
    live = {job for job, status in slurm.states(ids).items() if status in slurm.LIVE_STATES}
    ended = [a for a in allocations if a.status != AllocationStatus.COMPLETE and a.slurm_job_id not in live]
    for allocation in ended:
        client.update_scheduled_compute_node(allocation.id, AllocationStatus.COMPLETE)
    orphaned = [n for n in runners if n.scheduler_id not in live]
    for node in orphaned:
        client.deactivate_compute_node(node.id)
    return [a.slurm_job_id for a in ended], [n.id for n in orphaned]


def generated_spec(spec_file: str, account: str, profile_name: str | None,
                   shaping: slurm_generate.Shaping | None = None, dry_run: bool = False,
                   fmt: str = "table") -> dict | None:  # fmt: skip
    """A spec file with Slurm schedulers and stage-aware actions added for its jobs (`torc slurm generate`);
    with `dry_run`, the plan is printed instead (None)."""
    path = Path(spec_file)
    doc = load_spec_text(path.read_text(), format_from_filename(path.name), source=spec_file)
    profile = hpc_profiles.get(profile_name)
    render.message(f"HPC profile: {profile.name} ({profile.display_name})")
    generated, rows = slurm_generate.generate_with_plan(doc, build_plan(doc), profile, account,
                                                        shaping or slurm_generate.Shaping())  # fmt: skip
    if not dry_run:
        return generated
    render.message("dry run: nothing written or submitted")
    render.show_rows(rows, fmt)
    return None
