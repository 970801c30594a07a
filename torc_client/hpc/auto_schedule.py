"""One round of unattended scheduling: `torc slurm regenerate` does one by hand, `torc watch --auto-schedule` one
per poll.

A round cancels the queued allocations no remaining job can use, then decides
(`allocation_plan.decide`) whether ready jobs need new allocations, and submits allocations
sized for them (`unattended.plan_for`). A decision to submit is an event with its reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from torc_client.client import Client
from torc_client.hpc import profiles as hpc_profiles
from torc_client.hpc import unattended
from torc_client.hpc.allocation_plan import (
    DEFAULT_COOLDOWN_SECONDS,
    DEFAULT_STRANDED_TIMEOUT_SECONDS,
    DEFAULT_THRESHOLD,  # fmt: skip
    Decision,
    decide,
)
from torc_client.hpc.generate import WALLTIME_FACTOR


@dataclass
class AutoSchedule:
    """What `torc watch --auto-schedule` carries from one poll to the next."""

    workflow_id: int
    output_dir: Path
    account: str | None = None
    profile: str | None = None
    threshold: int = DEFAULT_THRESHOLD
    cooldown: float = DEFAULT_COOLDOWN_SECONDS
    stranded_timeout: float = DEFAULT_STRANDED_TIMEOUT_SECONDS
    walltime_multiplier: float = WALLTIME_FACTOR
    #: When each ready job was first seen ready (monotonic seconds), for the stranded timeout.
    seen_ready: dict[int, float] = field(default_factory=dict)
    last_submission: float | None = None
    last_reason: str = ""
    last_kind: str = ""

    def round(self, client: Client, say: unattended.Say, *, force: bool = False, submit: bool = True,
              dry_run: bool = False) -> tuple[Decision, list[unattended.Planned], list[str]]:  # fmt: skip
        """Cancel idle queued allocations, decide, and (with `submit`) submit; returns the decision, the plan and
        the Slurm ids submitted. `force` ignores the cooldown (a round asked for by hand)."""
        if not dry_run:
            unattended.cancel_idle(client, self.workflow_id, say)
        workflow = client.get_workflow(self.workflow_id)
        ready = unattended.work(client, self.workflow_id, ("ready",), self.seen_ready)
        self.seen_ready = {j.job_id: self.seen_ready.get(j.job_id, time.monotonic()) for j in ready}
        live = unattended.slots(client, self.workflow_id, workflow.compute_node_expiration_buffer_seconds)
        since = None if force or self.last_submission is None else time.monotonic() - self.last_submission
        decision = decide(ready, live, since_last=since, threshold=self.threshold, cooldown=self.cooldown,
                          stranded_timeout=self.stranded_timeout)  # fmt: skip
        if decision.reason != self.last_reason:
            say(f"auto-schedule: {decision.reason}")
            self.last_reason = decision.reason
        if not decision.submit:
            self._record(client, decision, dry_run)
            return decision, [], []
        profile = hpc_profiles.get(self.profile)
        planned = unattended.plan_for(client, self.workflow_id, list(decision.jobs), profile,
                                      self.walltime_multiplier)  # fmt: skip
        if dry_run:
            return decision, planned, []
        account = unattended.account_for(client, self.workflow_id, self.account, profile)
        ids = unattended.submit_planned(client, self.workflow_id, planned, account, self.output_dir,
                                       decision.reason, say, submit)  # fmt: skip
        self.last_submission, self.last_kind = time.monotonic(), decision.kind
        for job in decision.jobs:  # their wait starts again with the new allocations
            self.seen_ready[job.job_id] = self.last_submission
        return decision, planned, ids

    def _record(self, client: Client, decision: Decision, dry_run: bool) -> None:
        """A decision to wait is an event when its kind changes (a submission is an event of its own)."""
        if dry_run or decision.kind == self.last_kind:
            return
        self.last_kind = decision.kind
        client.add_event(self.workflow_id, f"auto-schedule: {decision.reason}", category="auto_schedule",
                         kind=decision.kind, reason=decision.reason)  # fmt: skip
