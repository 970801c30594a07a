"""Initialising a workflow: check its inputs, then open a new run.

Right after creation from a spec the jobs are already staged (see `create.py`), so
opening the first run writes only the workflow document. Any later initialisation,
or one after jobs were added or edited through the API, rebuilds every job from its
relationships: implicit edges from files and user_data, a cycle check over the whole
graph, `blocked` for jobs with upstream work, `ready` (and queued) for the rest.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from pymongo import ReturnDocument, UpdateOne

from api.storage import actions, paths, priority, queue, transitions, workflows
from api.storage.create import required_inputs
from api.storage.db import Database, chunks
from api.storage.hashes import data_hash, definition_hash
from api.storage.workflows import Event
from torc_client.contract import InitializeResult
from torc_client.core import graph, states
from torc_client.core.errors import Conflict, InvalidRequest
from torc_client.core.units import count, iso_from_epoch

S = states.JobStatus
MTIME_TOLERANCE = 0.01
#: How long one initialisation holds its workflow against others; one whose API process died is taken over after it.
HOLD_SECONDS = 600.0
#: The fields of a hold, as `$unset` takes them.
HOLD_FIELDS = {"init_token": "", "init_until": ""}
_LIST_FIELDS = ("input_files", "output_files", "input_user_data", "output_user_data")
_GRAPH_FIELDS = {"status": 1, "name": 1, "rr_id": 1, "depends_on": 1, "upstream": 1, "blocks": 1,
                 "input_files": 1, "output_files": 1, "input_user_data": 1, "output_user_data": 1,
                 "command": 1, "invocation_script": 1, "definition_hash": 1, priority.FIELD: 1}  # fmt: skip


async def initialize(db: Database, wid: int, force: bool = False) -> InitializeResult:
    wf = await workflows.get_doc(db, wid)
    _check_state(wf, force)
    async with holding(db, wf) as token:
        warnings = await _open_run(db, wf, force, token)
    await actions.on_run_start(db, wid)
    doc = await workflows.record(db, wid, {}, [Event("workflow", f"run {wf['run_id'] + 1} started",
                                                     status="initialized", run_id=wf["run_id"] + 1)])  # fmt: skip
    return InitializeResult(workflow_id=wid, run_id=doc["run_id"], job_counts=workflows.presented_counts(doc),
                            warnings=warnings)  # fmt: skip


async def hold(db: Database, wf: dict[str, Any]) -> str:
    """Hold the workflow for this (re)initialisation, so that no other one rebuilds its jobs meanwhile (that would put
    back to ready the jobs this one's runners were already given); returns the hold's token. The write that opens
    the run lets go of it (with `$unset: HOLD_FIELDS`, where `init_token` is the token); `release` lets go without opening."""
    token, now = transitions.new_token(), time.time()
    held = await workflows.change(db, wf["_id"], {"$set": {"init_token": token, "init_until": now + HOLD_SECONDS}},
                                  where={"run_id": wf["run_id"], "$or": [{"init_until": None},
                                                                         {"init_until": {"$lt": now}}]})  # fmt: skip
    if held.modified_count != 1:
        until = (await workflows.get_doc(db, wf["_id"])).get("init_until")
        hold = f" (its hold runs out at {iso_from_epoch(until)} if that request's server stopped)" if until else ""
        raise Conflict(f"workflow {wf['_id']} is being (or was just) initialised by another request{hold}; "
                       "check its status")  # fmt: skip
    return token


async def _open_run(db: Database, wf: dict[str, Any], force: bool, token: str) -> list[str]:
    """Check the inputs, rebuild the jobs when needed and open the next run; returns the warnings."""
    wid = wf["_id"]
    if wf.get("needs_full_init"):  # jobs were added or removed, or stopped using a file or user_data
        await _refresh_required_inputs(db, wid)
    inputs = await db.workflow_inputs.find_one({"_id": wid}) or {"files": [], "user_data": []}
    warnings, files, data = await _check_inputs(db, wf, inputs, force)
    if wf["is_initialized"] or wf.get("needs_full_init"):
        await rebuild(db, wf)
    opened = await workflows.change(db, wid, {"$set": {"is_initialized": True, "is_canceled": False,
                                                       "needs_full_init": False, "completed_run": -1},
                                              "$unset": HOLD_FIELDS, "$inc": {"run_id": 1}},
                                    where={"run_id": wf["run_id"], "init_token": token},
                                    return_document=ReturnDocument.BEFORE)  # fmt: skip
    if opened is None:
        raise Conflict(f"workflow {wid} was initialised by another request at the same time; check its status")
    # Only a run that opened records what its inputs were: a refused one must leave the next one to see the changes.
    await _record_mtimes(db, files)
    await _record_data_hashes(db, data)
    return warnings


async def release(db: Database, wid: int, token: str) -> None:
    """Let go of a hold that did not open a run."""
    await workflows.change(db, wid, {"$unset": HOLD_FIELDS}, where={"init_token": token})


@contextlib.asynccontextmanager
async def holding(db: Database, wf: dict[str, Any]) -> AsyncIterator[str]:
    """`hold` the workflow for the block, which opens the run (letting go of the hold); `release` it if the block
    raises."""
    token = await hold(db, wf)
    try:
        yield token
    except BaseException:
        await release(db, wf["_id"], token)
        raise


def _check_state(wf: dict[str, Any], force: bool) -> None:
    if wf["is_archived"]:
        raise Conflict(f"workflow {wf['_id']} is archived; unarchive it before initialising it")
    counts = wf.get("counts", {})
    active = counts.get(S.PENDING.value, 0) + counts.get(S.RUNNING.value, 0)
    if wf["is_initialized"] and active and not force:
        raise Conflict(f"workflow {wf['_id']} has {count(active, 'job')} pending or running; cancel it and let its "
                       "runners stop, or pass force to initialise anyway")  # fmt: skip


async def _check_inputs(db: Database, wf: dict, inputs: dict, force: bool) -> tuple[list[str], list, list[dict]]:
    """Required input files must exist and required user_data must have data; returns the warnings, each input
    file with its modification time now, and the input user_data records."""
    warnings: list[str] = []
    files = await workflows.find_by_ids(db.files, inputs["files"])
    times = {f["_id"]: paths.mtime(f["path"], wf.get("working_dir"), wf.get("user", ""), db.private_files)
             for f in files}  # fmt: skip
    missing = [f for f in files if times[f["_id"]] is None]
    if missing and not force:
        names = ", ".join(f"{f['name']} ({f['path']})" for f in missing[:10])
        verb, them = ("does", "it") if len(missing) == 1 else ("do", "them")
        raise InvalidRequest(f"{count(len(missing), 'input file')} that no job produces {verb} not exist: {names}"
                             + (" ..." if len(missing) > 10 else "") + f"; create {them}, or initialise anyway with "
                             f"force (`torc workflows init {wf['_id']} --force`, `torc run --force`)",
                             missing_file_ids=[f["_id"] for f in missing])  # fmt: skip
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        warnings.append(f"{count(len(missing), 'input file')} {verb} missing (initialised anyway because of force)")
    unchecked = [f for f in files if times[f["_id"]] is paths.UNCHECKED]
    if unchecked:
        verb = "was" if len(unchecked) == 1 else "were"
        warnings.append(f"{count(len(unchecked), 'input file')} {verb} not checked: with access control the server "
                        f"checks only files that {wf.get('user')} owns on its machine; the jobs will find out")  # fmt: skip
    data = await workflows.find_by_ids(db.user_data, inputs["user_data"])
    empty = [u for u in data if u.get("data") is None]
    if empty:
        verb, them = ("is", "it holds") if len(empty) == 1 else ("are", "they hold")
        raise InvalidRequest(f"{count(len(empty), 'user_data record')} {verb} read by jobs but no job writes "
                             f"{'it' if len(empty) == 1 else 'them'} and {them} no data: "
                             f"{', '.join(u['name'] for u in empty[:10])}" + (" ..." if len(empty) > 10 else "")
                             + "; set the data with `torc user-data update ID --data JSON` (force does not "
                             "help: a job would read nothing)",
                             missing_user_data_ids=[u["_id"] for u in empty])  # fmt: skip
    return warnings, [(f, times[f["_id"]]) for f in files], data


async def _record_data_hashes(db: Database, data: list[dict[str, Any]]) -> None:
    """Fingerprint the user_data the run reads, so a later reinitialisation sees changes."""
    ops = [UpdateOne({"_id": u["_id"]}, {"$set": {"run_hash": data_hash(u.get("data"))}}) for u in data
           if u.get("run_hash") != data_hash(u.get("data"))]  # fmt: skip
    if ops:
        await db.user_data.bulk_write(ops, ordered=False)


async def _record_mtimes(db: Database, files: list[tuple[dict[str, Any], Any]]) -> None:
    ops = []
    for f, mtime in files:
        if not isinstance(mtime, float):  # missing, or not the server's to check
            continue
        if f.get("st_mtime") is None or abs(f["st_mtime"] - mtime) > MTIME_TOLERANCE:
            ops.append(UpdateOne({"_id": f["_id"]}, {"$set": {"st_mtime": mtime}}))
    if ops:
        await db.files.bulk_write(ops, ordered=False)


async def rebuild(db: Database, wf: dict[str, Any]) -> None:
    """Every job back to the start of a run, with its relationships recomputed (O(jobs))."""
    wid = wf["_id"]
    docs = [doc async for doc in db.jobs.find({"workflow_id": wid}, _GRAPH_FIELDS)]
    upstream = implicit_upstream(docs)
    cycle = graph.find_cycle(upstream)
    if cycle:
        names = {d["_id"]: d["name"] for d in docs}
        raise InvalidRequest("dependency cycle: " + " -> ".join(names[j] for j in cycle + cycle[:1]))
    disabled = {d["_id"] for d in docs if d["status"] == S.DISABLED.value}
    downstream = graph.downstream_map(upstream)
    ticket = queue.new_ticket()
    await _write_graph(db, docs, upstream, downstream, disabled, ticket)
    await queue.clear(db, wid)
    ready: dict[int, list[int]] = {}
    counts: dict[str, int] = {}
    for d in docs:
        status = S.DISABLED.value if d["_id"] in disabled else _initial_status(upstream[d["_id"]], disabled)
        counts[status] = counts.get(status, 0) + 1
        if status == S.READY.value:
            ready.setdefault(d["rr_id"], []).append(d["_id"])
    await queue.enqueue(db, wid, priority.ordered_queues(ready, priority.of(docs)), ticket)
    await workflows.set_counts(db, wid, counts)
    await db.workflow_inputs.replace_one({"_id": wid}, required_inputs(wid, map(_lists, docs)), upsert=True)


async def _refresh_required_inputs(db: Database, wid: int) -> None:
    """Recompute what jobs read that no job writes (after edits, a deleted job's outputs may now be inputs)."""
    docs = [doc async for doc in db.jobs.find({"workflow_id": wid}, {k: 1 for k in _LIST_FIELDS})]
    await db.workflow_inputs.replace_one({"_id": wid}, required_inputs(wid, map(_lists, docs)), upsert=True)


def _lists(doc: dict[str, Any]) -> tuple[list[int], ...]:
    return tuple(doc.get(k, []) for k in _LIST_FIELDS)


def _initial_status(ups: list[int], disabled: set[int]) -> str:
    # A disabled job counts as done for the jobs that wait on it.
    return S.BLOCKED.value if any(u not in disabled for u in ups) else S.READY.value


def implicit_upstream(docs: list[dict[str, Any]]) -> dict[int, list[int]]:
    """Each job's upstream jobs: explicit ones plus the producers of its input files and user_data."""
    file_producer = {fid: d["_id"] for d in docs for fid in d.get("output_files", [])}
    data_producer = {uid: d["_id"] for d in docs for uid in d.get("output_user_data", [])}
    known = {d["_id"] for d in docs}
    upstream: dict[int, list[int]] = {}
    for d in docs:
        ups = set(d.get("depends_on", [])) & known  # a job that no longer exists holds nobody back
        ups |= {file_producer[f] for f in d.get("input_files", []) if f in file_producer}
        ups |= {data_producer[u] for u in d.get("input_user_data", []) if u in data_producer}
        ups.discard(d["_id"])
        upstream[d["_id"]] = sorted(ups)
    return upstream


async def _write_graph(db, docs, upstream, downstream, disabled, ticket: int) -> None:
    """Every job not disabled back to the start of a run (any status may return there: see states).

    Relationships are written only where they changed, also for disabled jobs (which keep their status,
    and whose `blocks` reruns follow); roots are reset in groups of 50, ready under `ticket`.
    """
    reset = {"claim_token": None, "active_compute_node_id": None, "attempt_id": 1, "lease_losses": 0}
    roots, ops = [], []
    for d in docs:
        jid = d["_id"]
        fields: dict[str, Any] = {}
        graph_fields = {"upstream": upstream[jid], "blocks": sorted(downstream.get(jid, []))}
        fingerprint = definition_hash({**d, **graph_fields})
        if any(d.get(k) != v for k, v in graph_fields.items()) or d.get("definition_hash") != fingerprint:
            fields = {**graph_fields, "definition_hash": fingerprint}
        if jid in disabled:
            if fields:
                ops.append(UpdateOne({"_id": jid}, {"$set": fields}))
            continue
        if _initial_status(upstream[jid], disabled) == S.READY.value and not fields:
            roots.append(jid)
            continue
        waiting = [u for u in upstream[jid] if u not in disabled]
        status = S.BLOCKED.value if waiting else S.READY.value
        tickets = queue.ticketed(ticket) if status == S.READY.value else {}
        ops.append(transitions.restarting(jid, None, status, {**fields, "waiting_on": waiting, **reset, **tickets}))
    for part in chunks(ops, 1000):
        await db.jobs.bulk_write(part, ordered=False)
    await transitions.restart_ready(db, roots, {"waiting_on": [], **reset, **queue.ticketed(ticket)})
