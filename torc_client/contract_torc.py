"""Records of the operations Torc's API has and this server's own protocol does not need.

Torc's clients (its published Python package, Julia, the Rust runner) create jobs in
bulk, claim jobs and report their start and completion one job at a time, and read a
workflow's relationships as listings. These are their requests and answers, with Torc's
field names; the server maps them onto its own claim, lease and completion machinery.
Requests accept the fields Torc's models carry even where this server keeps no use for
them (Torc's clients send them), so a record read back and sent again is accepted.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from msgspec import Struct

from torc_client.contract import Job
from torc_client.contract_base import Command, Name, Record

T = TypeVar("T")

# --- creating jobs in bulk -------------------------------------------------------------


class TorcJob(Struct, kw_only=True):
    """A job as Torc's `JobModel` sends it: `id`, `status` and the run fields are the server's and are ignored."""

    workflow_id: int
    name: Name
    command: Command
    invocation_script: str | None = None
    resource_requirements_id: int | None = None
    cancel_on_blocking_job_failure: bool | None = None
    supports_termination: bool | None = None
    depends_on_job_ids: list[int] | None = None
    input_file_ids: list[int] | None = None
    output_file_ids: list[int] | None = None
    input_user_data_ids: list[int] | None = None
    output_user_data_ids: list[int] | None = None
    id: int | None = None
    status: str | None = None
    attempt_id: int | None = None
    failure_handler_id: int | None = None
    scheduler_id: int | None = None
    priority: int | None = None
    schedule_compute_nodes: dict[str, Any] | None = None
    env: dict[str, str] | None = None
    origin: str | None = None
    compute_node_id: int | None = None
    start_time: str | None = None


class JobsBatch(Struct, kw_only=True):
    """Torc's `JobsModel`: the body of `POST /bulk_jobs`."""

    jobs: list[TorcJob]


class CreatedJobs(Record):
    """Torc's `CreateJobsResponse`: the created jobs, in the order they were sent."""

    jobs: list[Job]


# --- a workflow's state ----------------------------------------------------------------


class IsComplete(Record):
    """Torc's `IsCompleteResponse`."""

    is_complete: bool
    is_canceled: bool
    #: Torc's flag for a completion script still to run; this server has none, so it is always false.
    needs_to_run_completion_script: bool = False


class IsUninitialized(Record):
    """Torc's `IsUninitializedResponse`: true when every job is uninitialized or disabled (or there are none)."""

    is_uninitialized: bool


class JobIds(Record):
    """Torc's `ListJobIdsResponse`: every job id of a workflow, ascending."""

    job_ids: list[int]
    count: int


class ReadyJobRequirements(Record):
    """Torc's `GetReadyJobRequirementsResponse`: what the ready jobs need together (sums, and the largest per job)."""

    num_jobs: int
    num_cpus: int
    num_gpus: int
    memory_gb: float
    max_num_nodes: int
    max_runtime: str


class JobStatusReset(Record):
    """Torc's `ResetJobStatusResponse`."""

    workflow_id: int
    updated_count: int
    status: str
    reset_type: str


# --- claiming, starting and completing, one job at a time ------------------------------


class FreeResources(Struct, kw_only=True):
    """Torc's `ComputeNodesResources`: what a worker has free to run claimed jobs with."""

    num_cpus: int
    memory_gb: float
    num_gpus: int
    num_nodes: int
    id: int | None = None
    time_limit: str | None = None
    scheduler_config_id: int | None = None


class ClaimedJobs(Record):
    """Torc's `ClaimJobsBasedOnResources` / `ClaimNextJobsResponse`: the claimed jobs (now pending), and why none
    were when the workflow cannot hand any out."""

    jobs: list[Job]
    reason: str | None = None


class TorcResult(Struct, kw_only=True):
    """Torc's `ResultModel`, as a runner sends it to `complete_job` and `POST /results`."""

    job_id: int
    workflow_id: int
    run_id: int
    return_code: int
    exec_time_minutes: float
    completion_time: str
    status: str
    compute_node_id: int | None = None
    attempt_id: int | None = None
    id: int | None = None
    peak_memory_bytes: int | None = None
    avg_memory_bytes: int | None = None
    peak_cpu_percent: float | None = None
    avg_cpu_percent: float | None = None


# --- relationships ---------------------------------------------------------------------


class JobDependency(Record):
    """Torc's `JobDependencyModel`: `job_id` waits for `depends_on_job_id`."""

    job_id: int
    job_name: str
    depends_on_job_id: int
    depends_on_job_name: str
    workflow_id: int


class JobFileRelationship(Record):
    """Torc's `JobFileRelationshipModel`: a file with the job that writes it and one job that reads it."""

    file_id: int
    file_name: str
    file_path: str
    workflow_id: int
    producer_job_id: int | None = None
    producer_job_name: str | None = None
    consumer_job_id: int | None = None
    consumer_job_name: str | None = None


class JobUserDataRelationship(Record):
    """Torc's `JobUserDataRelationshipModel`: a user_data record with the job that writes it and one that reads it."""

    user_data_id: int
    user_data_name: str
    workflow_id: int
    producer_job_id: int | None = None
    producer_job_name: str | None = None
    consumer_job_id: int | None = None
    consumer_job_name: str | None = None


# --- events ----------------------------------------------------------------------------


class TorcEvent(Struct, kw_only=True):
    """Torc's `EventModel` as a client creates one: `data` is the event; `timestamp` is the server's."""

    workflow_id: int
    data: dict[str, Any]
    timestamp: int | None = None
    id: int | None = None


class TorcComputeNode(Struct, kw_only=True):
    """Torc's `ComputeNodeModel` as its runner sends it back to update it: only `is_active` is read."""

    is_active: bool | None = None
    workflow_id: int | None = None
    hostname: str | None = None
    pid: int | None = None
    start_time: str | None = None
    duration_seconds: float | None = None
    num_cpus: int | None = None
    memory_gb: float | None = None
    num_gpus: int | None = None
    num_nodes: int | None = None
    time_limit: str | None = None
    scheduler_config_id: int | None = None
    compute_node_type: str | None = None
    scheduler: dict[str, Any] | None = None
    id: int | None = None


# --- inputs a run needs --------------------------------------------------------------------


class RequiredFiles(Record):
    """Torc's `ListRequiredExistingFilesResponse`: ids of the files that must exist (inputs no job writes, and the
    outputs of completed jobs)."""

    files: list[int]


class MissingUserData(Record):
    """Torc's `ListMissingUserDataResponse`: ids of user_data records that should hold data and do not."""

    user_data: list[int]


class LatestEventTime(Record):
    """When the workflow's latest event happened (milliseconds since the epoch; null without events)."""

    timestamp: int | None


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


class TorcMembership(Struct, kw_only=True):
    """A membership as Torc's clients send it to add a user to a group."""

    user_name: Name
    group_id: int | None = None
    role: str = "member"
    id: int | None = None
    created_at: str | None = None


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
