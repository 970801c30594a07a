"""`WorkflowReader`: what a face reads about one workflow, kept between refreshes.

It remembers the run clock, the requirement names and the latest events, so each refresh
reads only what changed: the status, the events since the last one seen, one page of jobs.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from torc_client import contract as c
from torc_client.client import Client
from torc_client.watching import fetch
from torc_client.watching.paging import JobQuery
from torc_client.watching.snapshot import JobDetail, JobPage, Overview, RunClock

#: Events a face keeps to show (the newest).
KEPT_EVENTS = 500
#: A job's downstream jobs are read this many at a time (the server pages them from the job's own list).
DOWNSTREAM_PAGE = 20


class WorkflowReader:
    """Reads snapshots of one workflow for a face; safe to call from one background thread at a time."""

    def __init__(self, client: Client, workflow_id: int, output_dir: Path | str = "output") -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.output_dir = Path(output_dir).resolve()
        self.name = client.get_workflow(workflow_id).name
        self.clock = RunClock()
        self.events: deque[c.Event] = deque(maxlen=KEPT_EVENTS)
        self.last: Overview | None = None
        self._names: dict[int, str] = {}

    def overview(self, runner: str | None = None) -> Overview:
        """The status and run clock now (reading the events logged since the last call)."""
        status = self.client.workflow_status(self.workflow_id)
        self.clock = fetch.advance_clock(self.client, self.workflow_id, self.clock, seen=self.events.extend)
        self.last = Overview(self.workflow_id, self.name, status, self.clock, runner)
        return self.last

    def page(self, query: JobQuery) -> JobPage:
        """The job table page `query` asks for (the overview is read first if none was)."""
        overview = self.last or self.overview()
        if not self._names:
            self._names = fetch.requirement_names(self.client, self.workflow_id)
        return fetch.job_page(self.client, self.workflow_id, query, overview.status.job_counts, self._names)

    def detail(self, job_id: int) -> JobDetail:
        """One job with its results and log tails; raises ValueError for another workflow's job."""
        run_id = self.last.status.run_id if self.last else 0
        detail = fetch.job_detail(self.client, job_id, self.output_dir, run_id)
        if detail.job.workflow_id != self.workflow_id:
            raise ValueError(f"job {job_id} belongs to workflow {detail.job.workflow_id}, not {self.workflow_id}")
        return detail

    def downstream(self, job_id: int, page: int = 0, page_size: int = DOWNSTREAM_PAGE) -> c.Page[c.Job]:
        """One page of the jobs waiting directly for `job_id`, in id order, with how many there are in all."""
        return fetch.downstream_page(self.client, self.workflow_id, job_id, page * page_size, page_size)
