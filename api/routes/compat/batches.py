"""Torc's batch calls: files and user_data created in bulk (as `/bulk_jobs` creates jobs), and many job completions
of one workflow in one request."""

from __future__ import annotations

from litestar import Controller, post

from api.access import rules
from api.storage import Database
from api.storage.compat import batch_completion, bulk
from torc_client.contract import (
    CompletionBatch,
    CompletionsDone,
    CreatedFiles,
    CreatedUserData,
    FilesBatch,
    UserDataBatch,
)


class TorcBatchController(Controller):
    tags = ["batches"]

    @post("/bulk_files", status_code=200, opt=rules.grant(rules.RecordsInBody("files")))
    async def create_files(self, db: Database, data: FilesBatch) -> CreatedFiles:
        """Add files to one workflow, all or none; the answer lists them in order."""
        return CreatedFiles(files=await bulk.create_files(db, data.files))

    @post("/bulk_user_data", status_code=200, opt=rules.grant(rules.RecordsInBody("user_data")))
    async def create_user_data_list(self, db: Database, data: UserDataBatch) -> CreatedUserData:
        """Add user_data records to one workflow, all or none; the answer lists them in order."""
        return CreatedUserData(user_data=await bulk.create_user_data(db, data.user_data))

    @post("/workflows/{workflow_id:int}/batch_complete_jobs", status_code=200, opt=rules.WORKFLOW)
    async def batch_complete_jobs(self, db: Database, workflow_id: int, data: CompletionBatch) -> CompletionsDone:
        """Many `complete_job` calls at once: each checked as `complete_job` checks it, the refused ones answered as
        errors, the others stored with their results and their dependents released."""
        return await batch_completion.complete(db, workflow_id, data.completions)
