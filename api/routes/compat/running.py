"""Where a workflow's jobs run and ran: its running jobs, and the Slurm jobs its jobs ran in."""

from __future__ import annotations

from litestar import Controller, get

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset
from api.storage import Database
from api.storage.compat import running
from torc_client.contract import Page, RunningJob, SlurmJobCorrelation


class TorcRunningController(Controller):
    path = "/workflows/{workflow_id:int}"
    tags = ["workflows"]

    @get("/running_jobs", opt=rules.WORKFLOW)
    async def get_running_jobs(self, db: Database, workflow_id: int, offset: Offset = 0,
                               limit: Limit = DEFAULT_LIMIT) -> Page[RunningJob]:  # fmt: skip
        """The running jobs, each with its compute node (and Slurm job) and when it started."""
        return await running.running_jobs(db, workflow_id, offset, limit)

    @get("/slurm_job_correlations", opt=rules.WORKFLOW)
    async def get_slurm_job_correlations(self, db: Database, workflow_id: int, offset: Offset = 0,
                                         limit: Limit = DEFAULT_LIMIT) -> Page[SlurmJobCorrelation]:  # fmt: skip
        """Each job with the Slurm job (allocation) it ran in, or runs in."""
        return await running.slurm_job_correlations(db, workflow_id, offset, limit)
