"""Group jobs by what went wrong, from the text of their logs (pure: texts in, families out).

Each job gets one finding: the highest-priority cause in its stderr, else in its stdout,
with the first line showing it. Jobs whose findings share a cause and a `signature` (the
line with numbers and quoted values blanked) form a family. Jobs whose logs show nothing
known form a family per return code, so every unsuccessful job is somewhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from torc_client.triage.patterns import JOB_CAUSES, Cause, cause_of, signature

#: The cause of jobs whose logs say nothing known.
UNEXPLAINED = "no known error in the logs"


@dataclass(frozen=True)
class JobLogs:
    """One attempt of one job and the text of its logs (empty when a file is missing)."""

    job_id: int
    job_name: str
    status: str
    return_code: int | None
    stdout: str = ""
    stderr: str = ""
    stdout_path: str = ""
    stderr_path: str = ""


@dataclass(frozen=True)
class Finding:
    """Why one job failed, as its logs say: the cause, the line and where it is."""

    job_id: int
    cause: str
    severity: str
    line: str
    file: str
    line_number: int


@dataclass
class Family:
    """Jobs that failed the same way."""

    cause: str
    signature: str
    #: The first line of the first job, as written.
    example: str
    severity: str = "error"
    job_ids: list[int] = field(default_factory=list)
    job_names: list[str] = field(default_factory=list)
    return_codes: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.job_ids)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Analysis:
    """A workflow's failure families, largest first."""

    workflow_id: int | None
    jobs_scanned: int
    files_scanned: int
    families: list[Family]

    def to_dict(self) -> dict[str, Any]:
        return {"workflow_id": self.workflow_id, "jobs_scanned": self.jobs_scanned,
                "files_scanned": self.files_scanned, "family_count": len(self.families),
                "families": [f.to_dict() for f in self.families]}  # fmt: skip


def finding(job: JobLogs, causes: tuple[Cause, ...] = JOB_CAUSES) -> Finding | None:
    """The best-ranked cause in the job's stderr, else its stdout (earliest line among equals)."""
    for text, path in ((job.stderr, job.stderr_path), (job.stdout, job.stdout_path)):
        best: tuple[int, int, Cause, str] | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            found = cause_of(line, causes)
            if found and (best is None or found[0] < best[0]):
                best = (found[0], number, found[1], line.strip())
        if best is not None:
            return Finding(job.job_id, best[2].name, best[2].severity, best[3], path, best[1])
    return None


def families(jobs: Iterable[JobLogs], workflow_id: int | None = None, files_scanned: int = 0) -> Analysis:
    """Group `jobs` into families by cause and signature; the largest family first, then by first job id."""
    groups: dict[tuple[str, str], Family] = {}
    scanned = 0
    for job in sorted(jobs, key=lambda j: j.job_id):
        scanned += 1
        found = finding(job)
        if found is None:
            key = (UNEXPLAINED, f"return code {job.return_code}")
            family = groups.setdefault(key, Family(UNEXPLAINED, key[1], "", "warning"))
        else:
            key = (found.cause, signature(found.line))
            family = groups.setdefault(key, Family(found.cause, key[1], found.line, found.severity))
            family.files.append(f"{found.file}:{found.line_number}")
        family.job_ids.append(job.job_id)
        family.job_names.append(job.job_name)
        family.statuses.append(job.status)
        if job.return_code is not None:
            family.return_codes.append(job.return_code)
    ordered = sorted(groups.values(), key=lambda f: (-f.count, f.job_ids[0]))
    return Analysis(workflow_id, scanned, files_scanned, ordered)
