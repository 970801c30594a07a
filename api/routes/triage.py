"""Triage: reset exactly the jobs a user chose, so a family of failures reruns alone."""

from __future__ import annotations

from litestar import Controller, post

from api.access import rules
from api.storage import Database, selective_reset
from torc_client.contract import JobsResetRequest, JobsResetResult


class TriageController(Controller):
    path = "/workflows/{workflow_id:int}"
    tags = ["workflows"]

    @post("/jobs/reset_status", status_code=200, opt=rules.WORKFLOW)
    async def reset_job_status(self, db: Database, workflow_id: int, data: JobsResetRequest) -> JobsResetResult:
        """Reset the chosen jobs (ids, status, return code) and their downstream jobs; optionally rerun them."""
        return await selective_reset.reset_jobs(db, workflow_id, data)
