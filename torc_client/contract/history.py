"""What runs leave behind, on the wire: results, their resource time series, and events (re-exported by `contract`)."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from torc_client.contract.base import Record
from torc_client.contract.runner import ResourceSample


class Result(Record):
    """The outcome of one attempt of one job in one run."""

    id: int
    workflow_id: int
    job_id: int
    run_id: int
    attempt_id: int
    compute_node_id: int | None
    return_code: int
    status: str
    exec_time_minutes: float
    completion_time: str
    peak_memory_bytes: int | None = None
    avg_memory_bytes: int | None = None
    peak_cpu_percent: float | None = None
    avg_cpu_percent: float | None = None
    #: The job's name, as Torc's server adds it when results are read.
    job_name: str | None = None


class ResourceSeries(Record):
    """The time series of one job attempt (`resource_monitor.granularity: time_series`), from its result."""

    result_id: int
    job_id: int
    run_id: int
    attempt_id: int
    samples: list[ResourceSample]


class Event(Record):
    """Something that happened in a workflow; `id` increases within the workflow."""

    id: int
    workflow_id: int
    #: Milliseconds since the epoch (UTC); `time` is the same instant as ISO 8601 text.
    timestamp: int
    category: str
    message: str = ""
    data: dict[str, Any] = {}
    time: str = ""


class EventCreate(Struct, kw_only=True):
    category: str = "user"
    message: str = ""
    data: dict[str, Any] = {}
