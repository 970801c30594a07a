"""What starting a workflow's run again answers, on the wire (re-exported by `contract`)."""

from __future__ import annotations

from torc_client.contract.base import Record


class RerunReason(Record):
    """Why one job will run again at the next reinitialisation."""

    job_id: int
    job_name: str
    status: str
    reasons: list[str]


class ReinitializeResult(Record):
    """What a reinitialisation did (or, with dry_run, would do)."""

    workflow_id: int
    run_id: int
    dry_run: bool
    jobs: list[RerunReason]
    job_counts: dict[str, int]


class ResetResult(Record):
    workflow_id: int
    updated_count: int
    reset_type: str
    job_counts: dict[str, int]
