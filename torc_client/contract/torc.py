"""Records of the operations Torc's API has and this server's own protocol does not need.

Torc's clients (its published Python package, Julia, the Rust runner) create jobs in
bulk, claim jobs and report their start and completion one job at a time, and read a
workflow's relationships as listings. These are their requests and answers, with Torc's
field names; the server maps them onto its own claim, lease and completion machinery.
Requests accept the fields Torc's models carry even where this server keeps no use for
them (Torc's clients send them), so a record read back and sent again is accepted.
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from torc_client.contract.base import Command, Name, Record
from torc_client.contract.records import Job

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
