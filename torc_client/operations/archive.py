"""A workflow with its history, in one export document, and back (`workflows export --include-results
--include-events`, `workflows import`), as Torc's export and import carry results and events.

The document is the workflow's spec (`spec_export`) with one more top-level key, `history`: the run
it ended with, each job's status, and, as asked, every result and event, with jobs named (ids
differ between servers). Imported, the spec creates the workflow and the history is restored on
it, so its reports read as they did where it ran. A spec reader ignores nothing: `history` is
taken out before the spec is created.
"""

from __future__ import annotations

from typing import Any

import msgspec

from torc_client import contract as c
from torc_client.client import Client

KEY = "history"
EVENTS_PAGE = 1000


def history(client: Client, workflow_id: int, *, results: bool, events: bool) -> dict[str, Any]:
    """The `history` entry of an export: run id, job statuses, and the results and events when asked."""
    workflow = client.get_workflow(workflow_id)
    jobs = client.list_jobs(workflow_id)
    names = {job.id: job.name for job in jobs}
    doc = c.History(run_id=workflow.run_id, job_statuses={job.name: job.status for job in jobs},
                    job_names={str(jid): name for jid, name in names.items()})  # fmt: skip
    if results:
        doc.results = [c.ArchivedResult(job_name=names[r.job_id], **{f: getattr(r, f) for f in _RESULT_FIELDS})
                       for r in client.list_results(workflow_id, all_runs=True) if r.job_id in names]  # fmt: skip
    if events:
        doc.events = [c.ArchivedEvent(timestamp=e.timestamp, category=e.category, message=e.message, data=e.data)
                      for e in _every_event(client, workflow_id)]  # fmt: skip
    return msgspec.to_builtins(doc)


_RESULT_FIELDS = ("run_id", "attempt_id", "return_code", "status", "exec_time_minutes", "completion_time",
                  "peak_memory_bytes", "avg_memory_bytes", "peak_cpu_percent", "avg_cpu_percent")  # fmt: skip


def _every_event(client: Client, workflow_id: int) -> list:
    found, after = [], 0
    while True:
        page = client.list_events(workflow_id, after=after, limit=EVENTS_PAGE)
        found += page.items
        if not page.has_more or not page.items:
            return found
        after = page.items[-1].id


def split(doc: dict[str, Any], *, skip_results: bool = False,
          skip_events: bool = False) -> tuple[dict, c.History | None]:  # fmt: skip
    """The spec of an export document, and its history (None if it has none); `skip_*` leave parts out."""
    spec = {key: value for key, value in doc.items() if key != KEY}
    if KEY not in doc:
        return spec, None
    found = msgspec.convert(doc[KEY], c.History)
    if skip_results:
        found.results = None
    if skip_events:
        found.events = None
    return spec, found
