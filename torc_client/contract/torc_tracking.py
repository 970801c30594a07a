"""Torc's records of what a workflow ran and kept (see `contract.torc`): RO-Crate provenance entities, Slurm
accounting figures, the asynchronous tasks its clients poll, the jobs running now and the Slurm jobs they ran in,
and the answers of its archive and password-reload calls."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Struct

from torc_client.contract.base import Record

#: A task's states, as Torc names them.
TaskStatus = Literal["queued", "running", "succeeded", "failed"]
#: An RO-Crate entity's `@id` or type: not empty.
EntityText = msgspec.Meta(min_length=1, description="Not empty.")


class RoCrateEntity(Struct, kw_only=True):
    """Torc's `RoCrateEntityModel`: one JSON-LD entity of a workflow's RO-Crate (a file's, or any other), its
    `metadata` kept whole."""

    workflow_id: int
    entity_id: Annotated[str, EntityText]
    entity_type: Annotated[str, EntityText]
    metadata: dict[str, Any]
    file_id: int | None = None
    id: int | None = None


class RoCrateEntitiesDeleted(Record):
    """How many RO-Crate entities deleting a workflow's removed."""

    deleted_count: int
    message: str


class Message(Record):
    message: str


class SlurmStats(Struct, kw_only=True):
    """Torc's `SlurmStatsModel`: what Slurm's accounting (`sacct`) measured for one attempt of one job."""

    workflow_id: int
    job_id: int
    run_id: int
    attempt_id: int
    slurm_job_id: str | None = None
    max_rss_bytes: int | None = None
    max_vm_size_bytes: int | None = None
    max_disk_read_bytes: int | None = None
    max_disk_write_bytes: int | None = None
    ave_cpu_seconds: float | None = None
    node_list: str | None = None
    id: int | None = None


class Task(Record):
    """Torc's `TaskModel`: a long operation started on a workflow and how it went (times in milliseconds since the
    epoch)."""

    id: int
    workflow_id: int
    operation: str
    status: TaskStatus
    created_at_ms: int
    started_at_ms: int | None = None
    finished_at_ms: int | None = None
    error: str | None = None


class ActiveTask(Record):
    """The task under way on a workflow, if any."""

    task: Task | None = None


class RunningJob(Record):
    """A running job, where it runs, and since when (RFC 3339)."""

    job_id: int
    job_name: str
    compute_node_name: str
    scheduler_type: str
    scheduler_job_id: str | None = None
    start_time: str | None = None


class SlurmJobCorrelation(Record):
    """A job and the Slurm job (allocation) it ran in."""

    job_id: int
    job_name: str
    slurm_job_id: str


class ArchiveRequest(Struct, kw_only=True):
    is_archived: bool


class AuthReloaded(Record):
    """What re-reading the password file found."""

    message: str
    user_count: int
