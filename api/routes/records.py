"""Files, user_data, resource requirements, failure handlers and results."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, delete, get, post, route
from litestar.enums import HttpMethod

from api.access import rules
from api.routes.params import (
    DEFAULT_LIMIT,
    Limit,
    Offset,
    ReverseSort,
    SortBy,
    WorkflowId,
)
from api.routes.workflows import _changes
from api.storage import (
    Database,
    edits,
    history,
    record_filters,
    records,
    user_data_links,
)
from torc_client import contract as c


def _fields(data: msgspec.Struct) -> dict[str, Any]:
    return msgspec.structs.asdict(data)


class FileController(Controller):
    path = "/files"
    tags = ["files"]

    @get("/", opt=rules.LIST)
    async def list_files(self, db: Database, workflow_id: WorkflowId, name: str | None = None,
                         path: str | None = None, offset: Offset = 0, limit: Limit = DEFAULT_LIMIT, sort_by: SortBy = None,
                         reverse_sort: ReverseSort = False, produced_by_job_id: int | None = None) -> c.Page[c.File]:  # fmt: skip
        """A workflow's files (only those one job writes, with `produced_by_job_id`)."""
        query = {"workflow_id": workflow_id, "name": name, "path": path,
                 **await record_filters.produced_by(db, workflow_id, produced_by_job_id)}  # fmt: skip
        return await records.files.list_page(db, query, offset, limit, sort_by or "id", reverse_sort)

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_file(self, db: Database, data: c.FileCreate) -> c.File:
        """Add a file record to a workflow."""
        return await edits.create_in_workflow(db, records.files, _fields(data))

    @get("/{file_id:int}", opt=rules.record("files", "file_id"))
    async def get_file(self, db: Database, file_id: int) -> c.File:
        """One file."""
        return await records.files.get(db, file_id)

    @route("/{file_id:int}", http_method=[HttpMethod.PUT, HttpMethod.PATCH], opt=rules.record("files", "file_id"))
    async def update_file(self, db: Database, file_id: int, data: c.FileUpdate) -> c.File:
        """Change a file's name, path or recorded modification time."""
        return await records.files.update(db, file_id, _changes(data))

    @delete("/{file_id:int}", status_code=200, opt=rules.record("files", "file_id"))
    async def delete_file(self, db: Database, file_id: int) -> c.File:
        """Delete a file record (the file on disk is left alone).

        Before the workflow's first run, the jobs that read or write it stop doing so; after it, a file that jobs
        use cannot be deleted (409).
        """
        return await edits.delete_file(db, file_id)


class UserDataController(Controller):
    path = "/user_data"
    tags = ["user_data"]

    @get("/", opt=rules.LIST)
    async def list_user_data(self, db: Database, workflow_id: WorkflowId, name: str | None = None,
                             consumer_job_id: int | None = None, producer_job_id: int | None = None,
                             offset: Offset = 0, limit: Limit = DEFAULT_LIMIT, sort_by: SortBy = None,
                             reverse_sort: ReverseSort = False, is_ephemeral: bool | None = None) -> c.Page[c.UserData]:  # fmt: skip
        """A workflow's user_data, optionally only what one job reads (consumer) or writes (producer)."""
        return await edits.list_user_data(db, workflow_id, name, consumer_job_id, producer_job_id, offset, limit,
                                          sort_by, reverse_sort, is_ephemeral)  # fmt: skip

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_user_data(self, db: Database, data: c.UserDataCreate, consumer_job_id: int | None = None,
                               producer_job_id: int | None = None) -> c.UserData:  # fmt: skip
        """Add a user_data record to a workflow; `consumer_job_id` reads it, `producer_job_id` writes it."""
        return await user_data_links.create_for_jobs(db, _fields(data), consumer_job_id, producer_job_id)

    @get("/{user_data_id:int}", opt=rules.record("user_data", "user_data_id"))
    async def get_user_data(self, db: Database, user_data_id: int) -> c.UserData:
        """One user_data record, with its data."""
        return await records.user_data.get(db, user_data_id)

    @route("/{user_data_id:int}", http_method=[HttpMethod.PUT, HttpMethod.PATCH], opt=rules.record("user_data", "user_data_id"))
    async def update_user_data(self, db: Database, user_data_id: int, data: c.UserDataUpdate) -> c.UserData:
        """Replace a user_data record's data (any JSON), name or ephemeral flag."""
        return await records.user_data.update(db, user_data_id, _changes(data))

    @delete("/{user_data_id:int}", status_code=200, opt=rules.record("user_data", "user_data_id"))
    async def delete_user_data(self, db: Database, user_data_id: int) -> c.UserData:
        """Delete a user_data record.

        Before the workflow's first run, the jobs that read or write it stop doing so; after it, a record that jobs
        use cannot be deleted (409).
        """
        return await edits.delete_user_data(db, user_data_id)


class ResourceRequirementsController(Controller):
    path = "/resource_requirements"
    tags = ["resource_requirements"]

    @get("/", opt=rules.LIST)
    async def list_resource_requirements(self, db: Database, workflow_id: WorkflowId, name: str | None = None,
                                         offset: Offset = 0, limit: Limit = DEFAULT_LIMIT, sort_by: SortBy = None,
                                         reverse_sort: ReverseSort = False, job_id: int | None = None,
                                         num_cpus: int | None = None, num_gpus: int | None = None,
                                         num_nodes: int | None = None) -> c.Page[c.ResourceRequirements]:  # fmt: skip
        """A workflow's resource requirements (only the group one job uses, with `job_id`)."""
        query = {"workflow_id": workflow_id, "name": name, "num_cpus": num_cpus, "num_gpus": num_gpus,
                 "num_nodes": num_nodes, **await record_filters.used_by(db, workflow_id, job_id)}  # fmt: skip
        return await records.resource_requirements.list_page(db, query, offset, limit, sort_by or "id", reverse_sort)

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_resource_requirements(self, db: Database,
                                           data: c.ResourceRequirementsCreate) -> c.ResourceRequirements:  # fmt: skip
        """Add resource requirements (memory like `16g`, runtime like `PT4H`)."""
        return await edits.create_resources(db, _fields(data))

    @get("/{rr_id:int}", opt=rules.record("resource_requirements", "rr_id"))
    async def get_resource_requirements(self, db: Database, rr_id: int) -> c.ResourceRequirements:
        """One set of resource requirements."""
        return await records.resource_requirements.get(db, rr_id)

    @route("/{rr_id:int}", http_method=[HttpMethod.PUT, HttpMethod.PATCH], opt=rules.record("resource_requirements", "rr_id"))
    async def update_resource_requirements(self, db: Database, rr_id: int,
                                           data: c.ResourceRequirementsUpdate) -> c.ResourceRequirements:  # fmt: skip
        """Change resource requirements; jobs that use them are claimed with the new values.

        A new name must not be in use in the workflow, and `default` keeps its name (409).
        """
        return await edits.update_resources(db, rr_id, _changes(data))

    @delete("/{rr_id:int}", status_code=200, opt=rules.record("resource_requirements", "rr_id"))
    async def delete_resource_requirements(self, db: Database, rr_id: int) -> c.ResourceRequirements:
        """Delete resource requirements that no job uses, with their ready queue (never `default`: 409)."""
        return await edits.delete_resources(db, rr_id)


class FailureHandlerController(Controller):
    path = "/failure_handlers"
    tags = ["failure_handlers"]

    @get("/", opt=rules.LIST)
    async def list_failure_handlers(self, db: Database, workflow_id: WorkflowId, offset: Offset = 0,
                                    limit: Limit = DEFAULT_LIMIT) -> c.Page[dict[str, Any]]:  # fmt: skip
        """A workflow's failure handlers."""
        return await records.failure_handlers.list_page(db, {"workflow_id": workflow_id}, offset, limit)

    @get("/{handler_id:int}", opt=rules.record("failure_handlers", "handler_id"))
    async def get_failure_handler(self, db: Database, handler_id: int) -> dict[str, Any]:
        """One failure handler."""
        return await records.failure_handlers.get(db, handler_id)


#: Series per page by default: each may hold thousands of samples.
SERIES_LIMIT = 100


class ResultController(Controller):
    path = "/results"
    tags = ["results"]

    @get("/", opt=rules.LIST)
    async def list_results(self, db: Database, workflow_id: WorkflowId, job_id: int | None = None,
                           run_id: int | None = None, status: str | None = None, return_code: int | None = None,
                           all_runs: bool = False, offset: Offset = 0,
                           limit: Limit = DEFAULT_LIMIT) -> c.Page[c.Result]:  # fmt: skip
        """Results: the latest of each job, or every run and attempt with `all_runs`."""
        filters = {"job_id": job_id, "run_id": run_id, "status": status, "return_code": return_code}
        return await history.list_results(db, workflow_id, filters, all_runs, offset, limit)

    @get("/samples", opt=rules.LIST)
    async def list_resource_series(self, db: Database, workflow_id: WorkflowId, job_id: int | None = None,
                                   all_runs: bool = False, offset: Offset = 0,
                                   limit: Limit = SERIES_LIMIT) -> c.Page[c.ResourceSeries]:  # fmt: skip
        """Jobs' time series of resource samples (`resource_monitor.granularity: time_series`)."""
        return await history.resource_series(db, workflow_id, job_id, all_runs, offset, limit)

    @get("/{result_id:int}", opt=rules.record("results", "result_id"))
    async def get_result(self, db: Database, result_id: int) -> c.Result:
        """One result, with its job's name."""
        return await history.get_result(db, result_id)

    @delete("/{result_id:int}", status_code=200, opt=rules.record("results", "result_id"))
    async def delete_result(self, db: Database, result_id: int) -> c.Result:
        """Delete one result."""
        return await records.results.delete(db, result_id)

