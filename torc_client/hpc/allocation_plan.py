"""Which allocations a workflow needs now, and which queued ones it no longer needs (pure: no I/O).

Ready work and the allocations queued and running come in; a decision goes out. A job
can go to an allocation when its CPUs, memory, GPUs and nodes fit the allocation's shape
and its declared runtime fits the time the allocation will have (its walltime minus the
workflow's end buffer while it is queued, its time left once it runs). What the shape
does not say (an allocation with no `--mem`, say) is taken to fit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Torc's defaults for `torc watch --auto-schedule`.
DEFAULT_THRESHOLD = 5
DEFAULT_COOLDOWN_SECONDS = 1800.0
DEFAULT_STRANDED_TIMEOUT_SECONDS = 7200.0


@dataclass(frozen=True)
class Work:
    """One job that still has to run."""

    job_id: int
    name: str
    rr_id: int
    num_cpus: int
    memory_bytes: int
    num_gpus: int
    num_nodes: int
    runtime_s: float
    attempt_id: int = 1
    #: Ready now (False: blocked or uninitialized, ready later).
    ready: bool = True
    #: Seconds it has been seen ready (by whoever watches).
    ready_for: float = 0.0


@dataclass(frozen=True)
class Slot:
    """An allocation of the workflow that Slurm has queued or runs."""

    scheduler_id: str
    running: bool
    seconds: float | None
    cpus: int | None = None
    memory_bytes: int | None = None
    gpus: int | None = None
    nodes: int = 1


def takes(slot: Slot, job: Work) -> bool:
    """Whether `slot` could run `job`: its shape holds the job and the job's runtime fits its time."""
    return ((slot.cpus is None or job.num_cpus <= slot.cpus)
            and (slot.memory_bytes is None or job.memory_bytes <= slot.memory_bytes)
            and (slot.gpus is None or job.num_gpus <= slot.gpus) and job.num_nodes <= slot.nodes
            and (slot.seconds is None or job.runtime_s <= slot.seconds))  # fmt: skip


def idle_queued(work: list[Work], slots: list[Slot], finished: bool) -> list[Slot]:
    """Queued allocations no remaining job can use: all of them once the workflow is complete or canceled."""
    queued = [s for s in slots if not s.running]
    if finished:
        return queued
    return [s for s in queued if not any(takes(s, job) for job in work)]


@dataclass(frozen=True)
class Decision:
    """What one auto-schedule round decided, and why (the reason becomes an event)."""

    jobs: tuple[Work, ...]
    reason: str
    #: What kind of decision (`idle`, `covered`, `cooldown`, `no-allocation`, `unplaceable`, `stranded`, `retries`).
    kind: str = "idle"

    @property
    def submit(self) -> bool:
        return bool(self.jobs)


def decide(work: list[Work], slots: list[Slot], *, since_last: float | None, threshold: int = DEFAULT_THRESHOLD,
           cooldown: float = DEFAULT_COOLDOWN_SECONDS,
           stranded_timeout: float = DEFAULT_STRANDED_TIMEOUT_SECONDS) -> Decision:  # fmt: skip
    """Whether to submit allocations for ready jobs now, for which, and why.

    Jobs no queued or running allocation can take get allocations at once when the workflow
    has none, else once the cooldown since the last submission (`since_last` seconds; None:
    never) has passed. So do jobs ready longer than `stranded_timeout` (0: never stranded),
    and retries (attempt > 1) once `threshold` of them wait, as in Torc.
    """
    ready = [j for j in work if j.ready]
    if not ready:
        return Decision((), "no job is ready", "idle")
    orphans = [j for j in ready if not any(takes(s, j) for s in slots)]
    if not slots:
        return Decision(tuple(ready), f"{_jobs(ready)} ready and no allocation queued or running", "no-allocation")
    if since_last is not None and since_last < cooldown:
        return Decision((), f"cooling down ({since_last:.0f} s of {cooldown:.0f} s since the last submission)",
                        "cooldown")  # fmt: skip
    if orphans:
        return Decision(tuple(orphans), f"{_jobs(orphans)} ready that no queued or running allocation can take "
                                        "(resources, time left)", "unplaceable")  # fmt: skip
    stranded = [j for j in ready if stranded_timeout > 0 and j.ready_for >= stranded_timeout]
    if stranded:
        return Decision(tuple(stranded), f"{_jobs(stranded)} ready for over {stranded_timeout:.0f} s (stranded)",
                        "stranded")  # fmt: skip
    retries = [j for j in ready if j.attempt_id > 1]
    if retries and len(retries) >= threshold:
        return Decision(tuple(retries), f"{_jobs(retries)} to retry waiting (threshold {threshold})", "retries")
    return Decision((), f"{_jobs(ready)} ready, which the queued or running allocations and runners can take", "covered")


def _jobs(jobs: list[Work]) -> str:
    return f"{len(jobs)} job" + ("" if len(jobs) == 1 else "s")


_GPUS = re.compile(r"gpu(?::[^:,]+)?:(\d+)")
_CPUS = re.compile(r"--cpus-per-task[= ](\d+)")


def scheduler_gpus(gres: str | None) -> int:
    """GPUs per node a scheduler's `gres` asks for (0 without)."""
    found = _GPUS.search(gres or "")
    return int(found.group(1)) if found else 0


def scheduler_cpus(extra: str | None) -> int | None:
    """CPUs an allocation asks for in its `extra` (`--cpus-per-task=N`), else unknown."""
    found = _CPUS.search(extra or "")
    return int(found.group(1)) if found else None
