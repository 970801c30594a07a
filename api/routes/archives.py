"""Archives: a finished run's statuses, results and events restored on a workflow imported from its export."""

from __future__ import annotations

from litestar import Controller, post

from api.access import rules
from api.storage import Database, archives
from torc_client.contract import History, HistoryRestored


class ArchiveController(Controller):
    path = "/workflows/{workflow_id:int}"
    tags = ["workflows"]

    @post("/history", status_code=200, opt=rules.WORKFLOW)
    async def restore_history(self, db: Database, workflow_id: int, data: History) -> HistoryRestored:
        """Restore the job statuses, results and events of an exported run on a workflow that has never run."""
        return await archives.restore(db, workflow_id, data)
