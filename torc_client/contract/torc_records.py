"""More of Torc's records (see `contract.torc`): workflow actions, failure handlers, access control, where runners
run, bulk deletions and the workflow status Torc's clients set."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Struct

from torc_client.contract.base import Name, Record

T = TypeVar("T")


# --- actions and failure handlers ------------------------------------------------------


class TorcAction(Struct, kw_only=True):
    """Torc's `WorkflowActionModel` as a client creates one: what to do (`action_config`) when a trigger fires."""

    workflow_id: int
    trigger_type: str
    action_type: str
    action_config: dict[str, Any]
    job_ids: list[int] | None = None
    persistent: bool | None = None
    id: int | None = None
    executed: bool | None = None
    executed_at: str | None = None
    executed_by: int | None = None


class TorcActionClaim(Struct, kw_only=True):
    compute_node_id: int


class ActionClaimed(Record):
    """Torc's answer to claiming an action (a claim that loses is refused with 409)."""

    action_id: int
    success: bool


class FailureRule(Struct, kw_only=True, forbid_unknown_fields=True):
    """One rule of a failure handler: which exit codes it matches, and how often to retry."""

    exit_codes: list[int] = []
    match_all_exit_codes: bool = False
    recovery_script: str | None = None
    max_retries: Annotated[int, msgspec.Meta(ge=0)] = 3


class TorcFailureHandler(Struct, kw_only=True):
    """Torc's `FailureHandlerModel`: `rules` is a JSON array of rules, as text (a JSON array is accepted too)."""

    workflow_id: int
    name: Name
    rules: str | list[FailureRule]
    id: int | None = None


# --- access control --------------------------------------------------------------------


class ListPage(Record, Generic[T]):
    """Torc's envelope of the access-control listings (`limit`, no `count`)."""

    items: list[T]
    offset: int
    limit: int
    total_count: int
    has_more: bool


class Membership(Record):
    """Torc's `UserGroupMembershipModel`: one user in one access group."""

    user_name: str
    group_id: int
    role: str = "member"
    created_at: str | None = None
    id: int | None = None


class TorcAccessGroup(Record):
    """Torc's `AccessGroupModel`."""

    id: int
    name: str
    description: str | None = None
    created_at: str | None = None


class WorkflowGroupLink(Struct, kw_only=True):
    """Torc's `WorkflowAccessGroupModel`: a workflow shared with a group."""

    workflow_id: int
    group_id: int
    created_at: str | None = None


class AccessAnswer(Record):
    """Torc's `AccessCheckResponse`."""

    has_access: bool
    user_name: str
    workflow_id: int


class DeleteCount(Record):
    """How many records a deletion of every record of one kind removed (Torc's `DeleteCountResponse`)."""

    count: int


# --- where runners run -----------------------------------------------------------------


class LocalScheduler(Record):
    """Torc's `LocalSchedulerModel`: the CPUs and memory a local runner of the workflow uses."""

    id: int
    workflow_id: int
    name: str = "default"
    memory: str | None = None
    num_cpus: int | None = None


class LocalSchedulerCreate(Struct, kw_only=True):
    workflow_id: int
    name: Name = "default"
    memory: str | None = None
    num_cpus: int | None = None
    id: int | None = None


class RemoteWorker(Record):
    """Torc's `RemoteWorkerModel`: an address (`[user@]host[:port]`) runners of the workflow are started on."""

    worker: str
    workflow_id: int


class TorcWorkflowStatus(Record):
    """Torc's `WorkflowStatusModel`: a workflow's run and flags."""

    id: int
    run_id: int
    is_canceled: bool
    is_archived: bool = False
    has_detected_need_to_run_completion_script: bool = False


class TorcWorkflowStatusUpdate(Struct, kw_only=True):
    """The flags a client may change through Torc's `PUT /workflows/{id}/status`."""

    run_id: int
    is_canceled: bool
    is_archived: bool | None = None
    id: int | None = None
    has_detected_need_to_run_completion_script: bool | None = None


class ChangedInputs(Record):
    """Torc's `ProcessChangedJobInputsResponse`: the names of the jobs whose inputs changed."""

    reinitialized_jobs: list[str]

