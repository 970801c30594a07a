"""Torc's questions and bulk edits about one workflow: create jobs in bulk, initialise, is it complete, its job ids,
what its ready jobs need, reset job statuses, and its relationships as listings."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_202_ACCEPTED

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset
from api.storage import (
    Database,
    edits,
    initialize,
    records,
    rerun,
    workflows,
)
from api.storage.compat import queries as torc_queries
from api.storage.compat import status as torc_status
from api.storage.compat import tasks
from torc_client.contract import (
    ArchiveRequest,
    ChangedInputs,
    CreatedJobs,
    InitializeResult,
    IsComplete,
    IsUninitialized,
    JobCreate,
    JobDependency,
    JobFileRelationship,
    JobIds,
    JobsBatch,
    JobStatusReset,
    JobUserDataRelationship,
    LatestEventTime,
    MissingUserData,
    Page,
    ReadyJobRequirements,
    RequiredFiles,
    Task,
    TorcJob,
    TorcWorkflowStatus,
    TorcWorkflowStatusUpdate,
    Workflow,
)


class TorcWorkflowController(Controller):
    tags = ["workflows"]

    @post("/bulk_jobs", status_code=200, opt=rules.grant(rules.JobsInBody()))
    async def create_jobs(self, db: Database, data: JobsBatch) -> CreatedJobs:
        """Add jobs to one workflow that has not run yet, all or none; the answer lists them in order."""
        return CreatedJobs(jobs=await edits.create_jobs(db, [_job_create(j) for j in data.jobs]))

    @post("/workflows/{workflow_id:int}/initialize_jobs", status_code=200, opt=rules.WORKFLOW)
    async def initialize_jobs(self, db: Database, workflow_id: int, only_uninitialized: bool = False,
                              clear_ephemeral_user_data: bool = True,
                              as_task: Annotated[bool, Parameter(query="async", description=(
                                  "Answer 202 with the task that did the work (see /tasks/{id}), as Torc's "
                                  "asynchronous initialisation does."))] = False,
                              ) -> Response[InitializeResult | Task]:  # fmt: skip
        """Start a new run (as `initialize`): check inputs, block jobs with unfinished upstream work, ready the rest."""
        if as_task:
            task = await tasks.run(db, workflow_id, "initialize_jobs", lambda: initialize.initialize(db, workflow_id))
            return Response(task, status_code=HTTP_202_ACCEPTED)
        return Response(await initialize.initialize(db, workflow_id))

    @get("/workflows/{workflow_id:int}/is_complete", opt=rules.WORKFLOW)
    async def is_complete(self, db: Database, workflow_id: int) -> IsComplete:
        """Whether every job is done (or the workflow is canceled)."""
        return await torc_queries.is_complete(db, workflow_id)

    @get("/workflows/{workflow_id:int}/is_uninitialized", opt=rules.WORKFLOW)
    async def is_uninitialized(self, db: Database, workflow_id: int) -> IsUninitialized:
        """Whether every job is uninitialized or disabled."""
        return await torc_queries.is_uninitialized(db, workflow_id)

    @get("/workflows/{workflow_id:int}/job_ids", opt=rules.WORKFLOW)
    async def job_ids(self, db: Database, workflow_id: int) -> JobIds:
        """Every job id of the workflow, ascending."""
        return await torc_queries.job_ids(db, workflow_id)

    @get("/workflows/{workflow_id:int}/ready_job_requirements", opt=rules.WORKFLOW)
    async def ready_job_requirements(self, db: Database, workflow_id: int,
                                     scheduler_config_id: int | None = None) -> ReadyJobRequirements:  # fmt: skip
        """What the ready jobs need together (optionally only those of one Slurm scheduler)."""
        return await torc_queries.ready_requirements(db, workflow_id, scheduler_config_id)

    @post("/workflows/{workflow_id:int}/reset_job_status", status_code=200, opt=rules.WORKFLOW)
    async def reset_job_status(self, db: Database, workflow_id: int, failed_only: bool = False) -> JobStatusReset:
        """Jobs (or only the failed ones, and everything downstream) back to uninitialized."""
        done = await rerun.reset_status(db, workflow_id, failed_only)
        return JobStatusReset(workflow_id=workflow_id, updated_count=done.updated_count, status="uninitialized",
                              reset_type=done.reset_type)  # fmt: skip

    @get("/workflows/{workflow_id:int}/job_dependencies", opt=rules.WORKFLOW)
    async def job_dependencies(self, db: Database, workflow_id: int, offset: Offset = 0,
                               limit: Limit = DEFAULT_LIMIT) -> Page[JobDependency]:  # fmt: skip
        """Every (job, job it waits for) pair, explicit or implied by files and user_data."""
        return await torc_queries.job_dependencies(db, workflow_id, offset, limit)

    @get("/workflows/{workflow_id:int}/job_file_relationships", opt=rules.WORKFLOW)
    async def job_file_relationships(self, db: Database, workflow_id: int, offset: Offset = 0,
                                     limit: Limit = DEFAULT_LIMIT) -> Page[JobFileRelationship]:  # fmt: skip
        """Every file with the job that writes it and each job that reads it."""
        return await torc_queries.file_relationships(db, workflow_id, offset, limit)

    @get("/workflows/{workflow_id:int}/job_user_data_relationships", opt=rules.WORKFLOW)
    async def job_user_data_relationships(self, db: Database, workflow_id: int, offset: Offset = 0,
                                          limit: Limit = DEFAULT_LIMIT) -> Page[JobUserDataRelationship]:  # fmt: skip
        """Every user_data record with the job that writes it and each job that reads it."""
        return await torc_queries.user_data_relationships(db, workflow_id, offset, limit)

    @get("/workflows/{workflow_id:int}/required_existing_files", opt=rules.WORKFLOW)
    async def required_existing_files(self, db: Database, workflow_id: int) -> RequiredFiles:
        """Ids of the files that must exist: inputs no job writes, and the outputs of completed jobs."""
        return await torc_queries.required_files(db, workflow_id)

    @get("/workflows/{workflow_id:int}/missing_user_data", opt=rules.WORKFLOW)
    async def missing_user_data(self, db: Database, workflow_id: int) -> MissingUserData:
        """Ids of the user_data records that should hold data and do not."""
        return await torc_queries.missing_user_data(db, workflow_id)

    @get("/workflows/{workflow_id:int}/latest_event_timestamp", opt=rules.WORKFLOW)
    async def latest_event_timestamp(self, db: Database, workflow_id: int) -> LatestEventTime:
        """When the latest event happened, in milliseconds since the epoch (null without events)."""
        return await torc_queries.latest_event_time(db, workflow_id)

    @get("/workflows/{workflow_id:int}/failure_handlers", opt=rules.WORKFLOW)
    async def failure_handlers(self, db: Database, workflow_id: int, offset: Offset = 0,
                               limit: Limit = DEFAULT_LIMIT) -> Page[dict[str, Any]]:  # fmt: skip
        """The workflow's failure handlers."""
        await workflows.get_doc(db, workflow_id)
        return await records.failure_handlers.list_page(db, {"workflow_id": workflow_id}, offset, limit)

    @put("/workflows/{workflow_id:int}/status", opt=rules.WORKFLOW)
    async def update_workflow_status(self, db: Database, workflow_id: int,
                                     data: TorcWorkflowStatusUpdate) -> TorcWorkflowStatus:  # fmt: skip
        """Archive or unarchive the workflow, or cancel it (`run_id` must be the current run's)."""
        return await torc_status.set_status(db, workflow_id, data)

    @post("/workflows/{workflow_id:int}/archive", status_code=200, opt=rules.WORKFLOW)
    async def archive_workflow(self, db: Database, workflow_id: int, data: ArchiveRequest) -> Workflow:
        """Archive the workflow (its jobs are no longer claimed; it is listed only among archived ones), or unarchive
        it."""
        return await torc_status.set_archived(db, workflow_id, data.is_archived)

    @post("/workflows/{workflow_id:int}/process_changed_job_inputs", status_code=200, opt=rules.WORKFLOW)
    async def process_changed_job_inputs(self, db: Database, workflow_id: int,
                                         dry_run: bool = False) -> ChangedInputs:  # fmt: skip
        """Jobs whose command, relationships or inputs changed (and those downstream) back to uninitialized."""
        return ChangedInputs(reinitialized_jobs=await torc_status.process_changed_inputs(db, workflow_id, dry_run))


def _job_create(job: TorcJob) -> JobCreate:
    """Torc's job as this server's creation record (fields left out take this server's defaults)."""
    given = {name: getattr(job, name) for name in JobCreate.__struct_fields__
             if getattr(job, name, None) is not None}  # fmt: skip
    return JobCreate(**given)
