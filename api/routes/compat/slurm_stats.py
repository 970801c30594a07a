"""Torc's Slurm accounting figures of a job's attempts: stored by the runner that ran it, listed per workflow."""

from __future__ import annotations

from litestar import Controller, get, post

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset, WorkflowId
from api.storage import Database
from api.storage.compat import slurm_stats
from torc_client.contract import Page, SlurmStats


class TorcSlurmStatsController(Controller):
    path = "/slurm_stats"
    tags = ["slurm_stats"]

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_slurm_stats(self, db: Database, data: SlurmStats) -> SlurmStats:
        """Store what Slurm measured for one attempt of a job (peak memory, disk traffic, CPU time, nodes)."""
        return await slurm_stats.create(db, data)

    @get("/", opt=rules.LIST)
    async def list_slurm_stats(self, db: Database, workflow_id: WorkflowId, job_id: int | None = None,
                               run_id: int | None = None, attempt_id: int | None = None, offset: Offset = 0,
                               limit: Limit = DEFAULT_LIMIT) -> Page[SlurmStats]:  # fmt: skip
        """A workflow's Slurm figures in the order they were stored (optionally of one job, run or attempt)."""
        return await slurm_stats.list_page(db, workflow_id, job_id, run_id, attempt_id, offset, limit)
