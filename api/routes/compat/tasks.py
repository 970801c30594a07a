"""Torc's asynchronous tasks: one task, and the task under way on a workflow (see `api.storage.compat.tasks`)."""

from __future__ import annotations

from litestar import Controller, get

from api.access import rules
from api.storage import Database
from api.storage.compat import tasks
from torc_client.contract import ActiveTask, Task


class TorcTaskController(Controller):
    tags = ["tasks"]

    @get("/tasks/{task_id:int}", opt=rules.record("tasks", "task_id"))
    async def get_task(self, db: Database, task_id: int) -> Task:
        """A task: its operation, status, times and error."""
        return await tasks.get(db, task_id)

    @get("/workflows/{workflow_id:int}/active_task", opt=rules.WORKFLOW)
    async def get_active_task_for_workflow(self, db: Database, workflow_id: int) -> ActiveTask:
        """The workflow's task that is queued or running, if any (`task` is null otherwise)."""
        return ActiveTask(task=await tasks.active(db, workflow_id))
