"""Jobs as Slurm job steps: `srun --exact` with the job's CPUs, memory and GPUs, so Slurm's cgroups confine it.

Inside an allocation whose Slurm runs `task/cgroup`, a step that outgrows its `--mem` is
killed by the kernel and Slurm says so on the step's stderr ("oom_kill event"); the job
is then recorded out of memory (137), as under the `cgroup` launcher. Steps also show in
`sacct` and `sstat`, so the cluster's own accounting sees every job.
"""

from __future__ import annotations

import math
import signal
from pathlib import Path

from runner import memory
from runner.launch.plain import Ended, Launcher
from torc_client.contract import ClaimedJob
from torc_client.hpc import slurm

#: What srun and slurmstepd write to a step's stderr when the kernel killed in its cgroup for memory
#: (`srun: error: n1: task 0: Out Of Memory`, `Detected 1 oom-kill event(s) in StepId=...`), lower-cased.
OOM_MARKERS = ("oom-kill event", "oom_kill event", "out of memory")
#: Slurm variables of the runner's own step that would contradict the options given to each job's step.
_CONFLICTING = ("SLURM_MEM_PER_CPU", "SLURM_MEM_PER_GPU", "SLURM_MEM_PER_NODE", "SLURM_CPUS_PER_TASK",
                "SLURM_NTASKS", "SLURM_NPROCS", "SLURM_TRES_PER_TASK", "SLURM_GPUS_PER_NODE")  # fmt: skip
#: Bytes read from the end of a step's stderr to find Slurm's out-of-memory message.
_TAIL_BYTES = 8192


class SrunLauncher(Launcher):
    """Each job a job step of the allocation the runner is in."""

    name = "srun"
    enforces_memory = True
    measures_job = False  # the step's processes are children of slurmstepd, not of srun

    def __init__(self, gpus: int, allocation: slurm.Allocation) -> None:
        super().__init__(gpus, enforce_memory=True)
        self.allocation = allocation

    def start(self, job: ClaimedJob, command: str, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
        _, env = super().start(job, command, env)
        env = {k: v for k, v in env.items() if k not in _CONFLICTING}  # srun takes the options below instead
        return srun_command(job, command, gres=bool(self.allocation.gpus), share=self._share(job)), env

    def _share(self, job: ClaimedJob) -> int | None:
        """MiB for a job with no memory request: its CPUs' share of the allocation's memory (a step without `--mem`
        would take all of it, and the next step would wait for it)."""
        a = self.allocation
        if not a.memory_gb or not a.cpus:
            return None
        return max(1, int(a.memory_gb * 1024 * min(job.num_cpus, a.cpus) / a.cpus))

    def end(self, job: ClaimedJob, code: int, stderr: Path) -> Ended:
        super().end(job, code, stderr)
        if code != 0 and _says_out_of_memory(stderr):
            return Ended(True, "killed by Slurm (out of memory, in its job step's cgroup)")
        # srun exits 128+N when the task was killed by signal N (Slurm ending the allocation sends SIGTERM).
        return Ended(code=-(code - 128) if 128 < code < 128 + 65 else None)

    def signal(self, job: ClaimedJob, sig: int) -> bool:
        """Slurm signals the step's tasks (`srun` would abort the step on SIGTERM, and outlive it on SIGKILL)."""
        found = slurm.signal_step(self.allocation.job_id, job.name, signal.Signals(sig).name.removeprefix("SIG"))
        return found and sig != signal.SIGKILL  # srun itself is killed too; without a step yet, srun is signalled

    def describe(self) -> list[str]:
        line = (f"each job runs as a job step of Slurm allocation {self.allocation.job_id} (srun --exact with its "
                "CPUs, memory and GPUs): Slurm's cgroups confine it")  # fmt: skip
        return [line, *([self.gpus.describe()] if self.gpus.count else [])]


def srun_command(job: ClaimedJob, command: str, gres: bool = False, share: int | None = None) -> list[str]:
    """`srun` running `command` as one task with the job's CPUs, memory and GPUs.

    A job with a memory request gets exactly it; one without gets `share` MiB (none given: no `--mem`).
    """
    argv = ["srun", "--exact", "--ntasks=1", f"--nodes={job.num_nodes}", f"--cpus-per-task={job.num_cpus}",
            f"--job-name={job.name}", "--quiet"]  # fmt: skip
    limit = memory.limit_of(job)
    if limit is not None:
        argv.append(f"--mem={math.ceil(limit / 2**20)}M")
    elif share is not None:
        argv.append(f"--mem={share}M")
    if job.num_gpus and gres:
        argv.append(f"--gres=gpu:{job.num_gpus}")
    return [*argv, "bash", "-c", command]


def _says_out_of_memory(stderr: Path) -> bool:
    try:
        with open(stderr, "rb") as err:
            err.seek(0, 2)
            err.seek(max(0, err.tell() - _TAIL_BYTES))
            tail = err.read().decode(errors="replace").lower()
    except OSError:
        return False
    return any(marker in tail for marker in OOM_MARKERS)
