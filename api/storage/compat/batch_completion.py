"""Torc's `batch_complete_jobs`: many `complete_job` calls of one workflow in one request.

Each completion is checked exactly as `complete_job` checks it (`runs.completion_of`: the
job is of this workflow, claimed in the run the entry names, its result agrees with the
entry, the compute node is the one holding it); one that fails a check is refused on its
own, with the message `complete_job` would have answered, and the others go on, as in
Torc. The accepted ones are stored together (`completion.complete_outcomes`: status,
results, counts and released dependents in one transaction), one transaction per
compute node holding jobs of the batch (Torc's claims hold a job by no node).
"""

from __future__ import annotations

import asyncio

from api.storage import completion, workflows
from api.storage.compat import runs as torc_runs
from api.storage.db import Database, chunks
from torc_client.contract import CompletionEntry, CompletionError, CompletionsDone
from torc_client.core.errors import TorcError

#: Completions checked at once (each check reads its job, workflow and compute node).
CHECKS_AT_ONCE = 64


async def complete(db: Database, wid: int, entries: list[CompletionEntry]) -> CompletionsDone:
    """Store the completions that pass `complete_job`'s checks; the others are answered as errors, each with why."""
    await workflows.get_doc(db, wid)
    errors: list[CompletionError] = []
    first: dict[int, CompletionEntry] = {}
    for entry in entries:
        if entry.job_id in first:
            errors.append(CompletionError(job_id=entry.job_id, message=f"job {entry.job_id} is completed more than "
                                          "once in this request: only its first completion is taken"))  # fmt: skip
        else:
            first[entry.job_id] = entry
    by_holder: dict[int | None, list[torc_runs.Completion]] = {}
    for part in chunks(list(first.values()), CHECKS_AT_ONCE):  # the checks only read: they run side by side
        for checked in await asyncio.gather(*(_checked(db, wid, entry) for entry in part)):
            if isinstance(checked, CompletionError):
                errors.append(checked)
            else:
                by_holder.setdefault(checked.holder, []).append(checked)
    completed: set[int] = set()
    for holder, group in by_holder.items():
        answer = await completion.complete_outcomes(db, wid, holder, [d.outcome for d in group],
                                                    node_of={d.outcome.job_id: d.node for d in group})  # fmt: skip
        completed.update(answer.accepted)
        errors += [CompletionError(job_id=r.job_id, message=r.reason) for r in answer.rejected]
    position = {jid: i for i, jid in enumerate(first)}
    return CompletionsDone(completed=[jid for jid in first if jid in completed],
                           errors=sorted(errors, key=lambda e: position[e.job_id]))  # fmt: skip


async def _checked(db: Database, wid: int, entry: CompletionEntry) -> torc_runs.Completion | CompletionError:
    try:
        return await torc_runs.completion_of(db, entry.job_id, entry.status, entry.run_id, entry.result, wid)
    except TorcError as error:
        return CompletionError(job_id=entry.job_id, message=error.message)
