"""The wire records of a finished run carried from one server to another (`workflows export --include-results
--include-events`, then `workflows import`): job statuses, results and events, naming jobs by name."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from torc_client.contract.base import Record


class ArchivedResult(Struct, kw_only=True):
    """One attempt of one job, its job named (ids differ between servers)."""

    job_name: str
    run_id: int
    attempt_id: int
    return_code: int
    status: str
    exec_time_minutes: float
    completion_time: str
    peak_memory_bytes: int | None = None
    avg_memory_bytes: int | None = None
    peak_cpu_percent: float | None = None
    avg_cpu_percent: float | None = None


class ArchivedEvent(Struct, kw_only=True):
    """One event as it was recorded; the job ids in its data are the exporting server's (see `History.job_names`)."""

    timestamp: int
    category: str
    message: str = ""
    data: dict[str, Any] = {}


class History(Struct, kw_only=True):
    """What a workflow's runs left behind: where its last run ended, and optionally its results and events."""

    run_id: int
    #: job name -> status at the end of run `run_id`.
    job_statuses: dict[str, str]
    results: list[ArchivedResult] | None = None
    events: list[ArchivedEvent] | None = None
    #: The exporting server's job id -> job name, to translate the job ids in events' data.
    job_names: dict[str, str] = {}


class HistoryRestored(Record):
    """What an import of a history restored."""

    workflow_id: int
    run_id: int
    jobs: int
    results: int
    events: int
    job_counts: dict[str, int]
