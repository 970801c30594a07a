"""The runner's protocol: claiming jobs and reporting what became of them (re-exported by `contract`)."""

from __future__ import annotations

from typing import Any, Literal

from msgspec import Struct

from torc_client.contract.base import Record


class ClaimRequest(Struct, kw_only=True):
    """A runner asks for up to `limit` ready jobs that fit its free resources."""

    compute_node_id: int
    limit: int
    num_cpus: int = 1
    memory_gb: float = 1.0
    num_gpus: int = 0
    num_nodes: int = 1
    time_limit_seconds: float | None = None
    ignore_resources: bool = False
    #: Mark the claimed jobs running at once (the runner launches them on receipt): saves a start report.
    start: bool = False
    #: Jobs that finished since the last request, completed before claiming (saves a completion report).
    outcomes: list[JobOutcome] = []
    #: Jobs launched since the last request (pending -> running); a job that also finished is only in `outcomes`.
    starts: list[JobStart] = []
    #: Claimed jobs the runner will not run after all: back to the ready queue, without counting as a lost lease.
    returned: list[JobStart] = []
    #: Extra jobs to hold in the runner's local backlog beyond what fits now; each must fit the compute node's
    #: registered resources. It keeps a runner busy while its next request is in flight.
    backlog: int = 0
    #: Chosen by the runner and kept when it retries: a claim the server already answered (the answer was lost
    #: on the way) is answered again with the same jobs, instead of leaving those pending and taking more.
    request_id: str | None = None


class FileRef(Record):
    id: int
    path: str


class StdioConfig(Record):
    """Where a job's stdout and stderr go (Torc's `StdioConfig`).

    `mode`: `separate` (a `.o` and a `.e` file per attempt), `combined` (one `.log` file),
    `no_stdout` or `no_stderr` (that stream discarded) or `none` (both discarded).
    `delete_on_success`: the captured files are deleted when the job completes (return code 0).
    """

    mode: Literal["separate", "combined", "no_stdout", "no_stderr", "none"] = "separate"
    delete_on_success: bool = False


class ClaimedJob(Record):
    """A job handed to one runner; reports about it must carry `claim_token`."""

    id: int
    workflow_id: int
    name: str
    command: str
    invocation_script: str | None
    run_id: int
    attempt_id: int
    claim_token: str
    resource_requirements_id: int
    num_cpus: int
    num_gpus: int
    num_nodes: int
    memory_bytes: int
    runtime_s: float
    supports_termination: bool = False
    output_files: list[FileRef] = []
    #: The job's failure-handler rules (`exit_codes`, `match_all_exit_codes`, `recovery_script`, `max_retries`).
    failure_rules: list[dict[str, Any]] = []
    #: Environment variables set for its command (the workflow's `env` with the job's own over it).
    env: dict[str, str] = {}
    #: Its own stdout and stderr settings; None: the workflow's `execution_config.stdio`.
    stdio: StdioConfig | None = None


class ClaimResponse(Record):
    jobs: list[ClaimedJob]
    run_id: int
    is_canceled: bool
    is_complete: bool
    reason: str | None = None
    #: The jobs are already running (the request asked for `start`).
    started: bool = False
    #: What became of the outcomes sent with the claim.
    report: ReportResponse | None = None
    #: The server's pacing: send the next request no sooner than this many seconds after this answer (short when
    #: the server is idle, longer under load; None: whenever there is something to say). A runner keeps enough
    #: claimed jobs waiting to cover the time until then.
    next_exchange_seconds: float | None = None


class JobStart(Struct, kw_only=True):
    job_id: int
    claim_token: str
    #: For a running job a runner returns (stopped at its allocation's end): how it ended, and after how long.
    return_code: int | None = None
    exec_time_minutes: float = 0.0


class StartReport(Struct, kw_only=True):
    compute_node_id: int
    jobs: list[JobStart]


class ResourceSample(Struct, array_like=True, frozen=True):
    """One sample of a job's processes, sent as `[t, cpu_percent, memory_bytes, num_processes]`.

    `t` is seconds since the job was launched; CPU % may exceed 100 on several cores.
    """

    t: float
    cpu_percent: float
    memory_bytes: int
    num_processes: int


class JobOutcome(Struct, kw_only=True):
    """What happened to one claimed job, as its runner saw it."""

    job_id: int
    claim_token: str
    status: str
    return_code: int
    exec_time_minutes: float
    completion_time: str
    peak_memory_bytes: int | None = None
    avg_memory_bytes: int | None = None
    peak_cpu_percent: float | None = None
    avg_cpu_percent: float | None = None
    #: The job's samples, with `resource_monitor.granularity: time_series` (kept with its result).
    samples: list[ResourceSample] | None = None
    output_file_mtimes: dict[int, float] = {}
    #: The runner ran the failure handler's recovery and asks for another attempt.
    retry: bool = False


class CompleteReport(Struct, kw_only=True):
    """Finished jobs, and optionally starts and returned jobs, as in a claim without the claiming."""

    compute_node_id: int
    outcomes: list[JobOutcome]
    starts: list[JobStart] = []
    returned: list[JobStart] = []


class Rejection(Record):
    job_id: int
    reason: str


class ReportResponse(Record):
    """Which reported jobs were accepted, and why the others were refused."""

    accepted: list[int]
    rejected: list[Rejection] = []


