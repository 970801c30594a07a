"""The records `torc reports` prints, built from a workflow's jobs, results and requirements without I/O.

The rules (what counts as over-use, why an attempt failed, what to ask for instead) are
`torc_client.analysis.diagnosis`'s; this module only selects and arranges. Each record's `to_dict()`
is what `-f json` prints, and the tables are drawn from the same records.

Log paths follow the runner's naming (`settings.job_log_stem`) under the output directory a
runner was given. The server does not record that directory, so callers pass the one to
assume (the runner's default, `output`, relative to where it ran).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from torc_client.analysis.diagnosis import (
    Failure,
    JobUsage,
    Sizing,
    classify,
    group_usage,
    job_usage,
    latest_results,
)
from torc_client.contract import Job, ResourceRequirements, Result, Workflow
from torc_client.core import states
from torc_client.core.settings import job_log_stem
from torc_client.core.units import format_span

#: Job statuses whose latest attempt did not succeed.
UNSUCCESSFUL = frozenset(s.value for s in (states.S.FAILED, states.S.TERMINATED, states.S.PENDING_FAILED))
COMPLETED = states.S.COMPLETED.value
#: How many of the longest jobs a summary lists.
SLOWEST = 5
#: Where the runner writes an attempt's stdout (`.o`) and stderr (`.e`), under its output directory.
LOG_PATTERN = "job_stdio/job_wf{workflow_id}_j{job_id}_r{run_id}_a{attempt_id}.o|.e"


def log_pattern(output_dir: str) -> str:
    """The log file names under `output_dir`, with placeholders."""
    return str(Path(output_dir) / LOG_PATTERN)


@dataclass(frozen=True)
class LogDirs:
    """Where an attempt's logs are: the output directory its runner recorded, else `default`.

    Runners record theirs when they start (`ComputeNode.output_dir`); older runners did not, and
    for their attempts `default` (the runner's default, `output`, unless told) is assumed.
    """

    default: str
    by_node: Mapping[int, str] = dataclasses.field(default_factory=dict)

    def of(self, result: Result) -> str:
        return self.by_node.get(result.compute_node_id or -1, self.default)

    def known(self, result: Result) -> bool:
        return (result.compute_node_id or -1) in self.by_node


def log_dirs(output_dir: str | LogDirs) -> LogDirs:
    return output_dir if isinstance(output_dir, LogDirs) else LogDirs(output_dir)


# --- attempts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One attempt of one job: its outcome, its diagnosis and where its stdout and stderr are."""

    result_id: int
    job_id: int
    job_name: str
    run_id: int
    attempt_id: int
    status: str
    return_code: int
    exec_seconds: float
    completion_time: str
    peak_memory_bytes: int | None
    peak_cpu_percent: float | None
    failure: Failure | None
    stdout: str
    stderr: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def attempt_of(result: Result, job_name: str, rr: ResourceRequirements | None,
               output_dir: str | LogDirs) -> Attempt:  # fmt: skip
    """The attempt that `result` records; its logs are where its runner wrote them (`LogDirs`), or under `output_dir`."""
    directory = log_dirs(output_dir).of(result)
    stem = job_log_stem(directory, result.workflow_id, result.job_id, result.run_id, result.attempt_id)
    combined = stem.with_suffix(".log")  # `stdio: {mode: combined}`: one file holds both streams
    out, err = (combined, combined) if combined.exists() else (stem.with_suffix(".o"), stem.with_suffix(".e"))
    return Attempt(
        result_id=result.id, job_id=result.job_id, job_name=job_name, run_id=result.run_id,
        attempt_id=result.attempt_id, status=result.status, return_code=result.return_code,
        exec_seconds=result.exec_time_minutes * 60.0, completion_time=result.completion_time,
        peak_memory_bytes=result.peak_memory_bytes, peak_cpu_percent=result.peak_cpu_percent,
        failure=classify(result, rr), stdout=str(out), stderr=str(err),
    )  # fmt: skip


def attempts(jobs: Iterable[Job], results: Iterable[Result], requirements: Mapping[int, ResourceRequirements],
             output_dir: str | LogDirs) -> list[Attempt]:  # fmt: skip
    """Every attempt in `results`, by job, run and attempt."""
    by_id = {job.id: job for job in jobs}
    ordered = sorted(results, key=lambda r: (r.job_id, r.run_id, r.attempt_id, r.id))
    return [_attempt(r, by_id.get(r.job_id), requirements, output_dir) for r in ordered]


def _attempt(result: Result, job: Job | None, requirements: Mapping[int, ResourceRequirements],
             output_dir: str | LogDirs) -> Attempt:  # fmt: skip
    rr_id = job.resource_requirements_id if job else None
    return attempt_of(result, job.name if job else "", requirements.get(rr_id) if rr_id else None, output_dir)


# --- summary ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """A workflow at a glance: jobs by status, time spent, the longest jobs and the failed ones."""

    workflow_id: int
    workflow_name: str
    workflow_user: str
    run_id: int
    total_jobs: int
    #: Every status, in the order of the job life cycle (zeros included).
    jobs_by_status: dict[str, int]
    #: The sum of the latest attempts' run times.
    total_exec_seconds: float
    #: From the first start to the last completion of the latest attempts (None: no attempt yet).
    walltime_seconds: float | None
    slowest_jobs: list[Attempt]
    failed_jobs: list[Attempt]
    output_dir: str
    #: Per job status, the sum of the run times of its jobs' latest attempts (statuses with an attempt only).
    exec_seconds_by_status: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def all_completed(self) -> bool:
        return self.total_jobs > 0 and self.jobs_by_status.get(COMPLETED, 0) == self.total_jobs

    def to_dict(self) -> dict[str, Any]:
        walltime = self.walltime_seconds
        return {
            **dataclasses.asdict(self), "all_completed": self.all_completed,
            "total_exec_time_minutes": self.total_exec_seconds / 60.0,
            "total_exec_time_formatted": format_span(self.total_exec_seconds),
            "walltime_formatted": None if walltime is None else format_span(walltime),
            "log_pattern": log_pattern(self.output_dir),
        }  # fmt: skip


def summary(workflow: Workflow, jobs: Iterable[Job], results: Iterable[Result],
            requirements: Mapping[int, ResourceRequirements], output_dir: str | LogDirs) -> Summary:  # fmt: skip
    """The summary of `workflow` from its jobs and the results of its current run."""
    jobs = list(jobs)
    latest = latest_results(results)
    counts = {status: 0 for status in states.ALL}
    for job in jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    done = [(job, latest[job.id]) for job in jobs if job.id in latest]
    slowest = sorted(done, key=lambda pair: (-pair[1].exec_time_minutes, pair[0].id))[:SLOWEST]
    failed = [pair for pair in done if pair[0].status in UNSUCCESSFUL]
    return Summary(
        workflow_id=workflow.id, workflow_name=workflow.name, workflow_user=workflow.user, run_id=workflow.run_id,
        total_jobs=len(jobs), jobs_by_status=counts,
        total_exec_seconds=sum(r.exec_time_minutes for r in latest.values()) * 60.0,
        walltime_seconds=walltime_seconds(latest.values()),
        slowest_jobs=[_attempt(r, job, requirements, output_dir) for job, r in slowest],
        failed_jobs=[_attempt(r, job, requirements, output_dir) for job, r in failed],
        output_dir=log_dirs(output_dir).default, exec_seconds_by_status=_seconds_by_status(done),
    )  # fmt: skip


def _seconds_by_status(done: Iterable[tuple[Job, Result]]) -> dict[str, float]:
    """Run time per job status, in the order of the job life cycle."""
    spent: dict[str, float] = {}
    for job, result in done:
        spent[job.status] = spent.get(job.status, 0.0) + result.exec_time_minutes * 60.0
    return {status: spent[status] for status in sorted(spent, key=states.lifecycle_order)}


def walltime_seconds(results: Iterable[Result]) -> float | None:
    """Seconds from the first attempt's start (its completion less its run time) to the last completion."""
    spans = []
    for result in results:
        try:
            end = datetime.fromisoformat(result.completion_time).timestamp()
        except ValueError:
            continue
        spans.append((end - result.exec_time_minutes * 60.0, end))
    if not spans:
        return None
    return max(end for _, end in spans) - min(start for start, _ in spans)


# --- resource utilisation -----------------------------------------------------------------


@dataclass(frozen=True)
class Utilization:
    """Jobs against their requests: the completed ones, the failed ones (when asked) and each group."""

    workflow_id: int
    #: The completed jobs' latest attempts.
    checked: list[JobUsage]
    #: The unsuccessful jobs' latest attempts, each with its diagnosis; None unless asked for.
    failed: list[JobUsage] | None
    #: Per requirements group, over the checked (and failed) jobs.
    groups: list[Sizing]
    #: Whether `jobs` lists every checked job, not only those that used more than they asked for.
    show_all: bool = False

    @property
    def over(self) -> list[JobUsage]:
        """The checked jobs that used more than they asked for."""
        return [u for u in self.checked if u.violations]

    @property
    def under(self) -> list[JobUsage]:
        """The checked jobs that used none of their resources beyond the request and some far below it."""
        return [u for u in self.checked if u.underused and not u.violations]

    @property
    def jobs(self) -> list[JobUsage]:
        """The checked jobs to list."""
        return self.checked if self.show_all else self.over

    def to_dict(self) -> dict[str, Any]:
        return {"workflow_id": self.workflow_id, "jobs_checked": len(self.checked),
                "over_utilization_count": len(self.over), "under_utilization_count": len(self.under),
                "jobs": [u.to_dict() for u in self.jobs],
                "groups": [g.to_dict() for g in self.groups],
                "failed": None if self.failed is None else [u.to_dict() for u in self.failed]}  # fmt: skip


def utilization(workflow_id: int, jobs: Iterable[Job], results: Iterable[Result],
                requirements: Mapping[int, ResourceRequirements], *, show_all: bool = False,
                include_failed: bool = False) -> Utilization:  # fmt: skip
    """What each job of the current run used against its request, from its latest attempt."""
    rows = job_usage(jobs, results, requirements)
    checked = [u for u in rows if u.status == COMPLETED]
    failed = [u for u in rows if u.status != COMPLETED] if include_failed else None
    return Utilization(workflow_id, checked, failed, group_usage(checked + (failed or [])), show_all)
