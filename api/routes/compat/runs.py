"""Torc's runner calls: claim jobs (no runner named), then start and complete them one at a time.

They map onto this server's claim, start and completion machinery (`api.storage.compat.runs`);
this server's own runners use the batched exchange of `runs.py` instead.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, post, put
from litestar.params import Parameter

from api.access import rules
from api.storage import Database
from api.storage.compat import runs as torc_runs
from torc_client.contract import ClaimedJobs, FreeResources, Job, TorcResult

SortMethod = Annotated[str | None, Parameter(description="Torc's jobs_sort_method (this server claims in the "
                                             "workflow's own order).")]  # fmt: skip


class TorcRunController(Controller):
    tags = ["runs"]

    @post("/workflows/{workflow_id:int}/claim_next_jobs", status_code=200, opt=rules.WORKFLOW)
    async def claim_next_jobs(self, db: Database, workflow_id: int, limit: int = 1) -> ClaimedJobs:
        """Claim up to `limit` ready jobs whatever their resources; they become pending."""
        return await torc_runs.claim(db, workflow_id, limit, None, None)

    @post("/workflows/{workflow_id:int}/claim_jobs_based_on_resources/{limit:int}", status_code=200,
          opt=rules.WORKFLOW)  # fmt: skip
    async def claim_jobs_based_on_resources(self, db: Database, workflow_id: int, limit: int, data: FreeResources,
                                            sort_method: SortMethod = None,
                                            strict_scheduler_match: bool = False) -> ClaimedJobs:  # fmt: skip
        """Claim up to `limit` ready jobs that fit the worker's free resources; they become pending."""
        return await torc_runs.claim(db, workflow_id, limit, data, sort_method)

    @put("/jobs/{job_id:int}/start_job/{run_id:int}/{compute_node_id:int}", opt=rules.record("jobs", "job_id"))
    async def start_job(self, db: Database, job_id: int, run_id: int, compute_node_id: int) -> Job:
        """A claimed job started on compute node `compute_node_id` (pending -> running)."""
        return await torc_runs.start_job(db, job_id, run_id, compute_node_id)

    @post("/jobs/{job_id:int}/complete_job/{status:str}/{run_id:int}", status_code=200,
          opt=rules.record("jobs", "job_id"))  # fmt: skip
    async def complete_job(self, db: Database, job_id: int, status: str, run_id: int, data: TorcResult) -> Job:
        """A claimed job finished: its result is stored and its dependents are released (or canceled) at once."""
        return await torc_runs.complete_job(db, job_id, status, run_id, data)

    @post("/jobs/{job_id:int}/retry/{run_id:int}", status_code=200, opt=rules.record("jobs", "job_id"))
    async def retry_job(self, db: Database, job_id: int, run_id: int, max_retries: Annotated[int, Parameter(
            ge=0, le=torc_runs.NO_RETRY_LIMIT, description="Refuse once the job has had this many retries "
            "(by default, never).")] = torc_runs.NO_RETRY_LIMIT) -> Job:  # fmt: skip
        """A claimed job that failed runs again: back to ready as its next attempt."""
        return await torc_runs.retry_job(db, job_id, run_id, max_retries)

    @put("/jobs/{job_id:int}/manage_status_change/{status:str}/{run_id:int}", opt=rules.record("jobs", "job_id"))
    async def manage_status_change(self, db: Database, job_id: int, status: str, run_id: int) -> Job:
        """Set a job back to uninitialized (with the jobs downstream) or disable it."""
        return await torc_runs.change_status(db, job_id, status, run_id)

