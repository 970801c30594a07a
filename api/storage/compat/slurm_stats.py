"""Slurm's accounting figures for a job's attempt (Torc's `/slurm_stats`): what `sacct` measured (peak memory,
disk traffic, CPU time, the nodes), stored by the runner that ran the job and listed per workflow."""

from __future__ import annotations

from typing import Any

import msgspec

from api.storage import jobs, workflows
from api.storage.compat import paging
from api.storage.db import Database
from torc_client.contract import Page, SlurmStats
from torc_client.core.errors import InvalidRequest

#: Measures that count bytes or seconds: never negative.
MEASURES = ("max_rss_bytes", "max_vm_size_bytes", "max_disk_read_bytes", "max_disk_write_bytes", "ave_cpu_seconds")


def to_record(doc: dict[str, Any]) -> SlurmStats:
    return SlurmStats(id=doc["_id"], **{k: doc.get(k) for k in SlurmStats.__struct_fields__ if k != "id"})


async def create(db: Database, stats: SlurmStats) -> SlurmStats:
    """Store the figures of one attempt of a job of the workflow."""
    await workflows.get_doc(db, stats.workflow_id)
    job = await jobs.get_doc(db, stats.job_id)
    if job["workflow_id"] != stats.workflow_id:
        raise InvalidRequest(f"job {stats.job_id} is of workflow {job['workflow_id']}, not {stats.workflow_id}")
    for name in ("run_id", "attempt_id"):
        if getattr(stats, name) < 1:
            raise InvalidRequest(f"{name} {getattr(stats, name)}: runs and attempts are numbered from 1")
    for name in MEASURES:
        value = getattr(stats, name)
        if value is not None and value < 0:
            raise InvalidRequest(f"{name} {value}: a measure cannot be negative")
    rid = await db.allocate_ids("slurm_stats", 1)
    doc = {"_id": rid, **{k: v for k, v in msgspec.structs.asdict(stats).items() if k != "id"}}
    await db.slurm_stats.insert_one(doc)
    return to_record(doc)


async def list_page(db: Database, wid: int, job_id: int | None, run_id: int | None, attempt_id: int | None,
                    offset: int, limit: int) -> Page[SlurmStats]:  # fmt: skip
    """A workflow's figures, in the order they were stored, optionally of one job, run or attempt."""
    await workflows.get_doc(db, wid)
    query: dict[str, Any] = {"workflow_id": wid}
    for name, value in (("job_id", job_id), ("run_id", run_id), ("attempt_id", attempt_id)):
        if value is not None:
            query[name] = value
    docs = [doc async for doc in db.slurm_stats.find(query).sort("_id", 1)]
    return paging.page([to_record(doc) for doc in docs], offset, limit)
