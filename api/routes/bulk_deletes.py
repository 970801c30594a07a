"""Torc's `DELETE /{kind}?workflow_id=`: every record of one kind in a workflow, answered with how many went."""

from __future__ import annotations

from litestar import Controller, delete
from litestar.handlers import HTTPRouteHandler

from api.access import rules
from api.routes.params import WorkflowId
from api.storage import Database, bulk_deletes
from torc_client.contract import DeleteCount

#: What each deletion keeps to, in the operation's description.
RULES = {
    "jobs": "Only before the workflow's first run.",
    "files": "Taken out of the jobs that use them; after the first run, refused while jobs use any.",
    "user_data": "Taken out of the jobs that use them; after the first run, refused while jobs use any.",
    "resource_requirements": "All but `default`; refused while jobs use any of them.",
    "compute_nodes": "Refused while any compute node is active.",
}


def _deleter(kind: str) -> HTTPRouteHandler:
    async def handler(self: Controller, db: Database, workflow_id: WorkflowId) -> DeleteCount:
        return DeleteCount(count=await bulk_deletes.delete_all(db, kind, workflow_id))

    handler.__name__ = handler.__qualname__ = f"delete_all_{kind}"
    handler.__doc__ = f"Delete every {kind.replace('_', ' ')} record of a workflow. {RULES.get(kind, '')}".strip()
    return delete(f"/{kind}", status_code=200, opt=rules.LIST, tags=[kind], operation_id=f"delete_all_{kind}")(handler)


#: One handler per kind, made alike (they differ only in the kind they delete).
BulkDeleteController = type("BulkDeleteController", (Controller,), {
    "__doc__": "Deleting every record of one kind in a workflow.",
    **{f"delete_all_{kind}": _deleter(kind) for kind in bulk_deletes.KINDS}})  # fmt: skip
