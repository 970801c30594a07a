"""How a job is launched, and which devices it gets: the one place that knows.

A runner picks its launcher once, at start, and says which in one line:

- `srun`: inside a Slurm allocation (unless the workflow's `execution_config.mode` is
  `direct`), each job is a job step, `srun --exact` with its CPUs, memory and GPUs, so
  Slurm's cgroups confine it (`runner.launch.srun`);
- `cgroup`: with `--enforce-memory` where the node has a writable memory cgroup, each job
  runs in a cgroup of its own limited to its memory request: the kernel kills it the
  moment it goes over (`runner.launch.cgroups`);
- `plain`: a child process in its own session. With `--enforce-memory` the resource
  monitor then samples each job every `ENFORCE_SAMPLE_SECONDS` and kills one over its
  request (`runner.memory`).

Whichever it is, each job that asks for GPUs gets ids of its own (`runner.launch.devices`),
and after a job exits the launcher says whether it ran out of memory and the peak it
saw. The rest of the runner calls `start` and `end` and does not know which launcher runs.
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from runner import memory
from runner.launch.cgroups import MemoryCgroups
from runner.launch.plain import (  # noqa: F401 - the launchers' shared names, used as launch.X
    ENFORCE_SAMPLE_SECONDS,
    MEMORY_LIMIT_METHODS,
    Ended,
    Launcher,
    LaunchError,
)
from runner.launch.srun import SrunLauncher
from torc_client.contract import ClaimedJob, Workflow
from torc_client.hpc import slurm


class CgroupLauncher(Launcher):
    """Each job in a memory cgroup of its own, limited to its request: the kernel kills it when it goes over."""

    name = "cgroup"
    enforces_memory = True

    def __init__(self, gpus: int, cgroups: MemoryCgroups) -> None:
        super().__init__(gpus, enforce_memory=True)
        self.cgroups = cgroups

    def start(self, job: ClaimedJob, command: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        _, env = super().start(job, command, env)
        procs = self.cgroups.prepare(job.id, memory.limit_of(job))
        # The shell joins the cgroup before the command runs, so every process of the job is confined from its start
        # (one shell: a second one to exec would cost each job about a millisecond of CPU).
        return ["bash", "-c", f"echo $$ > {shlex.quote(str(procs))} || exit 125\n{command}"], env

    def end(self, job: ClaimedJob, code: int, stderr: Path) -> Ended:
        super().end(job, code, stderr)
        found = self.cgroups.finish(job.id)
        if found.out_of_memory and code != 0:
            return Ended(True, f"killed by the kernel (out of memory, cgroup v{self.cgroups.version})", found.peak_bytes)
        return Ended(peak_bytes=found.peak_bytes)

    def close(self) -> None:
        self.cgroups.close()

    def describe(self) -> list[str]:
        line = (f"each job runs in a cgroup of its own ({self.cgroups.describe()}) limited to its memory request: "
                "the kernel kills a job that goes over (jobs with no memory request are not limited)")  # fmt: skip
        return [line, *([self.gpus.describe()] if self.gpus.count else [])]


def choose(workflow: Workflow, gpus: int, enforce_memory: bool, method: str = "auto",
           allocation: slurm.Allocation | None = None, max_parallel_jobs: int | None = None) -> Launcher:  # fmt: skip
    """The launcher this runner uses for all its jobs, from where it runs and what it was asked."""
    note = ""
    if allocation is not None:
        note = _no_steps(workflow.execution_config.mode, max_parallel_jobs)
        if not note:
            return SrunLauncher(gpus, allocation)
    if not enforce_memory or method == "sampler":
        return Launcher(gpus, enforce_memory, note)
    cgroups = MemoryCgroups.open(f"torc_runner_{os.getpid()}")
    if cgroups is not None:
        return CgroupLauncher(gpus, cgroups)
    if method == "cgroup":
        raise LaunchError("--memory-limits cgroup: this node has no memory cgroup this runner may write")
    return Launcher(gpus, enforce_memory, note)


def _no_steps(mode: str, max_parallel_jobs: int | None) -> str:
    """Why a runner in an allocation does not run its jobs as job steps ("" when it does)."""
    if mode == "direct":
        return "the workflow's execution_config.mode is direct"
    if max_parallel_jobs:
        return "--max-parallel-jobs ignores resource requirements, so there are none to give each job step"
    if os.environ.get("SLURM_STEP_ID"):
        return "this runner is itself a job step (one per node), which holds the node's resources"
    if not os.environ.get("SLURM_JOB_NODELIST"):  # sbatch and salloc set it: only SLURM_JOB_ID is not an allocation
        return "SLURM_JOB_NODELIST is not set, so this is no allocation's environment to start job steps in"
    if not shutil.which("srun"):
        return "srun is not on PATH"
    return ""
