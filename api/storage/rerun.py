"""Reruns: reset jobs, and reinitialise a workflow so that exactly what changed or failed runs again.

A job reruns when, since its last run:
- an input file's modification time changed, or the file appeared or vanished;
- it completed but one of its output files is missing;
- its definition changed (command, invocation script, relationships: a hash kept per job);
- a user_data record it reads, and that no job writes, holds different data (a hash kept
  per record at each initialisation; data written by upstream jobs is covered by those
  jobs rerunning);
- it did not complete (failed, canceled, terminated, reset, never ran);
- or a job upstream of it reruns.
Every other job keeps its completed status and its results. A dry run changes nothing
and says, for each job, why it would rerun.
"""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne

from api.storage import (
    actions,
    initialize,
    paths,
    priority,
    queue,
    transitions,
    workflows,
)
from api.storage.db import Database, chunks
from api.storage.hashes import DEFINITION_FIELDS, data_hash, definition_hash
from api.storage.workflows import Event
from torc_client.contract import ReinitializeResult, RerunReason, ResetResult
from torc_client.core import states
from torc_client.core.errors import Conflict
from torc_client.core.units import count

S = states.JobStatus
MTIME_TOLERANCE = 0.01
_FIELDS = {"name": 1, "status": 1, "rr_id": 1, "blocks": 1, "definition_hash": 1, priority.FIELD: 1,
           **{f: 1 for f in DEFINITION_FIELDS}}  # fmt: skip


#: The reason a reset job reruns.
RESET_REASON = "its status was reset"


def check_idle(wf: dict[str, Any], force: bool, action: str) -> None:
    counts = wf.get("counts", {})
    active = counts.get(S.PENDING.value, 0) + counts.get(S.RUNNING.value, 0)
    if active and not force:
        raise Conflict(f"workflow {wf['_id']} has {count(active, 'job')} pending or running; wait for them, cancel the "
                       f"workflow, or force the {action}")  # fmt: skip


async def reset_status(db: Database, wid: int, failed_only: bool, force: bool = False) -> ResetResult:
    """Failed, canceled and terminated jobs (or all jobs) and everything downstream of them back to uninitialized."""
    wf = await workflows.get_doc(db, wid)
    check_idle(wf, force, "reset")
    docs = {d["_id"]: d async for d in db.jobs.find({"workflow_id": wid}, {"status": 1, "blocks": 1, "name": 1})}
    if failed_only:
        seeds = [jid for jid, d in docs.items() if d["status"] in states.UPSTREAM_FAILURES]
        targets = downstream_closure(seeds, docs)
    else:
        targets = set(docs)
    targets = {jid for jid in targets if docs[jid]["status"] != S.UNINITIALIZED.value}
    forget = {"waiting_on": [], "claim_token": None, "active_compute_node_id": None}
    ops = [transitions.restarting(jid, docs[jid]["status"], S.UNINITIALIZED.value, forget) for jid in sorted(targets)]
    for part in chunks(ops, 1000):
        await db.jobs.bulk_write(part, ordered=False)
    await workflows.change(db, wid, {"$set": {"is_canceled": False}})
    counts = await workflows.recount(db, wid)
    kind = "failed_only" if failed_only else "all"
    await workflows.record(db, wid, {}, [Event("user_action", f"{count(len(targets), 'job')} reset to uninitialized ({kind})",
                                               action="reset_job_status", job_ids=sorted(targets))])  # fmt: skip
    return ResetResult(workflow_id=wid, updated_count=len(targets), reset_type=kind, job_counts=counts)


def downstream_closure(seeds: list[int], docs: dict[int, dict[str, Any]]) -> set[int]:
    found, frontier = set(seeds), list(seeds)
    while frontier:
        nxt = [b for jid in frontier for b in docs[jid].get("blocks", []) if b not in found and b in docs]
        found.update(nxt)
        frontier = nxt
    return found


async def reinitialize(db: Database, wid: int, dry_run: bool = False, force: bool = False, *,
                       reset_only: bool = False) -> ReinitializeResult:  # fmt: skip
    """A new run of what changed or did not complete; with `reset_only`, of the jobs a reset put back to
    uninitialized (and those whose inputs changed), while failed, canceled and terminated jobs keep their status."""
    wf = await workflows.get_doc(db, wid)
    if not wf["is_initialized"]:
        raise Conflict(f"workflow {wid} has not run yet: initialise it with `torc workflows init {wid}`")
    if not dry_run:
        check_idle(wf, force, "reinitialisation")
    docs = {d["_id"]: d async for d in db.jobs.find({"workflow_id": wid}, _FIELDS)}
    files = {f["_id"]: f async for f in db.files.find({"workflow_id": wid})}
    file_changes = _file_changes(files, wf, db.private_files)
    data_changes = await _data_changes(db, wid)
    reasons = _direct_reasons(docs, files, file_changes, data_changes, wf, reset_only)
    _add_downstream(reasons, docs)
    jobs = [RerunReason(job_id=jid, job_name=docs[jid]["name"], status=docs[jid]["status"], reasons=why)
            for jid, why in sorted(reasons.items())]  # fmt: skip
    if dry_run:
        return ReinitializeResult(workflow_id=wid, run_id=wf["run_id"], dry_run=True, jobs=jobs,
                                  job_counts=workflows.presented_counts(wf))  # fmt: skip
    async with initialize.holding(db, wf) as token:
        counts = await _apply(db, wf, docs, set(reasons), file_changes, data_changes, token)
    return ReinitializeResult(workflow_id=wid, run_id=wf["run_id"] + 1, dry_run=False, jobs=jobs, job_counts=counts)


async def changed_jobs(db: Database, wid: int) -> dict[int, str]:
    """Jobs whose command, relationships or inputs changed since their run opened (whatever their status, and not
    the jobs downstream of them): id -> name."""
    wf = await workflows.get_doc(db, wid)
    docs = {d["_id"]: d async for d in db.jobs.find({"workflow_id": wid}, _FIELDS)}
    files = {f["_id"]: f async for f in db.files.find({"workflow_id": wid})}
    reasons = _direct_reasons(docs, files, _file_changes(files, wf, db.private_files), await _data_changes(db, wid),
                              wf, reset_only=True)  # fmt: skip
    return {jid: docs[jid]["name"] for jid, why in sorted(reasons.items()) if set(why) - {RESET_REASON}}


def _file_changes(files: dict[int, dict], wf: dict, private: bool) -> dict[int, tuple[str, float | None]]:
    """file id -> (what happened, the modification time now) for files that changed on disk (see `paths`)."""
    changes = {}
    for fid, f in files.items():
        mtime = paths.mtime(f["path"], wf.get("working_dir"), wf.get("user", ""), private)
        if mtime is paths.UNCHECKED:
            continue
        old = f.get("st_mtime")
        if old is None and mtime is not None:
            changes[fid] = ("appeared", mtime)
        elif old is not None and mtime is None:
            changes[fid] = ("disappeared", None)
        elif old is not None and mtime is not None and abs(old - mtime) > MTIME_TOLERANCE:
            changes[fid] = ("was modified", mtime)
    return changes


async def _data_changes(db: Database, wid: int) -> dict[int, tuple[str, str]]:
    """user_data id -> (name, new hash) for workflow inputs whose data changed since the last initialisation."""
    inputs = await db.workflow_inputs.find_one({"_id": wid}) or {"user_data": []}
    changes = {}
    for doc in await workflows.find_by_ids(db.user_data, inputs["user_data"]):
        new = data_hash(doc.get("data"))
        if doc.get("run_hash") not in (None, new):
            changes[doc["_id"]] = (doc["name"], new)
    return changes


def _direct_reasons(docs, files, file_changes, data_changes, wf, reset_only: bool = False) -> dict[int, list[str]]:
    reasons: dict[int, list[str]] = {}
    for jid, d in docs.items():
        why = []
        if d["status"] == S.UNINITIALIZED.value and reset_only:
            why.append(RESET_REASON)
        elif d["status"] not in (S.COMPLETED.value, S.DISABLED.value) and not reset_only:
            why.append(f"it did not complete in run {wf['run_id']} (status {d['status']})")
        if definition_hash(d) != d.get("definition_hash"):
            why.append("its command or relationships changed")
        for fid in d.get("input_files", []):
            if fid in file_changes:
                why.append(f"input file {files[fid]['name']} ({files[fid]['path']}) {file_changes[fid][0]}")
        for uid in d.get("input_user_data", []):
            if uid in data_changes:
                why.append(f"input user_data {data_changes[uid][0]} changed")
        if d["status"] == S.COMPLETED.value:
            why += [f"its output file {files[fid]['path']} is missing" for fid in d.get("output_files", [])
                    if fid in files and file_changes.get(fid, ("",))[0] == "disappeared"]  # fmt: skip
        if why and d["status"] != S.DISABLED.value:
            reasons[jid] = why
    return reasons


def _add_downstream(reasons: dict[int, list[str]], docs: dict[int, dict[str, Any]]) -> None:
    frontier = sorted(reasons)
    while frontier:
        nxt = []
        for jid in frontier:
            for child in docs[jid].get("blocks", []):
                if child in docs and child not in reasons and docs[child]["status"] != S.DISABLED.value:
                    reasons[child] = [f"upstream job {docs[jid]['name']} reruns"]
                    nxt.append(child)
        frontier = nxt


async def _apply(db, wf, docs, rerun: set[int], file_changes, data_changes, token: str) -> dict[str, int]:
    """Open the new run: rerun jobs blocked or ready (and queued), everything else untouched."""
    wid = wf["_id"]
    reset = {"claim_token": None, "active_compute_node_id": None, "attempt_id": 1, "lease_losses": 0}
    ticket = queue.new_ticket()
    ops, ready, counts = [], {}, {}
    for jid, d in docs.items():
        status = d["status"]
        if jid in rerun:
            waiting = [u for u in d.get("upstream", []) if u in rerun]
            status = S.BLOCKED.value if waiting else S.READY.value
            tickets = queue.ticketed(ticket) if status == S.READY.value else {}
            ops.append(transitions.restarting(jid, d["status"], status, {
                "waiting_on": waiting, "definition_hash": definition_hash(d), **reset, **tickets}))  # fmt: skip
            if status == S.READY.value:
                ready.setdefault(d["rr_id"], []).append(jid)
        counts[status] = counts.get(status, 0) + 1
    for part in chunks(ops, 1000):
        await db.jobs.bulk_write(part, ordered=False)
    await _record_inputs(db, file_changes, data_changes)
    await queue.clear(db, wid)
    await queue.enqueue(db, wid, priority.ordered_queues(ready, priority.of(docs.values())), ticket)
    await workflows.change(db, wid, {"$set": {"counts": counts, "is_canceled": False, "completed_run": -1},
                                     "$unset": initialize.HOLD_FIELDS, "$inc": {"run_id": 1}},
                           where={"init_token": token})  # fmt: skip
    await actions.on_run_start(db, wid)
    await workflows.record(db, wid, {}, [Event("workflow", f"run {wf['run_id'] + 1} started: {count(len(rerun), 'job')} "
                                               "rerun", status="reinitialized", run_id=wf["run_id"] + 1,
                                               job_ids=sorted(rerun))])  # fmt: skip
    return counts


async def _record_inputs(db: Database, file_changes: dict, data_changes: dict) -> None:
    file_ops = [UpdateOne({"_id": fid}, {"$set": {"st_mtime": mtime}}) for fid, (_, mtime) in file_changes.items()]
    data_ops = [UpdateOne({"_id": uid}, {"$set": {"run_hash": h}}) for uid, (_, h) in data_changes.items()]
    if file_ops:
        await db.files.bulk_write(file_ops, ordered=False)
    if data_ops:
        await db.user_data.bulk_write(data_ops, ordered=False)
