"""What a runner is asked to do, and what it reports when it stops."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from torc_client import contract as c
from torc_client.core import settings


@dataclass
class RunSummary:
    """What one runner did."""

    workflow_id: int
    compute_node_id: int
    counts: dict[str, int] = field(default_factory=dict)
    workflow_status: c.WorkflowStatus | None = None
    unfit: list[c.UnfitGroup] = field(default_factory=list)
    canceled: bool = False
    interrupted: bool = False
    lease_lost: bool = False
    #: It left an allocation idle while other runners or allocations do the remaining work.
    handed_over: bool = False
    #: Its allocation ended (SIGTERM from Slurm: the warning signal, or the limit) and its jobs went back to the queue.
    allocation_ended: bool = False

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0) + self.counts.get("terminated", 0)

    @property
    def exit_code(self) -> int:
        if self.lease_lost:
            return 3
        if self.allocation_ended:  # a graceful end: Slurm records the allocation COMPLETED
            return 0
        if self.interrupted:
            return 130
        if self.failed or self.canceled or self.unsuccessful:
            return 1
        done = self.workflow_status is not None and self.workflow_status.is_complete
        return 0 if done or self.handed_over else 2

    @property
    def unsuccessful(self) -> int:
        """Jobs of the finished workflow that did not complete, whichever runner (or earlier run) ended them."""
        status = self.workflow_status
        if status is None or not status.is_complete:
            return 0
        return sum(n for s, n in status.job_counts.items() if s in ("failed", "canceled", "terminated",
                                                                    "pending_failed"))


@dataclass
class RunnerOptions:
    num_cpus: int | None = None
    memory_gb: float | None = None
    num_gpus: int | None = None
    num_nodes: int = 1
    max_parallel_jobs: int | None = None
    poll_interval: float = settings.DEFAULT_POLL_INTERVAL
    output_dir: Path = Path(settings.DEFAULT_OUTPUT_DIR)
    time_limit: float | None = None
    kill_grace: float = settings.DEFAULT_KILL_GRACE_SECONDS
    backlog_seconds: float = settings.DEFAULT_BACKLOG_SECONDS
    #: Kill a job whose process tree uses more memory than it requested (`runner.memory`).
    enforce_memory: bool = False
    #: How: `auto` (a memory cgroup per job where the node allows it, else sampling), `cgroup` or `sampler`.
    memory_limits: str = "auto"
