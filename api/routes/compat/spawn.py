"""Torc's `spawn_jobs`: a running job adds jobs to its workflow, which run once it completes."""

from __future__ import annotations

from litestar import Controller, post

from api.access import rules
from api.storage import Database
from api.storage.compat import spawn
from torc_client.contract import Spawned, SpawnRequest


class TorcSpawnController(Controller):
    tags = ["jobs"]

    @post("/jobs/{job_id:int}/spawn_jobs", status_code=200, opt=rules.record("jobs", "job_id"))
    async def spawn_jobs(self, db: Database, job_id: int, data: SpawnRequest) -> Spawned:
        """Add jobs that wait for this running job (and for the jobs their `depends_on` names); they run once it
        completes."""
        return await spawn.spawn(db, job_id, data)
