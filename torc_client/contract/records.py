"""The wire contract: every record the API sends or receives.

One module, shared by the API (Litestar speaks msgspec natively) and the client.
Field names follow NREL Torc's (`id`, `workflow_id`, `status`, `run_id`, ...).
Create records carry what a caller supplies; update records default every field
to `UNSET`, so a PATCH-style update changes only what it names.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

from torc_client.contract.base import Command, Name, Record, SortMethod
from torc_client.contract.runner import StdioConfig

# --- workflows ---------------------------------------------------------------------


class ResourceMonitorConfig(Record):
    """How runners sample the resources of each job."""

    enabled: bool = True
    granularity: str = "summary"
    sample_interval_seconds: float = 5.0
    #: Torc's keys, accepted so its specs load: plots come from the notebook dashboard, and CPU and memory
    #: are always what is sampled.
    generate_plots: bool = False
    metrics: list[str] = []


class ExecutionConfig(Record):
    """How runners launch jobs (Torc's `execution_config`).

    `auto`: inside a Slurm allocation each job is a job step (`srun --exact` with its CPUs,
    memory and GPUs), elsewhere a child process; `direct`: always a child process (the
    opt-out); `slurm`: as `auto` (a job step wherever there is an allocation). `stdio`: how
    jobs' stdout and stderr are kept, unless a job has its own.
    """

    mode: str = "auto"
    stdio: StdioConfig | None = None


class Workflow(Record):
    """A workflow: a named set of jobs, files, user_data and resource requirements."""

    id: int
    name: str
    description: str | None = None
    user: str = ""
    timestamp: str = ""
    working_dir: str | None = None
    project: str | None = None
    metadata: dict[str, Any] | None = None
    run_id: int = 0
    is_initialized: bool = False
    is_canceled: bool = False
    is_archived: bool = False
    #: In words: `new` (not initialised), `running` (jobs left), `complete`, `canceled`.
    status: str = "new"
    jobs_sort_method: str = "gpus_runtime_memory"
    use_pending_failed: bool = False
    compute_node_expiration_buffer_seconds: int = 60
    compute_node_wait_for_new_jobs_seconds: int = 0
    compute_node_ignore_workflow_completion: bool = False
    compute_node_wait_for_healthy_database_minutes: float = 20
    compute_node_min_time_for_new_jobs_seconds: int | None = None
    resource_monitor: ResourceMonitorConfig = msgspec.field(default_factory=ResourceMonitorConfig)
    execution_config: ExecutionConfig = msgspec.field(default_factory=ExecutionConfig)
    #: sbatch options added to every Slurm allocation of this workflow.
    slurm_defaults: dict[str, Any] = {}
    #: Environment variables the spec set for every job (already merged into each job's own `env`).
    env: dict[str, str] = {}


class WorkflowUpdate(Struct, kw_only=True):
    """Fields of a workflow a caller may change."""

    name: Name | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    project: str | None | UnsetType = UNSET
    metadata: dict[str, Any] | None | UnsetType = UNSET
    is_archived: bool | UnsetType = UNSET
    jobs_sort_method: SortMethod | UnsetType = UNSET
    use_pending_failed: bool | UnsetType = UNSET
    compute_node_expiration_buffer_seconds: int | UnsetType = UNSET
    compute_node_wait_for_new_jobs_seconds: int | UnsetType = UNSET
    compute_node_ignore_workflow_completion: bool | UnsetType = UNSET
    compute_node_wait_for_healthy_database_minutes: int | UnsetType = UNSET
    compute_node_min_time_for_new_jobs_seconds: int | None | UnsetType = UNSET


class Creation(Record):
    """How far the server is in creating a workflow from a spec, named by the client's `request_id`.

    `stage` is `checking` (the spec), `inserting` (`done` of `total` jobs stored), `done` (the
    workflow is `workflow_id`) or `failed`.
    """

    request_id: str
    stage: str
    done: int = 0
    total: int = 0
    workflow_id: int | None = None


class WorkflowStatus(Record):
    """Where a workflow stands: its run, its flags and how many jobs are in each status.

    `job_counts` lists the statuses that have jobs; the fields from `workflow_name` on are Torc's
    status summary (`jobs_by_status` has every status, zeros included).
    """

    workflow_id: int
    run_id: int
    is_initialized: bool
    is_canceled: bool
    is_archived: bool
    is_complete: bool
    num_jobs: int
    job_counts: dict[str, int]
    workflow_name: str = ""
    workflow_user: str = ""
    total_jobs: int = 0
    jobs_by_status: dict[str, int] = {}
    active_compute_nodes: int = 0
    active_scheduled_nodes: int = 0
    pending_scheduled_nodes: int = 0
    total_exec_time_minutes: float = 0.0
    walltime_seconds: float | None = None


class InitializeResult(Record):
    """What initialising a workflow did."""

    workflow_id: int
    run_id: int
    job_counts: dict[str, int]
    warnings: list[str] = []


# --- jobs --------------------------------------------------------------------------


class Job(Record):
    """One command-line job."""

    id: int
    workflow_id: int
    name: str
    command: str
    status: str
    invocation_script: str | None = None
    resource_requirements_id: int | None = None
    failure_handler_id: int | None = None
    cancel_on_blocking_job_failure: bool = True
    supports_termination: bool = False
    attempt_id: int = 1
    depends_on_job_ids: list[int] = []
    input_file_ids: list[int] = []
    output_file_ids: list[int] = []
    input_user_data_ids: list[int] = []
    output_user_data_ids: list[int] = []
    active_compute_node_id: int | None = None
    #: The command and invocation script as the spec wrote them, when `${user_data.*}` variables in them became
    #: record ids (what `torc workflows export` writes).
    spec_command: str | None = None
    spec_invocation_script: str | None = None
    #: The Slurm scheduler the spec assigned the job to, by name.
    scheduler: str | None = None
    #: Claimed before jobs of lower priority queued with it (spec key `priority`; default 0).
    priority: int = 0
    #: The Slurm scheduler record the job is meant for, by id (Torc's `scheduler_id`).
    scheduler_id: int | None = None
    #: Environment variables set for its command: the workflow's `env` with the job's own over it.
    env: dict[str, str] | None = None
    #: Its own stdout and stderr settings; None: the workflow's `execution_config.stdio`.
    stdio: StdioConfig | None = None


class JobCreate(Struct, kw_only=True):
    """A job added to an existing, not yet initialised workflow."""

    workflow_id: int
    name: Name
    command: Command
    invocation_script: str | None = None
    resource_requirements_id: int | None = None
    scheduler_id: int | None = None
    cancel_on_blocking_job_failure: bool = True
    supports_termination: bool = False
    #: Null is taken as empty, as Torc's server takes it (its clients send null for a list they leave unset).
    depends_on_job_ids: list[int] | None = []
    input_file_ids: list[int] | None = []
    output_file_ids: list[int] | None = []
    input_user_data_ids: list[int] | None = []
    output_user_data_ids: list[int] | None = []
    #: Environment variables for its command, over the workflow's `env` (names as a shell takes them).
    env: dict[str, str] | None = None
    #: Its own stdout and stderr settings, over the workflow's `execution_config.stdio`.
    stdio: StdioConfig | None = None

    def __post_init__(self) -> None:
        for field in ("depends_on_job_ids", "input_file_ids", "output_file_ids", "input_user_data_ids",
                      "output_user_data_ids"):  # fmt: skip
            if getattr(self, field) is None:
                setattr(self, field, [])


class JobUpdate(Struct, kw_only=True):
    """Fields of a job a caller may change (name and command only before initialisation).

    A whole job read and sent back (Torc's read-modify-write) is accepted: fields equal to the stored
    ones change nothing, and fields not listed here (`id`, the relationships) are ignored.
    """

    name: Name | UnsetType = UNSET
    command: Command | UnsetType = UNSET
    invocation_script: str | None | UnsetType = UNSET
    resource_requirements_id: int | UnsetType = UNSET
    scheduler_id: int | None | UnsetType = UNSET
    cancel_on_blocking_job_failure: bool | UnsetType = UNSET
    supports_termination: bool | UnsetType = UNSET
    status: str | UnsetType = UNSET


# --- files, user_data, resource requirements ---------------------------------------


class File(Record):
    """A file that jobs read or write; `st_mtime` is null until the file is known to exist."""

    id: int
    workflow_id: int
    name: str
    path: str
    st_mtime: float | None = None


class FileCreate(Struct, kw_only=True):
    workflow_id: int
    name: Name
    path: str


class FileUpdate(Struct, kw_only=True):
    name: Name | UnsetType = UNSET
    path: str | UnsetType = UNSET
    st_mtime: float | None | UnsetType = UNSET


class UserData(Record):
    """A small JSON document stored in the database, read and written by jobs."""

    id: int
    workflow_id: int
    name: str
    data: Any = None
    is_ephemeral: bool = False


class UserDataCreate(Struct, kw_only=True):
    workflow_id: int
    name: Name
    data: Any = None
    is_ephemeral: bool = False


class UserDataUpdate(Struct, kw_only=True):
    name: Name | UnsetType = UNSET
    data: Any | UnsetType = UNSET
    is_ephemeral: bool | UnsetType = UNSET


class ResourceRequirements(Record):
    """What one job needs: CPUs, GPUs, nodes, memory and run time."""

    id: int
    workflow_id: int
    name: str
    num_cpus: int = 1
    num_gpus: int = 0
    num_nodes: int = 1
    memory: str = "1m"
    runtime: str = "PT1H"
    memory_bytes: int = 1 << 20
    runtime_s: float = 3600.0


class ResourceRequirementsCreate(Struct, kw_only=True):
    workflow_id: int
    name: Name
    num_cpus: int = 1
    num_gpus: int = 0
    num_nodes: int = 1
    memory: str = "1m"
    runtime: str = "PT1H"


class ResourceRequirementsUpdate(Struct, kw_only=True):
    name: Name | UnsetType = UNSET
    num_cpus: int | UnsetType = UNSET
    num_gpus: int | UnsetType = UNSET
    num_nodes: int | UnsetType = UNSET
    memory: str | UnsetType = UNSET
    runtime: str | UnsetType = UNSET


# --- compute nodes (results and events: `torc_client.contract.history`) ------------


class ComputeNode(Record):
    """One runner process, holding a lease it renews with heartbeats."""

    id: int
    workflow_id: int
    hostname: str
    pid: int
    start_time: str
    is_active: bool = True
    duration_seconds: float | None = None
    num_cpus: int = 1
    memory_gb: float = 1.0
    num_gpus: int = 0
    num_nodes: int = 1
    time_limit: str | None = None
    compute_node_type: str = "local"
    #: The Slurm job id of the allocation the runner works in.
    scheduler_id: str | None = None
    lease_expires_at: str | None = None
    #: The runner's output directory (absolute): its jobs' logs are under `job_stdio/` there.
    output_dir: str | None = None


class ComputeNodeCreate(Struct, kw_only=True):
    workflow_id: int
    hostname: str
    pid: int
    num_cpus: int = 1
    memory_gb: float = 1.0
    num_gpus: int = 0
    num_nodes: int = 1
    time_limit: str | None = None
    compute_node_type: str = "local"
    #: The Slurm job id of the allocation the runner works in.
    scheduler_id: str | None = None
    #: The runner's output directory (absolute), where its jobs' logs go.
    output_dir: str | None = None


class Heartbeat(Record):
    """The answer to a heartbeat: the renewed lease and whether to stop."""

    compute_node_id: int
    lease_expires_at: str
    lease_seconds: float
    is_active: bool
    is_canceled: bool


class UnfitGroup(Record):
    """Unfinished jobs that need more than a runner has, with the flags that would let them run."""

    resource_requirements: ResourceRequirements
    num_jobs: int
    job_names: list[str]
    shortfalls: list[str]
