"""The runner's protocol: claim ready jobs, report starts and completions, explain what cannot fit."""

from __future__ import annotations

from litestar import Controller, get, post

from api.pacing import PACER
from api.storage import Database, claims, completion
from torc_client.contract import ClaimRequest, ClaimResponse, CompleteReport, ReportResponse, StartReport, UnfitGroup
from torc_client.contract import Rejection
from torc_client.resources import Capacity


class RunController(Controller):
    path = "/workflows/{workflow_id:int}"
    tags = ["runs"]

    @post("/claim", status_code=200)
    async def claim(self, db: Database, lease: float, workflow_id: int, data: ClaimRequest) -> ClaimResponse:
        """Hand up to `limit` ready jobs that fit the runner's free resources to this runner alone; the answer says
        when to come back (`next_exchange_seconds`)."""
        started = PACER.started()
        try:
            answer = await claims.claim(db, workflow_id, data, lease)
        finally:
            PACER.finished(started)
        answer.next_exchange_seconds = PACER.advice(lease)
        return answer

    @post("/start", status_code=200)
    async def start(self, db: Database, workflow_id: int, data: StartReport) -> ReportResponse:
        """Report that claimed jobs started (pending -> running); each must carry its claim token."""
        accepted, rejected = await completion.start(
            db, workflow_id, data.compute_node_id, [(j.job_id, j.claim_token) for j in data.jobs]
        )
        return ReportResponse(accepted=accepted, rejected=[Rejection(job_id=j, reason=r) for j, r in rejected])

    @post("/complete", status_code=200)
    async def complete(self, db: Database, workflow_id: int, data: CompleteReport) -> ReportResponse:
        """Report finished jobs: store their results and release (or cancel) their dependents at once."""
        return await completion.complete(db, workflow_id, data)

    @get("/unfit")
    async def unfit(self, db: Database, workflow_id: int, num_cpus: int, memory_gb: float, num_gpus: int = 0,
                    num_nodes: int = 1, time_limit_seconds: float | None = None) -> list[UnfitGroup]:  # fmt: skip
        """Unfinished jobs that can never run on a runner this size, with the flags that would let them."""
        total = Capacity.from_gb(num_cpus, memory_gb, num_gpus, num_nodes, time_limit_seconds)
        return await claims.unfit(db, workflow_id, total)
