"""Torc's workflow-level changes: `PUT /workflows/{id}/status` (the flags its clients set: archive, cancel, in
Torc's status record), `POST /workflows/{id}/archive`, and `process_changed_job_inputs` (jobs whose inputs
changed go back to uninitialized).

A workflow's run id advances here only when the workflow is initialised (a run opens), and
a canceled workflow runs again through a reset or a reinitialisation: the update refuses
to change either directly, saying which call does it.
"""

from __future__ import annotations

from api.storage import lifecycle, rerun, selective_reset, workflows
from api.storage.db import Database
from torc_client.contract import (
    JobsResetRequest,
    TorcWorkflowStatus,
    TorcWorkflowStatusUpdate,
    Workflow,
)
from torc_client.core.errors import Conflict


async def set_status(db: Database, wid: int, update: TorcWorkflowStatusUpdate) -> TorcWorkflowStatus:
    wf = await workflows.get_doc(db, wid)
    if update.run_id != wf["run_id"]:
        raise Conflict(f"workflow {wid} is in run {wf['run_id']}: a run opens when the workflow is initialised "
                       f"(initialize_jobs), not by setting run_id to {update.run_id}")  # fmt: skip
    if wf["is_canceled"] and not update.is_canceled:
        raise Conflict(f"workflow {wid} is canceled: reset its jobs (reset_job_status) or reinitialise it to run "
                       "it again")  # fmt: skip
    if update.is_canceled and not wf["is_canceled"]:
        await lifecycle.cancel(db, wid)
    if update.is_archived is not None and update.is_archived != wf["is_archived"]:
        await workflows.update(db, wid, {"is_archived": update.is_archived})
    return status(await workflows.get_doc(db, wid))


async def set_archived(db: Database, wid: int, archived: bool) -> Workflow:
    """Torc's `POST /workflows/{id}/archive`: set or clear the archive flag (an archived workflow's jobs are not
    claimed, and it is listed only when archived workflows are asked for); returns the workflow."""
    return await workflows.update(db, wid, {"is_archived": archived})


def status(wf: dict) -> TorcWorkflowStatus:
    return TorcWorkflowStatus(id=wf["_id"], run_id=wf["run_id"], is_canceled=wf["is_canceled"],
                              is_archived=wf["is_archived"])  # fmt: skip


async def process_changed_inputs(db: Database, wid: int, dry_run: bool) -> list[str]:
    """The names of the jobs whose command, relationships or inputs changed; unless `dry_run`, they (and the jobs
    downstream of them) go back to uninitialized, to run again at the next reinitialisation."""
    changed = await rerun.changed_jobs(db, wid)
    if changed and not dry_run:
        await selective_reset.reset_jobs(db, wid, JobsResetRequest(job_ids=sorted(changed)))
    return list(changed.values())

