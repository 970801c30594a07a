"""Jobs: list (filter by status or name, paged), read, add before the first run, update, delete."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, route
from litestar.enums import HttpMethod
from litestar.params import Parameter

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
from api.storage import Database, edits, jobs
from api.storage import why as why_storage
from torc_client.contract import Job, JobCreate, JobUpdate, JobWhy, Page
from torc_client.core.errors import InvalidRequest

NamePattern = Annotated[str | None, Parameter(description=(
    "Only jobs whose name contains this text; with `*` or `?` a glob over the whole name (`work_*`, `*_b`)."))]

DownstreamOf = Annotated[int | None, Parameter(description=(
    "Only the jobs that wait directly for this job (read from its own list, so cheap in any workflow)."))]


def _alone(param: str, **others: str | None) -> None:
    given = [name for name, value in others.items() if value is not None]
    if given:
        raise InvalidRequest(f"{param} lists a job's downstream jobs and takes no other filter ({', '.join(given)})")


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @get("/", opt=rules.LIST)
    async def list_jobs(self, db: Database, workflow_id: WorkflowId, status: str | None = None,
                        name: str | None = None, name_pattern: NamePattern = None, downstream_of: DownstreamOf = None,
                        offset: Offset = 0, limit: Limit = DEFAULT_LIMIT, sort_by: SortBy = None,
                        reverse_sort: ReverseSort = False, needs_file_id: int | None = None,
                        upstream_job_id: int | None = None) -> Page[Job]:  # fmt: skip
        """A workflow's jobs in id order (or `sort_by`: name, status, priority): those with one status, one name or
        names like a pattern, those that read one file (`needs_file_id`) or wait for one job (`upstream_job_id`), or
        those waiting directly for one job (`downstream_of`, read from its own list)."""
        links = {key: value for key, value in (("input_files", needs_file_id), ("upstream", upstream_job_id))
                 if value is not None}  # fmt: skip
        try:
            if downstream_of is not None:
                _alone("downstream_of", status=status, name=name, name_pattern=name_pattern, sort_by=sort_by,
                       needs_file_id=needs_file_id, upstream_job_id=upstream_job_id)  # fmt: skip
                return await jobs.downstream_page(db, workflow_id, downstream_of, offset, limit)
            return await jobs.list_page(db, workflow_id, status, offset, limit, name, name_pattern, sort_by,
                                        reverse_sort, links)  # fmt: skip
        except ValueError as error:
            raise InvalidRequest(str(error)) from None

    @get("/{job_id:int}", opt=rules.record("jobs", "job_id"))
    async def get_job(self, db: Database, job_id: int) -> Job:
        """One job, with its relationships."""
        return await jobs.get(db, job_id)

    @post("/", status_code=200, opt=rules.CREATE)
    async def create_job(self, db: Database, data: JobCreate) -> Job:
        """Add a job to a workflow that has not run yet."""
        return await edits.create_job(db, data)

    @route("/{job_id:int}", http_method=[HttpMethod.PUT, HttpMethod.PATCH], opt=rules.record("jobs", "job_id"))
    async def update_job(self, db: Database, job_id: int, data: JobUpdate) -> Job:
        """Change a job (name, command and script only before the first run; status only to disabled)."""
        return await jobs.update(db, job_id, _changes(data))

    @delete("/{job_id:int}", status_code=200, opt=rules.record("jobs", "job_id"))
    async def delete_job(self, db: Database, job_id: int) -> Job:
        """Remove a job from a workflow that has not run yet."""
        return await edits.delete_job(db, job_id)

    @get("/{job_id:int}/why", opt=rules.record("jobs", "job_id"))
    async def why(self, db: Database, job_id: int, max_roots: Annotated[int, Parameter(
            ge=1, le=1000, description="Most root causes listed (all found are counted).")] = why_storage.DEFAULT_ROOTS,
    ) -> JobWhy:  # fmt: skip
        """What a job waits for: its unfinished upstream jobs, the unblocked jobs behind them, its missing inputs.

        The walk to the root causes reads at most a bounded number of jobs; `walk_complete` says whether it
        saw them all.
        """
        return await why_storage.why(db, job_id, max_roots)
