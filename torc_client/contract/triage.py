"""The wire records of triage: resetting exactly the jobs a user chose (`torc jobs reset-status`)."""

from __future__ import annotations

from msgspec import Struct

from torc_client.contract.base import Record
from torc_client.contract.reruns import ReinitializeResult


class JobsResetRequest(Struct, kw_only=True):
    """Which jobs to reset: the listed ids (all jobs when none), narrowed by status and by return code.

    At least one of the three must be given. The return code is that of each job's latest
    attempt (of any run: a job not rerun since still exited with its last code).
    """

    job_ids: list[int] = []
    status: str | None = None
    return_code: int | None = None
    #: Then start a new run in which the reset jobs (and jobs whose inputs changed) run again.
    reinitialize: bool = False
    #: Reset even while jobs are pending or running.
    force: bool = False
    #: Only say which jobs would be reset (the `reset_job_ids` of the answer); change nothing.
    dry_run: bool = False


class JobsResetResult(Record):
    """What a selective reset did."""

    workflow_id: int
    #: The jobs the selection matched.
    selected_job_ids: list[int]
    #: The jobs put back to uninitialized: the selected ones and everything downstream of them.
    reset_job_ids: list[int]
    updated_count: int
    job_counts: dict[str, int]
    #: The new run's reruns, when asked to reinitialise.
    reinitialized: ReinitializeResult | None = None
