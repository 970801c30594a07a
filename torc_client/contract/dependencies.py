"""The wire records of dependency questions: why a job waits (`JobWhy`) and a workflow's stages (`ExecutionPlan`)."""

from __future__ import annotations

from torc_client.contract.base import Record


class JobRef(Record):
    """A job named in an answer: its id, name and status as a caller sees it."""

    id: int
    name: str
    status: str
    #: How many unfinished upstream jobs it still waits for itself (0 unless it is blocked).
    num_waiting_on: int = 0


class RootCause(JobRef):
    """An unfinished upstream job that is not blocked: what a waiting job is really waiting for."""

    #: What this job's status means for the jobs behind it, in words.
    note: str = ""


class MissingInput(Record):
    """An input file that does not exist or is not produced yet, or an input user_data record still empty."""

    kind: str
    id: int
    name: str
    #: The file's path (None for user_data).
    path: str | None = None
    #: Why it is missing, in words.
    reason: str = ""
    #: The job that writes it, if one of the job's upstream jobs does.
    producer: JobRef | None = None


class JobWhy(Record):
    """What a job waits for: its unfinished upstream jobs, the jobs at the root of those, and missing inputs.

    The root walk reads at most a bounded number of jobs: when `walk_complete` is false, `num_roots` counts the
    roots found before the walk stopped (there may be more).
    """

    job: JobRef
    workflow_id: int
    workflow_initialized: bool
    workflow_canceled: bool
    cancel_on_blocking_job_failure: bool
    num_upstream: int
    num_waiting_on: int
    #: The first of the unfinished upstream jobs it waits for (`num_waiting_on` counts them all).
    waiting_on: list[JobRef] = []
    #: The first of the unfinished, not blocked jobs at the bottom of the chains it waits on.
    roots: list[RootCause] = []
    num_roots: int = 0
    walk_complete: bool = True
    jobs_read: int = 0
    missing_files: list[MissingInput] = []
    missing_user_data: list[MissingInput] = []
    #: For a canceled job: the upstream jobs whose failure canceled it (through the canceled jobs between).
    canceled_by: list[JobRef] = []
    #: The answer in one line.
    verdict: str = ""


class StageResources(Record):
    """The jobs of one stage that share one set of resource requirements."""

    name: str
    num_jobs: int
    num_cpus: int = 1
    num_gpus: int = 0
    num_nodes: int = 1
    memory: str = "1m"
    runtime: str = "PT1H"


class PlanStage(Record):
    """One stage: jobs whose upstream jobs are all in earlier stages."""

    stage: int
    num_jobs: int
    #: The first jobs of the stage, by name (and by id, for a stored workflow).
    job_names: list[str] = []
    job_ids: list[int] = []
    #: Jobs per status (stored workflows only).
    job_counts: dict[str, int] = {}
    resource_requirements: list[StageResources] = []


class ExecutionPlan(Record):
    """The stages in which a workflow's jobs run: stage 1 waits for nothing, stage k only for earlier stages."""

    name: str
    num_jobs: int
    #: Every stage is counted; `stages` lists the first 1,000.
    num_stages: int
    stages: list[PlanStage]
    #: None when the plan comes from a spec file.
    workflow_id: int | None = None
    spec_file: str | None = None
