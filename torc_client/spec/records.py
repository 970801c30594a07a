"""The records of a WorkflowPlan: what a spec becomes once every template is expanded and every name resolved.

Frozen msgspec Structs, built by `torc_client.spec.plan.build_plan` and read by the server when it creates a
workflow; relationships are held as names.
"""

from __future__ import annotations

from typing import Any

import msgspec

from torc_client.spec.hpc import PlanAction, PlanScheduler


class PlanResources(msgspec.Struct, frozen=True):
    """A named set of resources; `memory_bytes` and `runtime_s` are computed for claim queries."""

    name: str
    num_cpus: int
    num_gpus: int
    num_nodes: int
    memory: str
    memory_bytes: int
    runtime: str
    runtime_s: float


class PlanFile(msgspec.Struct, frozen=True):
    """A file jobs read or write."""

    name: str
    path: str


class PlanUserData(msgspec.Struct, frozen=True):
    """A JSON document jobs read or write."""

    name: str
    data: Any
    is_ephemeral: bool


class PlanFailureHandler(msgspec.Struct, frozen=True):
    """Retry rules, each with every key filled in (exit_codes, match_all_exit_codes, ...)."""

    name: str
    rules: list[dict[str, Any]]


class PlanJob(msgspec.Struct, frozen=True, gc=False):
    """A concrete job; relationship tuples hold names, sorted and deduplicated.

    Only strings, tuples of strings and mappings of strings, so it can form no cycle: untracked
    by the garbage collector, which saves 16 bytes a job and the collector's passes over a
    million of them.
    """

    name: str
    command: str
    invocation_script: str | None
    resource_requirements: str
    failure_handler: str | None
    cancel_on_blocking_job_failure: bool
    supports_termination: bool
    depends_on: tuple[str, ...]
    input_files: tuple[str, ...]
    output_files: tuple[str, ...]
    input_user_data: tuple[str, ...]
    output_user_data: tuple[str, ...]
    scheduler: str | None = None
    #: Claimed before jobs of lower priority that are queued with it (default 0).
    priority: int = 0
    #: The environment variables set for its command: the workflow's `env` with the job's own over it.
    env: dict[str, str] | None = None
    #: Its own stdout and stderr settings (`mode`, `delete_on_success`), over `execution_config.stdio`.
    stdio: dict[str, Any] | None = None


class WorkflowPlan(msgspec.Struct, frozen=True):
    """Everything needed to create a workflow.

    `upstream[job]` is every job it waits for; a job that waits for none is not in it (most of a
    big sweep), so read it with `waits_for` or take every job's entry from `graph()`.
    """

    name: str
    description: str | None
    user: str | None
    working_dir: str | None
    project: str | None
    metadata: dict[str, Any]
    settings: dict[str, Any]
    resource_requirements: tuple[PlanResources, ...]
    files: tuple[PlanFile, ...]
    user_data: tuple[PlanUserData, ...]
    failure_handlers: tuple[PlanFailureHandler, ...]
    jobs: tuple[PlanJob, ...]
    upstream: dict[str, tuple[str, ...]]
    slurm_schedulers: tuple[PlanScheduler, ...] = ()
    slurm_defaults: dict[str, Any] = {}
    actions: tuple[PlanAction, ...] = ()

    def waits_for(self, job: str) -> tuple[str, ...]:
        return self.upstream.get(job, ())

    def graph(self) -> dict[str, tuple[str, ...]]:
        """Every job, in spec order, with the jobs it waits for (for tools that walk a whole graph)."""
        return {job.name: self.waits_for(job.name) for job in self.jobs}
