"""How a runner tells a person what it is doing: the protocol, and plain timestamped lines."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Protocol

from torc_client import contract as c
from torc_client.core.units import count


class Reporter(Protocol):
    """Where the runner tells a person what is happening (the CLI draws progress from it)."""

    def message(self, text: str) -> None: ...
    def started(self, jobs: list[c.ClaimedJob]) -> None: ...
    def finished(self, job: c.ClaimedJob, outcome: c.JobOutcome, note: str) -> None: ...
    def progress(self, status: c.WorkflowStatus) -> None: ...


class PlainReporter:
    """Timestamped lines on stderr."""

    def message(self, text: str) -> None:
        print(f"{datetime.now():%H:%M:%S} {text}", file=sys.stderr, flush=True)

    def started(self, jobs: list[c.ClaimedJob]) -> None:
        for job in jobs:
            self.message(f"started {job.name} (job {job.id}, attempt {job.attempt_id})")

    def finished(self, job: c.ClaimedJob, outcome: c.JobOutcome, note: str) -> None:
        self.message(f"{outcome.status} {job.name} (job {job.id}) return code {outcome.return_code}"
                     + (f": {note}" if note else ""))  # fmt: skip

    def progress(self, status: c.WorkflowStatus) -> None:
        pass


def unfit_text(group: c.UnfitGroup) -> str:
    """One line naming jobs a runner can never run, and the flags that would let it."""
    rr = group.resource_requirements
    names = ", ".join(group.job_names[:5]) + (" ..." if group.num_jobs > 5 else "")
    return (f"{count(group.num_jobs, 'job')} can never run on this runner ({names}): resource requirements "
            f"'{rr.name}' {'; '.join(group.shortfalls)}")  # fmt: skip
