"""Workflows: create (from a spec, in one request), read, update, delete, initialise, cancel, status."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any

import anyio
import msgspec
from litestar import Controller, Request, delete, get, post, put, route
from litestar.enums import HttpMethod
from litestar.params import Parameter

from api.access import rules
from api.routes.params import DEFAULT_LIMIT, Limit, Offset, ReverseSort, SortBy
from api.storage import (
    Database,
    create,
    creations,
    groups,
    initialize,
    lifecycle,
    purges,
    rerun,
    workflows,
)
from api.storage.execution_plan import execution_plan as stored_plan
from torc_client.analysis.dependencies import NAMES_PER_STAGE
from torc_client.contract import (
    Creation,
    ExecutionPlan,
    InitializeResult,
    Name,
    Page,
    ReinitializeResult,
    ResetResult,
    SortMethod,
    Workflow,
    WorkflowStatus,
    WorkflowUpdate,
)
from torc_client.core.errors import InvalidRequest, TorcError
from torc_client.spec import build_plan, load_spec_text


class ClientGone(TorcError):
    """The client disconnected before the answer (nobody reads it; the status is nginx's 499)."""

    status_code = 499
    title = "Client closed request"

class WorkflowCreate(msgspec.Struct, kw_only=True):
    """An empty workflow, to fill with jobs through the API (Torc's `WorkflowModel`; unset settings take defaults).

    Torc's read-only fields (`id`, `run_id`, `is_archived`, `is_canceled`, `timestamp`) are ignored if sent.
    """

    name: Name
    description: str | None = None
    user: str | None = None
    working_dir: str | None = None
    project: str | None = None
    metadata: dict[str, Any] | None = None
    jobs_sort_method: SortMethod | None = None
    use_pending_failed: bool | None = None
    compute_node_expiration_buffer_seconds: int | None = None
    compute_node_wait_for_new_jobs_seconds: int | None = None
    compute_node_ignore_workflow_completion: bool | None = None
    compute_node_wait_for_healthy_database_minutes: int | None = None
    compute_node_min_time_for_new_jobs_seconds: int | None = None
    slurm_defaults: dict[str, Any] | None = None

    def settings(self) -> dict[str, Any]:
        """The workflow settings given (the rest keep their defaults); a negative time is refused."""
        return _times_checked({key: getattr(self, key) for key in workflows.SETTINGS
                               if getattr(self, key, None) is not None})  # fmt: skip


class WorkflowController(Controller):
    path = "/workflows"
    tags = ["workflows"]

    @post("/specs", status_code=200, opt=rules.CALLER)
    async def create_from_spec(
        self,
        request: Request,
        db: Database,
        caller: str | None,
        spec_format: Annotated[str | None, Parameter(query="format", description="yaml, json, json5 or kdl; "
                                                     "default: from the content type, else detected")] = None,
        user: str = "",
        working_dir: str | None = None,
        request_id: Annotated[str | None, Parameter(
            description="The client's name for this creation (e.g. a UUID): a retry with the same id gets the same "
            "workflow, and `GET /workflows/creations/{request_id}` shows progress", max_length=100)] = None,
    ) -> Workflow:
        """Create a workflow from a specification (YAML, JSON, JSON5 or KDL in the body): all of it, or nothing.

        A spec with problems is refused (422) with every problem listed in `errors` (`path`, `message`).
        With a `request_id`, a client that disconnects before the answer leaves nothing behind (the
        creation stops and is undone), and a retry with the same id returns the workflow if it was made.
        """
        text = (await request.body()).decode("utf-8", errors="replace")
        fmt = spec_format or _format_from_content_type(request.headers.get("content-type", ""))
        if request_id is None:
            return await _create(db, text, fmt, caller, user, working_dir, None)
        request_id = creations.key(caller, request_id)
        made = await creations.begin(db, request_id)
        if made is not None:
            return await workflows.get(db, made)
        return await _unless_disconnected(request, _create(db, text, fmt, caller, user, working_dir, request_id))

    @get("/creations/{request_id:str}", opt=rules.CALLER)
    async def creation(self, db: Database, caller: str | None, request_id: str) -> Creation:
        """How far the caller's creation named `request_id` is: `checking`, `inserting` (`done` of `total` jobs), `done`.

        Request ids are each user's own: another user's creation of the same name is not theirs to see.
        """
        return await creations.get(db, creations.key(caller, request_id), request_id)

    @post("/", status_code=200, opt=rules.CALLER)
    async def create_empty(self, db: Database, caller: str | None, data: WorkflowCreate) -> Workflow:
        """Create an empty workflow (with its `default` resource requirements); its user is the authenticated one."""
        plan = create.empty_plan(data.name, data.description, data.project, data.metadata or {}, data.settings(),
                                 data.slurm_defaults)  # fmt: skip
        return await create.create_from_plan(db, plan, caller or data.user or "", data.working_dir)

    @get("/", opt=rules.CALLER)
    async def list_workflows(self, request: Request, db: Database, caller: str | None, name: str | None = None,
                             user: str | None = None, is_archived: bool = False, offset: Offset = 0,
                             limit: Limit = DEFAULT_LIMIT, sort_by: SortBy = None,
                             reverse_sort: ReverseSort = False) -> Page[Workflow]:  # fmt: skip
        """List workflows (archived ones only when asked; with access control, those the caller may use)."""
        state = request.app.state
        scoped = state.enforce_access and caller not in state.admin_users
        within = await groups.visible_filter(db, caller or "") if scoped else None
        return await workflows.list_page(db, {"name": name, "user": user, "is_archived": is_archived}, offset, limit,
                                         within, sort_by, reverse_sort)  # fmt: skip

    @get("/{workflow_id:int}", opt=rules.WORKFLOW)
    async def get_workflow(self, db: Database, workflow_id: int) -> Workflow:
        """One workflow."""
        return await workflows.get(db, workflow_id)

    @route("/{workflow_id:int}", http_method=[HttpMethod.PUT, HttpMethod.PATCH], opt=rules.WORKFLOW)
    async def update_workflow(self, db: Database, workflow_id: int, data: WorkflowUpdate) -> Workflow:
        """Change a workflow's name, description, project, metadata, archive flag, sort method or runner settings.

        Torc's read-only fields (`id`, `run_id`, `is_canceled`, `timestamp`), sent back with a whole workflow, are
        ignored.
        """
        return await workflows.update(db, workflow_id, _times_checked(_changes(data)))

    @delete("/{workflow_id:int}", status_code=200, opt=rules.WORKFLOW)
    async def delete_workflow(self, db: Database, workflow_id: int, request: Request) -> Workflow:
        """Delete a workflow and everything in it.

        The workflow is gone at once; the answer waits a few seconds at most for its jobs, results and
        events to be removed, and a big workflow's are removed in the background after it.
        """
        return await purges.delete(db, workflow_id, request.app.state.delete_wait_seconds)

    @post("/{workflow_id:int}/initialize", status_code=200, opt=rules.WORKFLOW)
    async def initialize_workflow(self, db: Database, workflow_id: int, force: bool = False) -> InitializeResult:
        """Start a new run: check inputs, block jobs with unfinished upstream work, make the rest ready."""
        return await initialize.initialize(db, workflow_id, force)

    @get("/{workflow_id:int}/status", opt=rules.WORKFLOW)
    async def workflow_status(self, db: Database, lease: float, workflow_id: int) -> WorkflowStatus:
        """Run id, flags and job counts by status (also expires the leases of dead runners)."""
        return await lifecycle.status(db, workflow_id, lease)

    @post("/{workflow_id:int}/reset_status", status_code=200, opt=rules.WORKFLOW)
    async def reset_status(self, db: Database, workflow_id: int, failed_only: bool = False,
                           force: bool = False) -> ResetResult:  # fmt: skip
        """Failed, canceled and terminated jobs (or all) and everything downstream back to uninitialized."""
        return await rerun.reset_status(db, workflow_id, failed_only, force)

    @post("/{workflow_id:int}/reinitialize", status_code=200, opt=rules.WORKFLOW)
    async def reinitialize(self, db: Database, workflow_id: int, dry_run: bool = False,
                           force: bool = False) -> ReinitializeResult:  # fmt: skip
        """Start a new run in which only what changed or failed (and what depends on it) runs again."""
        return await rerun.reinitialize(db, workflow_id, dry_run, force)

    @put("/{workflow_id:int}/cancel", opt=rules.WORKFLOW)
    async def cancel_workflow(self, db: Database, workflow_id: int) -> WorkflowStatus:
        """Cancel: nothing more is claimed, waiting jobs are canceled, runners terminate running ones."""
        return await lifecycle.cancel(db, workflow_id)

    @get("/{workflow_id:int}/execution_plan", opt=rules.WORKFLOW)
    async def execution_plan(self, db: Database, workflow_id: int, names_per_stage: Annotated[int, Parameter(
            ge=0, le=10_000, description="Job names listed per stage (all are counted).")] = NAMES_PER_STAGE,
    ) -> ExecutionPlan:  # fmt: skip
        """The stages in which the jobs run: stage 1 waits for nothing, stage k only for earlier stages.

        Reads every job once (by id): it takes time in proportion to the workflow's size.
        """
        return await stored_plan(db, workflow_id, names_per_stage)


async def _create(db: Database, text: str, fmt: str | None, caller: str | None, user: str, working_dir: str | None,
                  request_id: str | None) -> Workflow:  # fmt: skip
    try:
        plan = await anyio.to_thread.run_sync(lambda: build_plan(load_spec_text(text, fmt, source="spec")))
        if caller:  # with passwords, a workflow belongs to who created it, whatever `user:` its spec names
            plan = msgspec.structs.replace(plan, user=caller)
        progress = None
        if request_id is not None:
            await creations.advance(db, request_id, stage="inserting", total=len(plan.jobs))
            progress = creations.reporter(db, request_id)
        workflow = await create.create_from_plan(db, plan, caller or user, working_dir, progress)
    except BaseException:
        if request_id is not None:
            await asyncio.shield(creations.advance(db, request_id, stage="failed"))
        raise
    if request_id is not None:
        await creations.advance(db, request_id, stage="done", done=len(plan.jobs), workflow_id=workflow.id)
    return workflow


async def _unless_disconnected(request: Request, creating: Coroutine[Any, Any, Workflow]) -> Workflow:
    """Run the creation; if the client hangs up first, stop it (which undoes it) rather than finish unseen."""
    task = asyncio.ensure_future(creating)
    gone = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        gone.cancel()
    if task.cancelled():
        raise ClientGone("the client hung up before the workflow was created: its creation was stopped and undone")
    return task.result()


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _times_checked(settings: dict[str, Any]) -> dict[str, Any]:
    """`settings`, whose compute-node times must not be negative (422 naming the first that is)."""
    for key, value in settings.items():
        if key.startswith("compute_node_") and isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise InvalidRequest(f"{key} must be at least 0, got {value}")
    return settings


def _format_from_content_type(content_type: str) -> str | None:
    for fmt in ("json5", "yaml", "json", "kdl"):
        if fmt in content_type:
            return fmt
    return None


def _changes(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
