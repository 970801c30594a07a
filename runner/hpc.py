"""A runner's HPC duties: the limits of its Slurm allocation, its allocation's record, and workflow actions.

Inside an allocation the runner takes its CPUs, memory and GPUs from Slurm (unless told
otherwise) and its time limit from the allocation's end minus the workflow's
`compute_node_expiration_buffer_seconds`: it claims only jobs that fit the time left,
and stops its jobs (terminated, to be rerun) and returns its backlog before the end.
Anywhere, it executes the workflow's pending actions: `on_worker_start` when it starts,
job and workflow triggers as they fire (checked at most every `ACTION_CHECK_SECONDS`),
`on_worker_complete` when it stops. A runner leaving its allocation cancels the workflow's
queued allocations that no remaining job can use (`torc_client.hpc.unattended.cancel_idle`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from runner.options import RunnerOptions
from torc_client import contract as c
from torc_client.client import Client
from torc_client.core import errors
from torc_client.core.allocations import AllocationStatus
from torc_client.core.triggers import FIRED_TRIGGERS, Trigger
from torc_client.hpc import actions as workflow_actions
from torc_client.hpc import slurm, unattended

ACTION_CHECK_SECONDS = 2.0


def allocation_options(opts: RunnerOptions, workflow: c.Workflow,
                       found: slurm.Allocation | None) -> RunnerOptions:  # fmt: skip
    """`opts` with what a Slurm allocation gives filled in (explicit options win)."""
    if found is None:
        return opts
    changes: dict = {}
    for field, value in (("num_cpus", found.cpus), ("memory_gb", found.memory_gb), ("num_gpus", found.gpus)):
        if getattr(opts, field) is None and value is not None:
            changes[field] = value
    if found.end_epoch is not None:
        left = found.end_epoch - time.time() - workflow.compute_node_expiration_buffer_seconds
        changes["time_limit"] = max(1.0, min(left, opts.time_limit or left))
    return dataclasses.replace(opts, **changes)


class HpcDuties:
    """Actions and the allocation record, for one runner."""

    def __init__(self, client: Client, workflow_id: int, output_dir: Path, log: Callable[[str], None],
                 allocation: slurm.Allocation | None = None) -> None:  # fmt: skip
        self.client, self.workflow_id, self.output_dir, self.log = client, workflow_id, output_dir, log
        self.allocation = allocation
        self.node_id: int | None = None
        self.has_actions = bool(client.list_actions(workflow_id))
        self._next_check = 0.0

    def started(self, node_id: int) -> None:
        self.node_id = node_id
        self._set_allocation_status(AllocationStatus.ACTIVE)
        self._run((Trigger.ON_WORKER_START,))

    def tick(self) -> None:
        """Execute actions whose triggers fired since the last check."""
        now = time.monotonic()
        if self.has_actions and now >= self._next_check:
            self._next_check = now + ACTION_CHECK_SECONDS
            self._run(FIRED_TRIGGERS)

    def finished(self) -> None:
        self._run((*FIRED_TRIGGERS, Trigger.ON_WORKER_COMPLETE))
        self._set_allocation_status(AllocationStatus.COMPLETE)
        self._cancel_idle()

    def _cancel_idle(self) -> None:
        """A runner leaving its allocation cancels the workflow's queued allocations that no remaining job can use:
        it is the one party that is there, on the cluster, when the work runs out."""
        if self.allocation is None:
            return
        try:
            unattended.cancel_idle(self.client, self.workflow_id, self.log)
        except errors.TorcError as error:  # leaving must not fail for it: a watcher or the user can still cancel
            self.log(f"could not cancel idle allocations: {error.message}")

    def _run(self, triggers: tuple[str, ...]) -> None:
        if not self.has_actions:
            return
        try:
            workflow_actions.run_pending(self.client, self.workflow_id, self.output_dir, node_id=self.node_id,
                                         triggers=triggers, log=self.log)  # fmt: skip
        except errors.TorcError as error:  # an action that fails must not stop the jobs
            self.log(f"workflow action failed: {error.message}")

    def _set_allocation_status(self, status: str) -> None:
        if self.allocation is None:
            return
        for record in self.client.list_scheduled_compute_nodes(self.workflow_id):
            if record.slurm_job_id == self.allocation.job_id and record.status != status:
                self.client.update_scheduled_compute_node(record.id, status)
