"""Torc's local schedulers (`/local_schedulers`) and remote workers (`/workflows/{id}/remote_workers`)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.params import Parameter

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset, WorkflowId
from api.storage import Database, workers
from torc_client.contract import (
    LocalScheduler,
    LocalSchedulerCreate,
    Page,
    RemoteWorker,
)
from torc_client.core.errors import InvalidRequest


class LocalSchedulerController(Controller):
    path = "/local_schedulers"
    tags = ["local_schedulers"]

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_local_scheduler(self, db: Database, data: LocalSchedulerCreate) -> LocalScheduler:
        """Add a local scheduler (the CPUs and memory a local runner of the workflow uses)."""
        return await workers.create_local(db, _fields(data))

    @get("/", opt=rules.LIST)
    async def list_local_schedulers(self, db: Database, workflow_id: WorkflowId, offset: Offset = 0,
                                    limit: Limit = DEFAULT_LIMIT, sort_by: str = "id", reverse_sort: bool = False,
                                    memory: str | None = None,
                                    num_cpus: int | None = None) -> Page[LocalScheduler]:  # fmt: skip
        """A workflow's local schedulers, optionally only those of one memory or CPU count."""
        query = {"workflow_id": workflow_id, "memory": memory, "num_cpus": num_cpus}
        return await workers.local_schedulers.list_page(db, query, offset, limit, sort_by, reverse_sort)

    @get("/{scheduler_id:int}", opt=rules.record("local_schedulers", "scheduler_id"))
    async def get_local_scheduler(self, db: Database, scheduler_id: int) -> LocalScheduler:
        """One local scheduler."""
        return await workers.local_schedulers.get(db, scheduler_id)

    @put("/{scheduler_id:int}", opt=rules.record("local_schedulers", "scheduler_id"))
    async def update_local_scheduler(self, db: Database, scheduler_id: int,
                                     data: LocalSchedulerCreate) -> LocalScheduler:  # fmt: skip
        """Change a local scheduler's name, memory or CPUs (it stays in its workflow)."""
        before = await workers.local_schedulers.get(db, scheduler_id)
        if data.workflow_id != before.workflow_id:
            raise InvalidRequest(f"local scheduler {scheduler_id} is of workflow {before.workflow_id}, "
                                 f"not {data.workflow_id}")  # fmt: skip
        return await workers.local_schedulers.update(db, scheduler_id, workers.checked_local(_fields(data)))

    @delete("/{scheduler_id:int}", status_code=200, opt=rules.record("local_schedulers", "scheduler_id"))
    async def delete_local_scheduler(self, db: Database, scheduler_id: int) -> LocalScheduler:
        """Delete a local scheduler."""
        return await workers.local_schedulers.delete(db, scheduler_id)


class RemoteWorkerController(Controller):
    path = "/workflows/{workflow_id:int}/remote_workers"
    tags = ["remote_workers"]

    @post("/", status_code=200, opt=rules.WORKFLOW)
    async def create_remote_workers(self, db: Database, workflow_id: int, data: list[str]) -> list[RemoteWorker]:
        """Add worker addresses (`[user@]host[:port]`); answers all of the workflow's workers."""
        return await workers.add_workers(db, workflow_id, data)

    @get("/", opt=rules.WORKFLOW)
    async def list_remote_workers(self, db: Database, workflow_id: int) -> list[RemoteWorker]:
        """The workflow's worker addresses."""
        return await workers.list_workers(db, workflow_id)

    @delete("/{worker:str}", status_code=200, opt=rules.WORKFLOW)
    async def delete_remote_worker(self, db: Database, workflow_id: int, worker: Annotated[str, Parameter(
            description="The address, as added.")]) -> RemoteWorker:  # fmt: skip
        """Remove a worker address."""
        return await workers.remove_worker(db, workflow_id, worker)


def _fields(data: LocalSchedulerCreate) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if k != "id"}
