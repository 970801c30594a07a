"""Reset exactly the jobs a user chose (`torc jobs reset-status`), and everything downstream of them.

A selection is the listed job ids (every job of the workflow when none are listed),
narrowed to a status and to the return code of each job's latest attempt. The chosen jobs
and their downstream closure go back to uninitialized through `transitions.move`, with the
job counts, in one transaction; every other job keeps its status and its results. With
`reinitialize`, a new run starts in which only the reset jobs (and jobs whose inputs changed)
run again: a failure family is rerun alone. With `dry_run` it only answers which jobs it would
reset (the console's preview), changing nothing.
"""

from __future__ import annotations

from typing import Any

from api.storage import rerun, transitions, workflows
from api.storage.db import Database
from api.storage.workflows import Event
from torc_client.contract import JobsResetRequest, JobsResetResult
from torc_client.core import states
from torc_client.core.errors import InvalidRequest, NotFound
from torc_client.core.units import count

S = states.JobStatus
#: What a job forgets when it goes back to uninitialized: its lease, its queue entry and what it waited for.
_FORGET = {"waiting_on": [], "claim_token": None, "active_compute_node_id": None, "queue_ticket": None}


async def reset_jobs(db: Database, wid: int, request: JobsResetRequest) -> JobsResetResult:
    """Reset the selected jobs and their downstream jobs to uninitialized; optionally start a new run of them."""
    _check_request(request)
    wf = await workflows.get_doc(db, wid)
    if not request.dry_run:
        rerun.check_idle(wf, request.force, "reset")
    docs = {d["_id"]: d async for d in db.jobs.find({"workflow_id": wid}, {"status": 1, "blocks": 1})}
    await _check_ids(db, wid, request.job_ids, docs)
    selected = await _select(db, wf, docs, request)
    targets = sorted(j for j in rerun.downstream_closure(selected, docs) if docs[j]["status"] != S.UNINITIALIZED.value)
    if request.dry_run:
        return JobsResetResult(workflow_id=wid, selected_job_ids=selected, reset_job_ids=targets, updated_count=0,
                               job_counts=workflows.presented_counts(wf))  # fmt: skip
    moved = await db.atomic(wid, lambda db: _move(db, wid, docs, targets, request))
    await workflows.change(db, wid, {"$set": {"is_canceled": False}})
    result = JobsResetResult(workflow_id=wid, selected_job_ids=selected, reset_job_ids=targets, updated_count=moved,
                             job_counts=workflows.presented_counts(await workflows.get_doc(db, wid)))  # fmt: skip
    if request.reinitialize:
        again = await rerun.reinitialize(db, wid, force=request.force, reset_only=True)
        result = JobsResetResult(**{**result.to_dict(), "reinitialized": again, "job_counts": again.job_counts})
    return result


def _check_request(request: JobsResetRequest) -> None:
    if not request.job_ids and request.status is None and request.return_code is None:
        raise InvalidRequest("choose the jobs to reset: job ids, a status, a return code, or a combination "
                             "(`torc workflows reset-status` resets every job, or every unfinished one)")  # fmt: skip
    if request.status is not None:
        try:
            states.parse(request.status)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None


async def _check_ids(db: Database, wid: int, job_ids: list[int], docs: dict[int, dict[str, Any]]) -> None:
    """Every listed job must be one of this workflow's: say which is not, and where it is if elsewhere."""
    for jid in job_ids:
        if jid in docs:
            continue
        other = await db.jobs.find_one({"_id": jid}, {"workflow_id": 1})
        if other is None:
            raise NotFound("job", jid)
        raise InvalidRequest(f"job {jid} belongs to workflow {other['workflow_id']}, not {wid}")


async def _select(db: Database, wf: dict[str, Any], docs: dict[int, dict[str, Any]],
                  request: JobsResetRequest) -> list[int]:  # fmt: skip
    chosen = set(request.job_ids) if request.job_ids else set(docs)
    if request.status is not None:
        chosen = {jid for jid in chosen if docs[jid]["status"] == request.status}
    if request.return_code is not None:
        codes = await latest_return_codes(db, wf["_id"])
        chosen = {jid for jid in chosen if codes.get(jid) == request.return_code}
    return sorted(chosen)


async def latest_return_codes(db: Database, wid: int) -> dict[int, int]:
    """job id -> the return code of its latest attempt, of any run (jobs that never ran are absent).

    A job that failed in run 1 and was not rerun in run 2 still exited with run 1's code.
    """
    latest: dict[int, tuple[tuple[int, int, int], int]] = {}
    async for doc in db.results.find({"workflow_id": wid}, {"job_id": 1, "run_id": 1, "attempt_id": 1,
                                                             "return_code": 1}):  # fmt: skip
        key = (doc["run_id"], doc.get("attempt_id", 1), doc["_id"])
        if doc["job_id"] not in latest or key > latest[doc["job_id"]][0]:
            latest[doc["job_id"]] = (key, doc["return_code"])
    return {jid: code for jid, (_, code) in latest.items()}


async def _move(db: Database, wid: int, docs: dict[int, dict[str, Any]], targets: list[int],
                request: JobsResetRequest) -> int:  # fmt: skip
    by_status: dict[str, list[int]] = {}
    for jid in targets:
        by_status.setdefault(docs[jid]["status"], []).append(jid)
    delta: dict[str, int] = {}
    for status, ids in by_status.items():
        n = await transitions.move(db, ids, status, S.UNINITIALIZED, sets=_FORGET)
        delta[status] = delta.get(status, 0) - n
        delta[S.UNINITIALIZED.value] = delta.get(S.UNINITIALIZED.value, 0) + n
    moved = delta.get(S.UNINITIALIZED.value, 0)
    await workflows.record(db, wid, delta, [Event(
        "user_action", f"{count(moved, 'job')} reset to uninitialized ({_described(request)})",
        action="reset_job_status", job_ids=targets)])  # fmt: skip
    return moved


def _described(request: JobsResetRequest) -> str:
    parts = [f"jobs {', '.join(map(str, request.job_ids))}"] if request.job_ids else []
    parts += [f"status {request.status}"] if request.status is not None else []
    parts += [f"return code {request.return_code}"] if request.return_code is not None else []
    return ", ".join(parts) + " and downstream"
