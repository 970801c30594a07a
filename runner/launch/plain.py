"""The plain launcher, which every other one builds on: a child process in its own session, with GPUs of its own,
and what a launcher reports of a job that exited (`Ended`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.launch.devices import GpuPool, visibility
from torc_client.contract import ClaimedJob
from torc_client.core.errors import TorcError

#: Seconds between the samples that enforce memory requests where no cgroup can (`--memory-limits sampler`).
ENFORCE_SAMPLE_SECONDS = 0.05
#: How `--enforce-memory` is enforced: `auto` (a cgroup where the node allows it, else sampling), or either forced.
MEMORY_LIMIT_METHODS = ("auto", "cgroup", "sampler")


class LaunchError(TorcError):
    """A launcher that was asked for cannot work here (a forced cgroup on a node without one)."""

    title = "Cannot launch jobs"


@dataclass(frozen=True)
class Ended:
    """What a launcher saw of a job that exited: out of memory (and what killed it), and the peak it measured."""

    out_of_memory: bool = False
    cause: str = ""
    peak_bytes: int | None = None
    #: The job's own exit code when the launcher's differs (srun's 128+N for a task killed by signal N is -N).
    code: int | None = None


class Launcher:
    """A plain child process in its own session; GPUs of its own. Subclasses confine jobs further."""

    name = "plain"
    #: Memory requests hold without the runner's sampler (the kernel or Slurm enforces them).
    enforces_memory = False
    #: The exit of the launched process accounts for the job's own processes (its resource usage is the job's).
    measures_job = True

    def __init__(self, gpus: int, enforce_memory: bool = False, note: str = "") -> None:
        self.gpus = GpuPool(gpus)
        self.enforce_memory = enforce_memory
        self.note = note  # why jobs are not job steps, in an allocation

    def start(self, job: ClaimedJob, command: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        """The command line that runs `command` for `job`, and its environment (`env` with its GPUs)."""
        ids = self.gpus.take(job.id, job.num_gpus)
        return ["bash", "-c", command], {**env, **visibility(ids)}

    def signal(self, job: ClaimedJob, sig: int) -> bool:
        """Deliver a stop signal the launcher's own way; True when that was all (a plain child: nothing, False)."""
        return False

    def end(self, job: ClaimedJob, code: int, stderr: Path) -> Ended:
        """The job exited with `code` (negative: a signal): free what it held and say what became of it."""
        self.gpus.give_back(job.id)
        return Ended()

    def close(self) -> None:
        pass

    def describe(self) -> list[str]:
        """What the runner says at start: how jobs are launched and confined."""
        how = "jobs run as child processes" + (f" ({self.note})" if self.note else "")
        if not self.enforce_memory:
            limits = "memory requests are not enforced (--enforce-memory enforces them)"
        else:
            limits = (f"memory requests enforced by sampling each job every {ENFORCE_SAMPLE_SECONDS:g} s and "
                      "killing one over its request (no writable memory cgroup here)")  # fmt: skip
        return [f"{how}; {limits}", *([self.gpus.describe()] if self.gpus.count else [])]
