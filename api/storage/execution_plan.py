"""A stored workflow's execution plan: the stages in which its jobs run.

The jobs are read by id from the workflow's id blocks, a page at a time, with only
`upstream`, `rr_id` and `status`; the stages are `torc_client.core.graph.topological_levels`,
the levels `torc validate` prints for a spec. That is one read of every job (O(jobs),
never a filtered scan); names are read afterwards only for the jobs the answer lists.
"""

from __future__ import annotations

from typing import Any

from api.storage import jobs, workflows
from api.storage.db import Database
from torc_client.analysis import dependencies
from torc_client.contract import ExecutionPlan, StageResources
from torc_client.core import graph, states
from torc_client.core.errors import InvalidRequest, SpecError

#: Job ids read per page (each page is fetched in `$in` chunks of 50).
PAGE = 5000
_FIELDS = {"upstream": 1, "rr_id": 1, "status": 1}
_NONE: tuple[int, ...] = ()


async def execution_plan(db: Database, wid: int, names_per_stage: int = dependencies.NAMES_PER_STAGE) -> ExecutionPlan:
    """The stages of workflow `wid`, each with its size, first job names, jobs per status and per requirements."""
    wf = await workflows.get_doc(db, wid, full=True)
    upstream, info = await _read_jobs(db, wf["job_blocks"])
    try:
        levels = graph.topological_levels(upstream)
    except SpecError:
        cycle = graph.find_cycle(upstream) or []
        names = await jobs.names(db, cycle)
        raise InvalidRequest(graph.format_cycle([names.get(jid, jid) for jid in cycle])) from None
    listed = levels[: dependencies.MAX_STAGES]
    names = await jobs.names(db, [jid for level in listed for jid in level[:names_per_stage]])
    requirements = await _requirements(db, {rr for rr, _ in info.values()})
    uninitialized = states.JobStatus.UNINITIALIZED.value
    stages = dependencies.stages(
        listed, lambda jid: info[jid][0], requirements, names, names_per_stage,
        status_of=(lambda jid: info[jid][1]) if wf["is_initialized"] else (lambda _: uninitialized), with_ids=True,
    )  # fmt: skip
    return ExecutionPlan(name=wf["name"], num_jobs=len(info), num_stages=len(levels), stages=stages, workflow_id=wid)


async def _read_jobs(db: Database, blocks: list[list[int]]) -> tuple[dict[int, Any], dict[int, tuple[Any, str]]]:
    """Every job's upstream ids (only those of jobs that exist) and its (rr_id, status)."""
    upstream: dict[int, Any] = {}
    info: dict[int, tuple[Any, str]] = {}
    total = sum(n for _, n in blocks)
    for offset in range(0, total, PAGE):
        for d in await workflows.find_by_ids(db.jobs, workflows.id_page(blocks, offset, PAGE), _FIELDS):
            upstream[d["_id"]] = d.get("upstream") or _NONE
            info[d["_id"]] = (d.get("rr_id"), d["status"])
    for jid, ups in upstream.items():
        if any(u not in info for u in ups):  # a job deleted through the API
            upstream[jid] = [u for u in ups if u in info]
    return upstream, info


async def _requirements(db: Database, rr_ids: set[Any]) -> dict[Any, StageResources]:
    docs = await workflows.find_by_ids(db.resource_requirements, sorted(rr for rr in rr_ids if rr is not None))
    found: dict[Any, StageResources] = {
        d["_id"]: StageResources(name=d["name"], num_jobs=0, num_cpus=d["num_cpus"], num_gpus=d["num_gpus"],
                                 num_nodes=d["num_nodes"], memory=d["memory"], runtime=d["runtime"])
        for d in docs
    }  # fmt: skip
    for rr in rr_ids - set(found):
        found[rr] = StageResources(name="none" if rr is None else f"#{rr} (deleted)", num_jobs=0)
    return found
