"""Remote workers: the SSH hosts `torc remote run` starts a workflow's runners on."""

from __future__ import annotations

from litestar import Controller, delete, get, post

from api.access import rules
from api.storage import Database, remote_workers
from torc_client.contract import RemoteWorker, RemoteWorkersAdd


class RemoteWorkerController(Controller):
    path = "/workflows/{workflow_id:int}/remote_workers"
    tags = ["remote workers"]

    @get("/", opt=rules.WORKFLOW)
    async def list_remote_workers(self, db: Database, workflow_id: int) -> list[RemoteWorker]:
        """The workflow's remote workers."""
        return await remote_workers.listed(db, workflow_id)

    @post("/", status_code=201, opt=rules.WORKFLOW)
    async def add_remote_workers(self, db: Database, workflow_id: int, data: RemoteWorkersAdd) -> list[RemoteWorker]:
        """Add hosts (`[user@]host[:port]`); returns every remote worker of the workflow."""
        return await remote_workers.add(db, workflow_id, data.workers)

    @delete("/{address:str}", status_code=200, opt=rules.WORKFLOW)
    async def delete_remote_worker(self, db: Database, workflow_id: int, address: str) -> RemoteWorker:
        """Remove one host from the workflow's remote workers."""
        return await remote_workers.remove(db, workflow_id, address)
