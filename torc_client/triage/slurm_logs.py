"""What Slurm's own logs of a workflow's allocations say, per allocation and per job (pure: texts in, issues out).

Slurm writes an allocation's output and errors to `slurm_output_wf{W}_sl{SLURM_JOB_ID}.o|.e`
(the names Torc's and this project's batch scripts use). Each line that shows a known cause
(`patterns.SLURM_CAUSES`) is an issue of that allocation; the jobs that ran in the
allocation (known from the runners' records) are the jobs it may have affected.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torc_client.triage.patterns import SLURM_CAUSES, cause_of

#: An allocation's log file name: the workflow id and the Slurm job id.
LOG_NAME = re.compile(r"^slurm_output_wf(\d+)_sl(\d+)\.[oe]$")
#: A node named in a Slurm message: `node3`, `x1000c0s1b0n0`, `r101u07`.
_NODE = re.compile(r"\b(?:on|node|nodes?=|host)\s*:?\s*([A-Za-z][\w-]*\d[\w-]*)", re.IGNORECASE)
_SRUN_NODE = re.compile(r"srun: error: ([A-Za-z][\w-]*\d[\w-]*): task")


def allocation_of(file_name: str, workflow_id: int) -> str | None:
    """The Slurm job id an allocation log of `workflow_id` is named for (None: not one of its logs)."""
    found = LOG_NAME.match(file_name)
    return found.group(2) if found and int(found.group(1)) == workflow_id else None


@dataclass(frozen=True)
class AffectedJob:
    job_id: int
    job_name: str
    status: str


@dataclass(frozen=True)
class SlurmIssue:
    """One line of an allocation's Slurm log that shows a known cause."""

    file: str
    slurm_job_id: str
    line_number: int
    line: str
    cause: str
    severity: str
    node: str | None
    affected_jobs: list[AffectedJob]


@dataclass
class JobIssues:
    """The causes Slurm's logs show for the allocations one job ran in."""

    job_id: int
    job_name: str
    status: str
    causes: list[str] = field(default_factory=list)
    slurm_job_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SlurmReport:
    workflow_id: int
    files_scanned: int
    issues: list[SlurmIssue]
    jobs: list[JobIssues]

    def to_dict(self) -> dict[str, Any]:
        return {"workflow_id": self.workflow_id, "files_scanned": self.files_scanned,
                "total_issues": len(self.issues), "errors": sum(i.severity == "error" for i in self.issues),
                "warnings": sum(i.severity == "warning" for i in self.issues),
                "issues": [dataclasses.asdict(i) for i in self.issues],
                "jobs": [dataclasses.asdict(j) for j in self.jobs]}  # fmt: skip


def node_of(line: str) -> str | None:
    """The node a Slurm message names, if it names one."""
    found = _SRUN_NODE.search(line) or _NODE.search(line)
    return found.group(1) if found else None


def issues_in(file: str, slurm_job_id: str, text: str, affected: list[AffectedJob],
              errors_only: bool = False) -> list[SlurmIssue]:  # fmt: skip
    """Every line of one allocation log that shows a known cause."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = cause_of(line, SLURM_CAUSES)
        if match is None or (errors_only and match[1].severity != "error"):
            continue
        found.append(SlurmIssue(file, slurm_job_id, number, line.strip()[:300], match[1].name, match[1].severity,
                                node_of(line), affected))  # fmt: skip
    return found


def report(workflow_id: int, logs: Iterable[tuple[str, str, str]], jobs_by_allocation: Mapping[str, list[AffectedJob]],
           errors_only: bool = False) -> SlurmReport:  # fmt: skip
    """Issues of every (file, Slurm job id, text) in `logs`, and for each affected job the causes seen."""
    issues: list[SlurmIssue] = []
    files = 0
    for file, slurm_id, text in sorted(logs):
        files += 1
        issues += issues_in(file, slurm_id, text, jobs_by_allocation.get(slurm_id, []), errors_only)
    per_job: dict[int, JobIssues] = {}
    for issue in issues:
        for job in issue.affected_jobs:
            entry = per_job.setdefault(job.job_id, JobIssues(job.job_id, job.job_name, job.status))
            if issue.cause not in entry.causes:
                entry.causes.append(issue.cause)
            if issue.slurm_job_id not in entry.slurm_job_ids:
                entry.slurm_job_ids.append(issue.slurm_job_id)
    return SlurmReport(workflow_id, files, issues, [per_job[j] for j in sorted(per_job)])
