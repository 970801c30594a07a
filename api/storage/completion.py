"""Completing jobs: fenced status change, one result per attempt, output file times, release.

A report is one transaction and idempotent: the status update is guarded by the claim
token, a result is stored only with the status change it records (and is unique per
job, run and attempt), and release uses `$pull` and guarded updates, so a runner that
retries a report after a timeout changes nothing the second time.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec
from pymongo import UpdateOne

from api.storage import leases, release, transitions, triggers, workflows
from api.storage.db import Database, iso_now
from api.storage.workflows import Event
from torc_client.contract import CompleteReport, JobStart, Rejection, ReportResponse
from torc_client.core import failure, states
from torc_client.core.errors import InvalidRequest
from torc_client.core.triggers import Trigger
from torc_client.core.units import count

#: Return code of a job stopped by SIGTERM (128 + 15, as a shell reports it).
TERMINATED_RETURN_CODE = 143


class Outcome(NamedTuple):
    job_id: int
    claim_token: str
    status: str
    return_code: int
    exec_time_minutes: float = 0.0
    completion_time: str = ""
    measures: dict[str, Any] = {}
    output_file_mtimes: dict[int, float] = {}
    retry: bool = False


async def complete(db: Database, wid: int, report: CompleteReport, node_checked: bool = False,
                   atomic: bool = False) -> ReportResponse:  # fmt: skip
    """Record what a runner reports: jobs it returns unstarted, jobs it started, jobs that finished.

    The reporting compute node must belong to the workflow (`node_checked`: the caller
    has seen to it), and each job must be of the workflow and leased to that node. With
    `atomic`, the whole report is one transaction (run together with the workflow's
    other transactions in this process: one commit for a report of starts and outcomes).
    """
    if atomic:
        return await db.atomic(wid, lambda db: complete(db, wid, report, node_checked))
    if not node_checked:
        await leases.reporting_node(db, wid, report.compute_node_id)
    outcomes = _outcomes(report)
    node_id = report.compute_node_id
    if report.returned:
        await _take_back(db, wid, node_id, report.returned)
    start_rejections = []
    if report.starts:
        _, start_rejections = await transitions.start(db, wid, node_id, [(j.job_id, j.claim_token)
                                                                          for j in report.starts])  # fmt: skip
    response = await complete_outcomes(db, wid, node_id, outcomes) if outcomes else ReportResponse(accepted=[])
    response.rejected += [Rejection(job_id=jid, reason=why) for jid, why in start_rejections]
    return response


def _outcomes(report: CompleteReport) -> list[Outcome]:
    outcomes = []
    for o in report.outcomes:
        if o.status not in states.REPORTABLE:
            raise InvalidRequest(f"job {o.job_id}: a runner may report {', '.join(sorted(states.REPORTABLE))}, "
                                 f"not {o.status!r}")  # fmt: skip
        measures = {k: getattr(o, k) for k in ("peak_memory_bytes", "avg_memory_bytes", "peak_cpu_percent",
                                               "avg_cpu_percent")}  # fmt: skip
        if o.samples:  # the time series lives in the result's document, read only by `history.resource_series`
            measures["samples"] = [list(msgspec.structs.astuple(s)) for s in o.samples]
        outcomes.append(Outcome(o.job_id, o.claim_token, o.status, o.return_code, o.exec_time_minutes,
                                o.completion_time, measures, o.output_file_mtimes, o.retry))  # fmt: skip
    return outcomes


async def serve_reports(db: Database, items: list[tuple[int, CompleteReport]]) -> list[ReportResponse]:
    """Several runners' reports on one workflow, inside one transaction (with their claims: `claims.serve_exchanges`):
    the starts with one update, the outcomes with one read and one update, their results with one insert, and the
    dependents released together. A report that returns jobs or retries one is served on its own, as is a lone report
    (`complete`)."""
    wid = items[0][0]
    reports = [report for _, report in items]
    if len(reports) == 1 or any(r.returned or any(o.retry for o in r.outcomes) for r in reports):
        return [await complete(db, wid, r, node_checked=True) for r in reports]
    outcomes = [_outcomes(r) for r in reports]
    # A job that started and ended since its runner's last exchange goes from pending to its end in one write of
    # its document, not two; its start is still told in the workflow's events (`_through_events`).
    through = [{j.job_id for j in r.starts} & {o.job_id for o in outs} for r, outs in zip(reports, outcomes)]
    starts = [[(j.job_id, j.claim_token) for j in r.starts if j.job_id not in skip] for r, skip in zip(reports, through)]
    starting = [i for i, kept in enumerate(starts) if kept]
    started = dict(zip(starting, await transitions.start_many(db, wid, [
        (reports[i].compute_node_id, starts[i]) for i in starting])))
    finishing = [i for i, r in enumerate(reports) if r.outcomes]
    finished = dict(zip(finishing, await transitions.finish_many(db, wid, [
        (reports[i].compute_node_id, [(o.job_id, o.claim_token, o.status) for o in outcomes[i]]) for i in finishing])))
    wf = await workflows.get_doc(db, wid)
    by_id = {o.job_id: o for outs in outcomes for o in outs}
    node_of = {o.job_id: reports[i].compute_node_id for i, outs in enumerate(outcomes) for o in outs}
    accepted_all = [d for i in finishing for d in finished[i][0]]
    moved = [d for i in finishing for d in finished[i][0] if d["_id"] in finished[i][1]]
    await _store_results(db, wf, None, moved, by_id, node_of)
    await _store_file_times(db, wid, [by_id[d["_id"]] for d in accepted_all])
    delta: dict[str, int] = {}
    events: list[Event] = []
    for i in finishing:
        for status, n in finished[i][3].items():
            delta[status] = delta.get(status, 0) + n
        events += _through_events(sorted(through[i] & finished[i][1]), reports[i].compute_node_id)
        events += _events(finished[i][0], by_id, reports[i].compute_node_id, "")
    await workflows.record(db, wid, delta, events)
    ready = await release.release(db, wid, accepted_all)
    await triggers.jobs_fired(db, wf, Trigger.ON_JOBS_COMPLETE, [d["_id"] for d in accepted_all])
    await triggers.jobs_fired(db, wf, Trigger.ON_JOBS_READY, ready)
    answers = []
    for i in range(len(reports)):
        accepted, _, rejected, _ = finished.get(i, ([], set(), [], {}))
        rejected = rejected + started.get(i, ([], []))[1]
        answers.append(ReportResponse(accepted=[d["_id"] for d in accepted],
                                      rejected=[Rejection(job_id=jid, reason=why) for jid, why in rejected]))  # fmt: skip
    return answers


def _through_events(job_ids: list[int], node_id: int) -> list[Event]:
    """The start of jobs that went from pending to their end in one step, as `transitions.start` tells a start."""
    if not job_ids:
        return []
    return [Event("job", f"{count(len(job_ids), 'job')} started on compute node {node_id}", status="running",
                  job_ids=job_ids, compute_node_id=node_id)]  # fmt: skip


async def start(db: Database, wid: int, node_id: int, starts: list[tuple[int, str]]) -> tuple[list[int], list]:
    """A start report: from a compute node of the workflow, about jobs of the workflow leased to it."""
    await leases.reporting_node(db, wid, node_id)
    return await transitions.start(db, wid, node_id, starts)


async def _take_back(db: Database, wid: int, node_id: int, returned: list[JobStart]) -> None:
    """Claimed jobs a runner gives back go back to the queue: unstarted ones freely; running ones (stopped at the
    runner's time limit, its allocation's end) are recorded `terminated` and queued again as their next attempt,
    counted as a lost lease, so a job that never fits cannot cycle forever."""
    tokens = {j.job_id: j.claim_token for j in returned}
    docs = [d for d in await workflows.find_by_ids(db.jobs, list(tokens)) if d["claim_token"] == tokens[d["_id"]]
            and d["status"] in states.LEASED and transitions.fenced(d, wid, node_id)]  # fmt: skip
    unstarted = [d for d in docs if d["status"] == states.S.PENDING.value]
    stopped = [d for d in docs if d["status"] == states.S.RUNNING.value]
    if (await workflows.get_doc(db, wid))["is_canceled"]:  # nothing goes back to a canceled workflow's queue
        await _end_returned(db, wid, node_id, unstarted, stopped)
        return
    await transitions.requeue(db, wid, unstarted, f"compute node {node_id} returned them unstarted", lease_lost=False)
    if stopped:
        await db.atomic(wid, lambda db: _terminate_and_requeue(db, wid, node_id, stopped, returned))


async def _terminate_and_requeue(db: Database, wid: int, node_id: int, stopped: list[dict],
                                 returned: list[JobStart]) -> None:  # fmt: skip
    """Running jobs stopped at their allocation's end: a `terminated` result for the attempt, then the next attempt
    is ready (one transaction, so a repeated report finds the claim token cleared and stores nothing twice)."""
    by_id = {j.job_id: j for j in returned}
    outcomes = {d["_id"]: Outcome(d["_id"], d["claim_token"], states.S.TERMINATED.value,
                                  _code(by_id[d["_id"]].return_code), by_id[d["_id"]].exec_time_minutes)
                for d in stopped}  # fmt: skip
    reason = f"compute node {node_id} stopped them at its allocation's end"
    ids = set(await transitions.requeue_next_attempt(db, wid, stopped, reason))
    moved = [d for d in stopped if d["_id"] in ids]
    if not moved:
        return
    await _store_results(db, await workflows.get_doc(db, wid), node_id, moved, outcomes)
    await workflows.record(db, wid, {}, _events(moved, outcomes, node_id, reason, status="terminated"))


def _code(return_code: int | None) -> int:
    return TERMINATED_RETURN_CODE if return_code is None else return_code


async def _end_returned(db: Database, wid: int, node_id: int, unstarted: list[dict], stopped: list[dict]) -> None:
    """Returned jobs of a canceled workflow: unstarted ones are canceled, stopped ones terminated (with a result)."""
    S = states.S

    async def cancel(db: Database) -> None:
        moved = await transitions.move(db, [d["_id"] for d in unstarted], S.PENDING, S.CANCELED,
                                       sets={"active_compute_node_id": None})  # fmt: skip
        await workflows.record(db, wid, {S.PENDING: -moved, S.CANCELED: moved}, [])

    if unstarted:
        await db.atomic(wid, cancel)
    outcomes = [Outcome(d["_id"], d["claim_token"], S.TERMINATED.value, TERMINATED_RETURN_CODE) for d in stopped]
    if outcomes:
        await complete_outcomes(db, wid, node_id, outcomes, reason="the workflow was canceled")


async def complete_outcomes(db: Database, wid: int, node_id: int | None, outcomes: list[Outcome],
                            reason: str = "", node_of: dict[int, int] | None = None) -> ReportResponse:  # fmt: skip
    """Finished jobs, as one transaction: their status, results, output file times, counts and released dependents
    are all stored, or none is (the runner's retry then stores them). `node_of` names the compute node that ran a
    job when it is not `node_id` (jobs that no node holds, claimed through Torc's calls)."""
    return await db.atomic(wid, lambda db: _complete_outcomes(db, wid, node_id, outcomes, reason, node_of))


async def _complete_outcomes(db: Database, wid: int, node_id: int | None, outcomes: list[Outcome],
                             reason: str, node_of: dict[int, int] | None = None) -> ReportResponse:  # fmt: skip
    wf = await workflows.get_doc(db, wid)
    retrying = await _retries_allowed(db, [o for o in outcomes if o.retry and o.status == states.S.FAILED])
    retried, retry_delta = await transitions.retry(db, wid, [(o.job_id, o.claim_token) for o in outcomes
                                                             if o.job_id in retrying], node_id)  # fmt: skip
    accepted, moved, rejected, delta = await transitions.finish(
        db, wid, [(o.job_id, o.claim_token, o.status) for o in outcomes if o.job_id not in retrying], node_id
    )
    by_id = {o.job_id: o for o in outcomes}
    # A repeated report stored its result with its status, in the same transaction: only moved jobs get one.
    await _store_results(db, wf, node_id, [d for d in accepted if d["_id"] in moved] + retried, by_id, node_of)
    await _store_file_times(db, wid, [by_id[d["_id"]] for d in accepted])
    for status, n in retry_delta.items():
        delta[status] = delta.get(status, 0) + n
    await workflows.record(db, wid, delta, _events(accepted, by_id, node_id, reason) + _retry_events(retried))
    ready = await release.release(db, wid, accepted)
    await triggers.jobs_fired(db, wf, Trigger.ON_JOBS_COMPLETE, [d["_id"] for d in accepted])
    await triggers.jobs_fired(db, wf, Trigger.ON_JOBS_READY, ready)
    retried_ids = {d["_id"] for d in retried}
    rejected += [(jid, "no longer held by this claim") for jid in retrying if jid not in retried_ids]
    return ReportResponse(accepted=[d["_id"] for d in accepted] + sorted(retried_ids),
                          rejected=[Rejection(job_id=jid, reason=why) for jid, why in rejected])  # fmt: skip


async def _retries_allowed(db: Database, outcomes: list[Outcome]) -> set[int]:
    """The failed jobs whose failure handler grants another attempt."""
    if not outcomes:
        return set()
    docs = await workflows.find_by_ids(db.jobs, [o.job_id for o in outcomes], {"fh_id": 1, "attempt_id": 1})
    handlers = {h["_id"]: h for h in await workflows.find_by_ids(
        db.failure_handlers, sorted({d["fh_id"] for d in docs if d.get("fh_id")}))}  # fmt: skip
    codes = {o.job_id: o.return_code for o in outcomes}
    return {d["_id"] for d in docs if d.get("fh_id") in handlers
            and failure.may_retry(handlers[d["fh_id"]]["rules"], codes[d["_id"]], d.get("attempt_id", 1))}  # fmt: skip


def _retry_events(docs: list[dict]) -> list[Event]:
    return [Event("job", f"job {d['name']} failed on attempt {d.get('attempt_id', 1)}; retrying as attempt "
                  f"{d.get('attempt_id', 1) + 1}", status="retried", job_ids=[d["_id"]],
                  previous_attempt=d.get("attempt_id", 1), new_attempt=d.get("attempt_id", 1) + 1)
            for d in docs]  # fmt: skip


async def _store_results(db: Database, wf: dict, node_id: int | None, docs: list[dict], by_id: dict,
                         node_of: dict[int, int] | None = None) -> None:  # fmt: skip
    if not docs:
        return
    first = await db.allocate_ids("results", len(docs))
    rows = []
    for offset, doc in enumerate(docs):
        o = by_id[doc["_id"]]
        rows.append({"_id": first + offset, "workflow_id": wf["_id"], "job_id": doc["_id"], "run_id": wf["run_id"],
                     "attempt_id": doc.get("attempt_id", 1),
                     "compute_node_id": node_of[doc["_id"]] if node_of else node_id,
                     "return_code": o.return_code, "status": o.status, "exec_time_minutes": o.exec_time_minutes,
                     "completion_time": o.completion_time or iso_now(), **o.measures})  # fmt: skip
    await db.results.insert_many(rows, ordered=False)


async def _store_file_times(db: Database, wid: int, outcomes: list[Outcome]) -> None:
    ops = [UpdateOne({"_id": int(fid), "workflow_id": wid}, {"$set": {"st_mtime": mtime}})
           for o in outcomes for fid, mtime in o.output_file_mtimes.items()]  # fmt: skip
    if ops:
        await db.files.bulk_write(ops, ordered=False)


def _events(docs: list[dict], by_id: dict[int, Outcome], node_id: int | None, reason: str,
            status: str | None = None) -> list[Event]:  # fmt: skip
    """One event per status the jobs reached (`status`: the status they were recorded with, whatever they are now)."""
    groups: dict[str, list[dict]] = {}
    for doc in docs:
        groups.setdefault(status or doc["status"], []).append(doc)
    events = []
    for status, group in sorted(groups.items()):
        names = ", ".join(d["name"] for d in group[:5]) + (" ..." if len(group) > 5 else "")
        text = f"{count(len(group), 'job')} {status}: {names}" + (f" ({reason})" if reason else "")
        events.append(Event("job", text, status=status, job_ids=[d["_id"] for d in group], compute_node_id=node_id,
                            return_codes={str(d["_id"]): by_id[d["_id"]].return_code for d in group}))  # fmt: skip
    return events
