"""Where a workflow's jobs run and ran: its running jobs with their compute node and start time
(`/workflows/{id}/running_jobs`), and each job with the Slurm job it ran in (`/workflows/{id}/slurm_job_correlations`).

A job's compute node is the one holding it, or, for a job started through Torc's calls
(held by none), the one its start event names; its start time is that event's. A job ran in
a Slurm job when a result of it, or its current run, is on a compute node that worked in a
Slurm allocation (the node's `scheduler_id`, which this server's runners set from
`SLURM_JOB_ID`). The listings read the workflow's running jobs, results and compute nodes
once: they cost time in proportion to those.
"""

from __future__ import annotations

from typing import Any

from api.storage import workflows
from api.storage.compat import paging
from api.storage.db import Database
from torc_client.contract import Page, RunningJob, SlurmJobCorrelation
from torc_client.core import states
from torc_client.core.units import iso_from_epoch

S = states.JobStatus
#: What an unknown compute node is called (its record was deleted).
UNKNOWN_NODE = "unknown"


async def running_jobs(db: Database, wid: int, offset: int, limit: int) -> Page[RunningJob]:
    """The running jobs, by id, with the compute node each runs on and when it started."""
    await workflows.get_doc(db, wid)
    docs = [d async for d in db.jobs.find({"workflow_id": wid, "status": S.RUNNING.value},
                                          {"name": 1, "active_compute_node_id": 1}).sort("_id", 1)]  # fmt: skip
    starts = await _starts(db, wid, [d["_id"] for d in docs])
    node_of = {d["_id"]: d.get("active_compute_node_id") or starts.get(d["_id"], {}).get("node") for d in docs}
    nodes = await _nodes(db, {n for n in node_of.values() if n is not None})
    rows = []
    for doc in docs:
        node = nodes.get(node_of[doc["_id"]], {})
        stamp = starts.get(doc["_id"], {}).get("timestamp")
        rows.append(RunningJob(job_id=doc["_id"], job_name=doc["name"], compute_node_name=node.get("hostname",
                               UNKNOWN_NODE), scheduler_type=node.get("compute_node_type", "local"),
                               scheduler_job_id=node.get("scheduler_id"),
                               start_time=iso_from_epoch(stamp / 1000) if stamp is not None else None))  # fmt: skip
    return paging.page(rows, offset, limit)


async def slurm_job_correlations(db: Database, wid: int, offset: int, limit: int) -> Page[SlurmJobCorrelation]:
    """Each (job, Slurm job it ran in) pair, by job id then Slurm job id: from its results, and its current run."""
    await workflows.get_doc(db, wid)
    nodes = {d["_id"]: d["scheduler_id"] async for d in db.compute_nodes.find(
        {"workflow_id": wid, "scheduler_id": {"$ne": None}}, {"scheduler_id": 1})}  # fmt: skip
    pairs: set[tuple[int, str]] = set()
    async for result in db.results.find({"workflow_id": wid, "compute_node_id": {"$in": sorted(nodes)}},
                                        {"job_id": 1, "compute_node_id": 1}):  # fmt: skip
        pairs.add((result["job_id"], nodes[result["compute_node_id"]]))
    active = [S.PENDING.value, S.RUNNING.value]
    async for job in db.jobs.find({"workflow_id": wid, "status": {"$in": active},
                                   "active_compute_node_id": {"$in": sorted(nodes)}}, {"active_compute_node_id": 1}):
        pairs.add((job["_id"], nodes[job["active_compute_node_id"]]))
    names = {d["_id"]: d["name"] for d in await workflows.find_by_ids(db.jobs, sorted({j for j, _ in pairs}),
                                                                     {"name": 1})}  # fmt: skip
    rows = [SlurmJobCorrelation(job_id=jid, job_name=names.get(jid, ""), slurm_job_id=slurm)
            for jid, slurm in sorted(pairs) if jid in names]  # fmt: skip
    return paging.page(rows, offset, limit)


async def _starts(db: Database, wid: int, job_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each job's latest start: its event's time (ms) and the compute node that reported it."""
    found: dict[int, dict[str, Any]] = {}
    if not job_ids:
        return found
    query = {"workflow_id": wid, "data.status": S.RUNNING.value, "data.job_ids": {"$in": job_ids}}
    wanted = set(job_ids)
    async for event in db.events.find(query, {"timestamp": 1, "data": 1}).sort("_id", 1):
        for jid in wanted.intersection(event["data"].get("job_ids", [])):
            found[jid] = {"timestamp": event["timestamp"], "node": event["data"].get("compute_node_id")}
    return found


async def _nodes(db: Database, ids: set[int]) -> dict[int, dict[str, Any]]:
    docs = await workflows.find_by_ids(db.compute_nodes, sorted(ids), {"hostname": 1, "compute_node_type": 1,
                                                                       "scheduler_id": 1})  # fmt: skip
    return {d["_id"]: d for d in docs}
