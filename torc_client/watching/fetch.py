"""Snapshots from a server (and from the runner's log files): the only module of the faces that does I/O.

Every function reads the least that its view needs. The job table reads one page through
the server's paged listing, never the whole workflow; the graph and the resource plots read
every job, so the dashboard asks for them only when their tab is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from torc_client import contract as c
from torc_client.analysis import series
from torc_client.analysis.diagnosis import JobUsage, job_usage
from torc_client.client import Client
from torc_client.core import settings
from torc_client.watching import paging
from torc_client.watching.layout import GraphJob
from torc_client.watching.snapshot import JobDetail, JobPage, LogTail, RunClock

EVENT_PAGE = 1000
#: Event pages read per refresh, so a long log is caught up over several ticks instead of one slow one.
EVENT_PAGES_PER_REFRESH = 5
TAIL_BYTES = 8192
TAIL_LINES = 40


def advance_clock(client: Client, workflow_id: int, clock: RunClock, max_pages: int = EVENT_PAGES_PER_REFRESH,
                  seen: Callable[[list[c.Event]], None] | None = None) -> RunClock:  # fmt: skip
    """The clock after the events logged since it last looked (at most `max_pages` pages of them).

    `seen` is handed every page read, so a face can show the events the clock went through.
    """
    for _ in range(max_pages):
        page = client.list_events(workflow_id, after=clock.last_event_id, limit=EVENT_PAGE)
        clock = clock.advance(page.items)
        if seen is not None and page.items:
            seen(page.items)
        if not page.has_more or not page.items:
            break
    return clock


def requirement_names(client: Client, workflow_id: int) -> dict[int, str]:
    return {rr.id: rr.name for rr in client.list_resource_requirements(workflow_id)}


def jobs_page(client: Client, workflow_id: int, fetch: paging.Fetch, name: str | None) -> c.Page[c.Job]:
    """One server page of jobs; `name` is a part of the names, or a glob with `*` and `?` (matched by the server)."""
    return client.jobs_page(workflow_id, status=fetch.status, name_pattern=name, offset=fetch.offset,
                            limit=fetch.limit)  # fmt: skip


def job_page(client: Client, workflow_id: int, query: paging.JobQuery, counts: dict[str, int],
             names: dict[int, str]) -> JobPage:  # fmt: skip
    """The table page `query` asks for, read as one or a few server pages."""
    query = paging.clamp(query, paging.matching_total(query, counts))
    pages = [(f, jobs_page(client, workflow_id, f, query.name)) for f in paging.plan(query, counts)]
    total = paging.matching_total(query, counts)
    if total is None and pages:
        total = pages[0][1].total_count  # a name filter: only the server knows how many match
    rows = paging.arrange(query, [(f, page.items) for f, page in pages])
    return JobPage(query, tuple(rows), total, names)


#: The runner's log naming, shared through torc_client.core.settings.
log_stem = settings.job_log_stem


def read_tail(path: Path, max_bytes: int = TAIL_BYTES, max_lines: int = TAIL_LINES) -> LogTail:
    """The last lines of a text file (at most `max_bytes` of it)."""
    try:
        with open(path, "rb") as stream:
            size = stream.seek(0, 2)
            stream.seek(max(size - max_bytes, 0))
            data = stream.read()
    except OSError:
        return LogTail(str(path))
    lines = data.decode("utf-8", errors="replace").splitlines()
    cut = size > max_bytes or len(lines) > max_lines
    if size > max_bytes and lines:
        lines = lines[1:]  # the first line read is probably partial
    return LogTail(str(path), "\n".join(lines[-max_lines:]), exists=True, truncated=cut)


def job_detail(client: Client, job_id: int, output_dir: Path, run_id: int) -> JobDetail:
    """A job, its requirements, every attempt's result, and the log tails of its latest attempt."""
    job = client.get_job(job_id)
    rr = client.get_resource_requirements(job.resource_requirements_id) if job.resource_requirements_id else None
    results = tuple(client.list_results(job.workflow_id, job_id=job_id, all_runs=True))
    attempt = _latest_attempt(job, results, run_id)
    if attempt is None:
        return JobDetail(job, rr, results)
    stem = log_stem(output_dir, job.workflow_id, job.id, *attempt)
    combined = stem.with_suffix(".log")  # `stdio: {mode: combined}`: both streams in one file, shown as stdout
    if combined.exists():
        return JobDetail(job, rr, results, read_tail(combined), read_tail(stem.with_suffix(".e")))
    return JobDetail(job, rr, results, read_tail(stem.with_suffix(".o")), read_tail(stem.with_suffix(".e")))


def _latest_attempt(job: c.Job, results: tuple[c.Result, ...], run_id: int) -> tuple[int, int] | None:
    """(run, attempt) whose logs to show: the one running now, else the last one with a result."""
    if job.status in ("pending", "running"):
        return run_id, job.attempt_id
    if results:
        last = max(results, key=lambda r: (r.run_id, r.attempt_id, r.id))
        return last.run_id, last.attempt_id
    return None


def graph_jobs(client: Client, workflow_id: int) -> list[GraphJob]:
    """Every job's name, status and upstream ids (the whole workflow: for the graph tab only)."""
    return [GraphJob(j.id, j.name, j.status, tuple(j.depends_on_job_ids)) for j in client.list_jobs(workflow_id)]


def usage(client: Client, workflow_id: int) -> list[JobUsage]:
    """Requested against used resources for every job with a result in the current run."""
    requirements = {rr.id: rr for rr in client.list_resource_requirements(workflow_id)}
    return job_usage(client.list_jobs(workflow_id), client.list_results(workflow_id), requirements)


def downstream_page(client: Client, workflow_id: int, job_id: int, offset: int, limit: int) -> c.Page[c.Job]:
    """One page of the jobs that wait directly for `job_id` (the server reads them from the job's own list)."""
    return client.jobs_page(workflow_id, downstream_of=job_id, offset=offset, limit=limit)


def resource_series(client: Client, workflow_id: int, job_ids: Iterable[int] | None = None) -> list[series.JobSeries]:
    """The latest attempt's series of each job (of `job_ids`, when given) that has one."""
    wanted = None if job_ids is None else set(job_ids)
    if wanted is not None and len(wanted) == 1:
        found = client.list_resource_series(workflow_id, job_id=next(iter(wanted)))
    else:
        found = client.list_resource_series(workflow_id)
    found = [s for s in found if wanted is None or s.job_id in wanted]
    if not found:
        return []
    jobs = {j.id: j for j in client.list_jobs(workflow_id)}
    groups = {rr.id: rr for rr in client.list_resource_requirements(workflow_id)}
    return series.join(found, jobs, groups)
