"""Records of Torc's batch calls: files and user_data created in bulk, many completions in one request, and the
jobs a running job adds to its workflow (`spawn_jobs`), with Torc's field names."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from torc_client.contract.base import Command, Name, Record
from torc_client.contract.records import File, UserData
from torc_client.contract.torc import TorcResult

# --- files and user_data in bulk --------------------------------------------------------


class TorcFile(Struct, kw_only=True):
    """Torc's `FileModel` as a client sends it: `id` is the server's and is ignored."""

    workflow_id: int
    name: Name
    path: str
    st_mtime: float | None = None
    id: int | None = None


class FilesBatch(Struct, kw_only=True):
    """Torc's `FilesModel`: the body of `POST /bulk_files`."""

    files: list[TorcFile]


class CreatedFiles(Record):
    """Torc's `CreateFilesResponse`: the created files, in the order they were sent."""

    files: list[File]


class TorcUserData(Struct, kw_only=True):
    """Torc's `UserDataModel` as a client sends it: `id` is the server's and is ignored."""

    workflow_id: int
    name: Name
    data: Any = None
    is_ephemeral: bool | None = None
    id: int | None = None


class UserDataBatch(Struct, kw_only=True):
    """Torc's `UserDataListModel`: the body of `POST /bulk_user_data`."""

    user_data: list[TorcUserData]


class CreatedUserData(Record):
    """Torc's `CreateUserDataListResponse`: the created records, in the order they were sent."""

    user_data: list[UserData]


# --- many completions in one request -----------------------------------------------------


class CompletionEntry(Struct, kw_only=True):
    """Torc's `JobCompletionEntry`: what one `complete_job` call would carry."""

    job_id: int
    run_id: int
    status: str
    result: TorcResult


class CompletionBatch(Struct, kw_only=True):
    """Torc's `BatchCompleteJobsRequest`."""

    completions: list[CompletionEntry]


class CompletionError(Record):
    """Torc's `JobCompletionError`: why one completion of a batch was refused."""

    job_id: int
    message: str


class CompletionsDone(Record):
    """Torc's `BatchCompleteJobsResponse`: the jobs whose completion was stored, and the refusals."""

    completed: list[int]
    errors: list[CompletionError]


# --- jobs a running job adds ----------------------------------------------------------


class SpawnJob(Struct, kw_only=True):
    """Torc's `SpawnJobModel`: `depends_on` names jobs of the workflow or of the same request;
    `resource_requirements` names a resource requirement of the workflow."""

    name: Name
    command: Command
    depends_on: list[str] | None = None
    resource_requirements: str | None = None
    priority: int | None = None
    cancel_on_blocking_job_failure: bool | None = None


class SpawnRequest(Struct, kw_only=True):
    """Torc's `SpawnJobsRequest`: the jobs (may be empty), the lineage (the calling job's name by default), and an
    opaque state kept with this generation (or as the final state when no jobs are given)."""

    jobs: list[SpawnJob]
    lineage: Name | None = None
    state: Any = None


class Spawned(Record):
    """Torc's `SpawnJobsResponse`: the lineage's generation counter after the call, and the new jobs' ids."""

    iteration: int
    spawned_job_ids: list[int]
