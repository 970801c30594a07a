"""Torc's runner calls, one job at a time: claim (no runner named), start_job, complete_job.

They map onto this server's own machinery: a claim takes jobs from the ready queues as
any claim does and marks them pending under a claim token (`claims.claim_unleased`); a
start moves pending to running through `transitions.start`; a completion stores the
result and releases the dependents at once through `completion.complete_outcomes`.
Torc's calls carry no claim token, so the job's own token (read here) fences them: a
start or completion of a job that was since handed out again, or of another run, is
refused. Jobs claimed this way are held by no compute node, so no lease expires them;
a job that this server's own runner protocol holds may be started and completed through
these calls only by the compute node holding it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from api.storage import (
    claims,
    completion,
    jobs,
    records,
    selective_reset,
    transitions,
    workflows,
)
from api.storage.db import Database
from api.storage.workflows import Event
from torc_client.contract import (
    ClaimedJobs,
    ClaimRequest,
    FreeResources,
    Job,
    JobsResetRequest,
    TorcResult,
)
from torc_client.core import states
from torc_client.core.errors import Conflict, InvalidRequest
from torc_client.core.units import parse_duration

S = states.JobStatus
#: More retries than any job is given: `retry_job` without `max_retries`.
NO_RETRY_LIMIT = 1_000_000
#: Most jobs one Torc claim hands out.
MAX_TORC_CLAIM = claims.MAX_CLAIM


async def claim(db: Database, wid: int, limit: int, free: FreeResources | None, sort_method: str | None) -> ClaimedJobs:
    """Up to `limit` ready jobs (that fit `free`, when given), now pending; the jobs as Torc's `JobModel`s."""
    if limit < 0 or limit > MAX_TORC_CLAIM:
        raise InvalidRequest(f"limit {limit}: a claim takes from 0 to {MAX_TORC_CLAIM} jobs")
    if sort_method is not None and sort_method not in SORT_METHODS:
        raise InvalidRequest(f"sort_method {sort_method!r}: one of {', '.join(SORT_METHODS)}")
    req = _request(limit, free)
    wf, reason, docs = await claims.claim_unleased(db, wid, req)
    return ClaimedJobs(jobs=[jobs.to_record(d, initialized=True) for d in docs], reason=reason)


#: Torc's `jobs_sort_method` values (this server claims in the workflow's own sort order).
SORT_METHODS = ("gpus_runtime_memory", "gpus_memory_runtime", "none")


def _request(limit: int, free: FreeResources | None) -> ClaimRequest:
    if free is None:
        return ClaimRequest(compute_node_id=0, limit=limit, ignore_resources=True)
    for name in ("num_cpus", "num_gpus", "num_nodes"):
        if getattr(free, name) < 0:
            raise InvalidRequest(f"{name} {getattr(free, name)}: free resources cannot be negative")
    if free.memory_gb < 0:
        raise InvalidRequest(f"memory_gb {free.memory_gb}: free resources cannot be negative")
    seconds = None
    if free.time_limit:
        try:
            seconds = parse_duration(free.time_limit)
        except ValueError as error:
            raise InvalidRequest(f"time_limit {free.time_limit!r}: {error}") from None
    return ClaimRequest(compute_node_id=0, limit=limit, num_cpus=free.num_cpus, memory_gb=free.memory_gb,
                        num_gpus=free.num_gpus, num_nodes=free.num_nodes, time_limit_seconds=seconds)  # fmt: skip


async def start_job(db: Database, jid: int, run_id: int, node_id: int) -> Job:
    """pending -> running for a claimed job, reported by compute node `node_id` of its workflow in run `run_id`."""
    doc, wf = await _claimed(db, jid, run_id, "started")
    await _check_node(db, node_id, wf["_id"], doc)
    if doc["status"] != S.RUNNING.value:  # a repeated start changes nothing
        holder = doc.get("active_compute_node_id")
        _, rejected = await transitions.start(db, wf["_id"], node_id, [(jid, doc["claim_token"])],
                                              fence_node=holder is not None)  # fmt: skip
        if rejected:
            raise Conflict(rejected[0][1])
    return await jobs.get(db, jid)


async def complete_job(db: Database, jid: int, status: str, run_id: int, result: TorcResult) -> Job:
    """A claimed job finished with `status`: its result is stored and its dependents released (or canceled)."""
    done = await completion_of(db, jid, status, run_id, result)
    answer = await completion.complete_outcomes(db, done.workflow_id, done.holder, [done.outcome],
                                                node_of={jid: done.node})  # fmt: skip
    if answer.rejected:
        raise Conflict(answer.rejected[0].reason)
    return await jobs.get(db, jid)


class Completion(NamedTuple):
    """A checked completion of a claimed job: its outcome, the node holding the job (if any), the node that ran it."""

    workflow_id: int
    outcome: completion.Outcome
    holder: int | None
    node: int | None


async def completion_of(db: Database, jid: int, status: str, run_id: int, result: TorcResult,
                        wid: int | None = None) -> Completion:  # fmt: skip
    """Check one of Torc's completions (of a job of workflow `wid`, when given) as `complete_job` takes it."""
    if status not in {s.value for s in states.REPORTABLE}:
        raise InvalidRequest(f"status {status!r}: a job completes as one of "
                             f"{', '.join(sorted(s.value for s in states.REPORTABLE))}")  # fmt: skip
    _check_result(jid, status, run_id, result)
    doc, wf = await _claimed(db, jid, run_id, "completed", finished_ok=status, wid=wid)
    if result.workflow_id != wf["_id"]:
        raise InvalidRequest(f"the result names workflow {result.workflow_id}; job {jid} is of workflow {wf['_id']}")
    holder = doc.get("active_compute_node_id")
    if result.compute_node_id is not None:
        await _check_node(db, result.compute_node_id, wf["_id"], doc)
    measures = {k: getattr(result, k) for k in ("peak_memory_bytes", "avg_memory_bytes", "peak_cpu_percent",
                                                "avg_cpu_percent")}  # fmt: skip
    outcome = completion.Outcome(jid, doc["claim_token"], status, result.return_code, result.exec_time_minutes,
                                 result.completion_time, measures)  # fmt: skip
    node = result.compute_node_id if result.compute_node_id is not None else holder
    return Completion(wf["_id"], outcome, holder, node)


def _check_result(jid: int, status: str, run_id: int, result: TorcResult) -> None:
    """The path and the result body must describe the same completion."""
    for name, path_value, body_value in (("job_id", jid, result.job_id), ("run_id", run_id, result.run_id),
                                         ("status", status, result.status)):  # fmt: skip
        if path_value != body_value:
            raise InvalidRequest(f"the result's {name} is {body_value!r} but the path says {path_value!r}: they must "
                                 "agree")  # fmt: skip


async def _claimed(db: Database, jid: int, run_id: int, what: str, finished_ok: str | None = None,
                   wid: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """The job and its workflow, if the job is claimed in run `run_id` (or already `finished_ok`: a repeated report);
    with `wid`, the job must be of that workflow."""
    doc = await jobs.get_doc(db, jid)
    if wid is not None and doc["workflow_id"] != wid:
        raise InvalidRequest(f"job {jid} is of workflow {doc['workflow_id']}, not {wid}")
    wf = await workflows.get_doc(db, doc["workflow_id"])
    if run_id != wf["run_id"]:
        raise Conflict(f"run {run_id} is not workflow {wf['_id']}'s current run ({wf['run_id']}): job {jid} cannot "
                       f"be {what} in it")  # fmt: skip
    allowed = {S.PENDING.value, S.RUNNING.value} | ({finished_ok} if finished_ok else set())
    if doc["status"] not in allowed or not doc.get("claim_token"):
        raise Conflict(f"job {jid} is {doc['status']}: only a claimed job (pending or running) can be {what}; "
                       "claim it first")  # fmt: skip
    return doc, wf


async def _check_node(db: Database, node_id: int, wid: int, doc: dict[str, Any]) -> None:
    """The compute node exists, is of the job's workflow, and is the one holding the job if any holds it."""
    node = await records.compute_nodes.get_doc(db, node_id)
    if node["workflow_id"] != wid:
        raise InvalidRequest(f"compute node {node_id} is of workflow {node['workflow_id']}, not {wid}")
    holder = doc.get("active_compute_node_id")
    if holder is not None and holder != node_id:
        raise Conflict(f"job {doc['_id']} is held by compute node {holder}, not {node_id}")


async def retry_job(db: Database, jid: int, run_id: int, max_retries: int = NO_RETRY_LIMIT) -> Job:
    """A claimed job that failed goes back to ready as its next attempt (Torc's runner asks so when a failure
    handler's rule matches); refused once the job has used `max_retries` retries."""
    doc, wf = await _claimed(db, jid, run_id, "retried")
    attempt = doc.get("attempt_id", 1)
    if attempt > max_retries:
        raise Conflict(f"job {jid} is on attempt {attempt}: it has used its {max_retries} retries")
    wid, holder = wf["_id"], doc.get("active_compute_node_id")

    async def body(db: Database) -> int:
        moved, delta = await transitions.retry(db, wid, [(jid, doc["claim_token"])], holder)
        if moved:
            await workflows.record(db, wid, delta, [Event(
                "job", f"job {doc['name']} failed on attempt {attempt}; retrying as attempt {attempt + 1}",
                status="retried", job_ids=[jid], previous_attempt=attempt, new_attempt=attempt + 1)])  # fmt: skip
        return len(moved)

    if not await db.atomic(wid, body):
        raise Conflict(f"job {jid} changed while it was being retried; read it again")
    return await jobs.get(db, jid)


async def change_status(db: Database, jid: int, status: str, run_id: int) -> Job:
    """Torc's `manage_status_change`, for the changes a client makes outside a run: back to uninitialized (with the
    jobs downstream, as a reset does) or disabled. A run's own changes go through claim, start and complete."""
    doc = await jobs.get_doc(db, jid)
    wf = await workflows.get_doc(db, doc["workflow_id"])
    if run_id != wf["run_id"]:
        raise Conflict(f"run {run_id} is not workflow {wf['_id']}'s current run ({wf['run_id']})")
    if status == S.UNINITIALIZED.value:
        await selective_reset.reset_jobs(db, wf["_id"], JobsResetRequest(job_ids=[jid]))
        return await jobs.get(db, jid)
    if status == S.DISABLED.value:
        return await jobs.update(db, jid, {"status": status})
    raise InvalidRequest(f"status {status!r}: a job's status changes here only to uninitialized or disabled; "
                         "a run's jobs are claimed, started (start_job) and completed (complete_job)")  # fmt: skip
