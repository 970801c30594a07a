"""The runner's protocol: claim ready jobs, report starts and completions, explain what cannot fit."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import Parameter

from api.access import rules
from api.pacing import PACER
from api.shares import trimmed
from api.storage import Database, claims, completion
from torc_client.contract import (
    ClaimRequest,
    ClaimResponse,
    CompleteReport,
    Rejection,
    ReportResponse,
    StartReport,
    UnfitGroup,
)
from torc_client.core.resources import Capacity

#: A runner's size, within what any machine has (and what the database can compare in bytes).
Count = Annotated[int, Parameter(ge=0, le=1_000_000)]
Gigabytes = Annotated[float, Parameter(ge=0, le=1e9)]
#: Time limits beyond this (three centuries) are no limit at all.
MAX_SECONDS = 1e10


class RunController(Controller):
    path = "/workflows/{workflow_id:int}"
    tags = ["runs"]

    @post("/claim", status_code=200, opt=rules.WORKFLOW)
    async def claim(self, db: Database, lease: float, workflow_id: int, data: ClaimRequest) -> ClaimResponse:
        """Hand up to `limit` ready jobs that fit the runner's free resources to this runner alone; the answer says
        when to come back (`next_exchange_seconds`)."""
        lease = PACER.lease(lease)  # a runner told a long pace keeps its jobs for several of them
        started = PACER.started(data.compute_node_id)
        # Overloaded, each runner is handed its share only.
        data = trimmed(data, PACER.share(data.limit + data.backlog, len(data.outcomes)))
        try:
            answer = await claims.claim(db, workflow_id, data, lease)
            # Counted before the exchange ends, so that an adjustment it makes counts what it handled.
            PACER.handled(len(answer.jobs) + (len(answer.report.accepted) if answer.report else 0))
        finally:
            PACER.finished(started)
        answer.next_exchange_seconds = PACER.advice(lease, data.compute_node_id)
        return answer

    @post("/start", status_code=200, opt=rules.WORKFLOW)
    async def start(self, db: Database, workflow_id: int, data: StartReport) -> ReportResponse:
        """Report that claimed jobs started (pending -> running); each must carry its claim token."""
        accepted, rejected = await completion.start(
            db, workflow_id, data.compute_node_id, [(j.job_id, j.claim_token) for j in data.jobs]
        )
        return ReportResponse(accepted=accepted, rejected=[Rejection(job_id=j, reason=r) for j, r in rejected])

    @post("/complete", status_code=200, opt=rules.WORKFLOW)
    async def complete(self, db: Database, workflow_id: int, data: CompleteReport) -> ReportResponse:
        """Report finished jobs: store their results and release (or cancel) their dependents at once."""
        return await completion.complete(db, workflow_id, data)

    @get("/unfit", opt=rules.WORKFLOW)
    async def unfit(self, db: Database, workflow_id: int, num_cpus: Count, memory_gb: Gigabytes, num_gpus: Count = 0,
                    num_nodes: Count = 1, time_limit_seconds: float | None = None) -> list[UnfitGroup]:  # fmt: skip
        """Unfinished jobs that can never run on a runner this size, with the flags that would let them."""
        limit = None if time_limit_seconds is None else max(0.0, min(time_limit_seconds, MAX_SECONDS))
        total = Capacity.from_gb(num_cpus, memory_gb, num_gpus, num_nodes, limit)
        return await claims.unfit(db, workflow_id, total)
