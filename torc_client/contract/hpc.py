"""The wire records of the HPC part: Slurm schedulers, workflow actions and scheduled compute nodes.

Kept apart from `contract` (the jobs, files and runner protocol) only for size; the same rules apply.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, Struct, UnsetType

from torc_client.contract.base import Name, Record
from torc_client.core import settings
from torc_client.core.allocations import AllocationStatus


class SlurmScheduler(Record):
    """A Slurm allocation shape (what `sbatch` is asked for), named by `schedule_nodes` actions."""

    id: int
    workflow_id: int
    name: str
    account: str
    partition: str | None = None
    nodes: int = 1
    walltime: str = settings.DEFAULT_WALLTIME
    mem: str | None = None
    gres: str | None = None
    qos: str | None = None
    tmp: str | None = None
    ntasks_per_node: int | None = None
    extra: str | None = None


class SlurmSchedulerCreate(Struct, kw_only=True):
    workflow_id: int
    name: Name
    account: str
    partition: str | None = None
    nodes: int = 1
    walltime: str = settings.DEFAULT_WALLTIME
    mem: str | None = None
    gres: str | None = None
    qos: str | None = None
    tmp: str | None = None
    ntasks_per_node: int | None = None
    extra: str | None = None


class SlurmSchedulerUpdate(Struct, kw_only=True):
    name: Name | UnsetType = UNSET
    account: str | UnsetType = UNSET
    partition: str | None | UnsetType = UNSET
    nodes: int | UnsetType = UNSET
    walltime: str | UnsetType = UNSET
    mem: str | None | UnsetType = UNSET
    gres: str | None | UnsetType = UNSET
    qos: str | None | UnsetType = UNSET
    tmp: str | None | UnsetType = UNSET
    ntasks_per_node: int | None | UnsetType = UNSET
    extra: str | None | UnsetType = UNSET


class WorkflowAction(Record):
    """What to do when a trigger fires; pending once `trigger_count` reaches `required_triggers` and not executed."""

    id: int
    workflow_id: int
    trigger_type: str
    action_type: str
    action_config: dict[str, Any]
    job_ids: list[int]
    trigger_count: int
    required_triggers: int
    persistent: bool
    executed: bool
    is_pending: bool
    executed_at: str | None = None
    executed_by: int | None = None


class WorkflowActionCreate(Struct, kw_only=True):
    """A new action, as in a spec, with jobs and scheduler named by id."""

    workflow_id: int
    trigger_type: str
    action_type: str
    job_ids: list[int] = []
    commands: list[str] = []
    scheduler_id: int | None = None
    num_allocations: int = 1
    start_one_worker_per_node: bool = False
    max_parallel_jobs: int | None = None
    persistent: bool = False


class ActionClaim(Struct, kw_only=True):
    """A runner (or, with no compute node, the login node's `torc submit`) takes a pending action to execute."""

    compute_node_id: int | None = None


class ScheduledComputeNode(Record):
    """One allocation requested from a scheduler; status goes pending -> active -> complete."""

    id: int
    workflow_id: int
    #: The allocation's job id in its scheduler (Slurm's job id: an integer, as in Torc).
    scheduler_id: int
    scheduler_config_id: int
    scheduler_type: str = "slurm"
    status: str = AllocationStatus.PENDING.value
    submitted_at: str | None = None
    action_id: int | None = None

    @property
    def slurm_job_id(self) -> str:
        """The job id as Slurm's commands print it and a runner's `SLURM_JOB_ID` holds it."""
        return str(self.scheduler_id)


class ScheduledComputeNodeCreate(Struct, kw_only=True):
    workflow_id: int
    scheduler_id: int
    scheduler_config_id: int
    scheduler_type: str = "slurm"
    status: str = AllocationStatus.PENDING.value
    action_id: int | None = None


class ScheduledComputeNodeUpdate(Struct, kw_only=True):
    status: str | UnsetType = UNSET
