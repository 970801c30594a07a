"""What each job used against what it asked for, why a failed attempt failed, and what to ask for instead.

Pure: records in, records out. `torc reports`, `torc recover` and the notebook's resources tab
all build on it, so they agree on every rule:

- `classify` applies Torc's diagnosis rules to one attempt (likely OOM, likely timeout, other);
- `job_usage` joins jobs, their latest attempts and their requirements into `JobUsage` rows;
- `group_usage` folds the rows of each requirements group into a `Sizing` with a suggested request.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from torc_client.contract import Job, ResourceRequirements, Result
from torc_client.core.units import (
    format_duration,
    format_memory,
    parse_duration,
    parse_memory,
)
from torc_client.spec.plan import DEFAULT_MEMORY

#: The memory request Torc gives a job that states none: not a request to measure against.
UNSTATED_MEMORY_BYTES = parse_memory(DEFAULT_MEMORY)

Failure = Literal["oom", "timeout", "other"]
#: The resources compared, in the order reports list them.
Resource = Literal["memory", "cpu", "runtime"]
RESOURCES: tuple[Resource, ...] = ("memory", "cpu", "runtime")

#: Exit codes of a process killed by SIGKILL (what the kernel's OOM killer sends): through bash (128 + 9), or
#: reported as the signal when bash handed the process over (`exec`).
OOM_EXIT_CODES = frozenset({137, -9})
#: Exit codes of a process killed by SIGXCPU (a CPU time limit), as above.
TIMEOUT_EXIT_CODES = frozenset({152, -24})
#: A SIGKILL before this share of the runtime is blamed on memory; later, it may be the scheduler's time limit.
OOM_RUNTIME_SHARE = 0.8
#: Running past this share of the runtime counts as a timeout.
TIMEOUT_RUNTIME_SHARE = 0.9
#: Use below this share of the request counts as far less than asked for (over-requested).
WASTE_SHARE = 0.5
#: Headroom over the largest peak when suggesting a new request.
CPU_HEADROOM = 1.1
MEMORY_HEADROOM = 1.2
RUNTIME_HEADROOM = 1.2
MIB = 1 << 20
GIB = 1 << 30
MINUTE = 60.0


# --- one attempt ----------------------------------------------------------------------


def requested_memory_bytes(rr: ResourceRequirements | None) -> int | None:
    """The memory a requirement asks for, in bytes.

    None: no requirement, a memory that cannot be parsed, or Torc's placeholder for a job that
    states none (`1m`): every job is measured, and a shell alone uses more than that.
    """
    if rr is None:
        return None
    try:
        asked = parse_memory(rr.memory)
    except ValueError:
        return None
    return asked if asked > UNSTATED_MEMORY_BYTES else None


def requested_runtime_seconds(rr: ResourceRequirements | None) -> float | None:
    """The run time a requirement asks for, in seconds (None: no requirement, or its runtime cannot be parsed)."""
    if rr is None:
        return None
    try:
        return parse_duration(rr.runtime)
    except ValueError:
        return None


def classify(result: Result, rr: ResourceRequirements | None) -> Failure | None:
    """Why an attempt failed, by Torc's rules (`torc reports check-resource-utilization --include-failed`).

    None for an attempt that completed. `"oom"` when its peak memory exceeded the request, or it
    was killed by SIGKILL (137) before 80 % of its runtime (or the runtime is unknown).
    `"timeout"` when it ran past 90 % of its runtime (which covers a job the runner stopped at its
    runtime, reported `terminated`), or was killed by SIGXCPU (152). Anything else is `"other"`.
    """
    if result.status == "completed":
        return None
    memory = requested_memory_bytes(rr)
    runtime = requested_runtime_seconds(rr)
    seconds = result.exec_time_minutes * MINUTE
    peak = result.peak_memory_bytes
    if memory is not None and peak is not None and peak > memory:
        return "oom"
    if result.return_code in OOM_EXIT_CODES and (runtime is None or seconds < OOM_RUNTIME_SHARE * runtime):
        return "oom"
    if runtime is not None and seconds > TIMEOUT_RUNTIME_SHARE * runtime:
        return "timeout"
    if result.return_code in TIMEOUT_EXIT_CODES:
        return "timeout"
    return "other"


def latest_results(results: Iterable[Result]) -> dict[int, Result]:
    """Each job's latest attempt: job id -> the result with the largest (run_id, attempt_id, id)."""
    latest: dict[int, Result] = {}
    for result in results:
        best = latest.get(result.job_id)
        if best is None or (result.run_id, result.attempt_id, result.id) > (best.run_id, best.attempt_id, best.id):
            latest[result.job_id] = result
    return latest


# --- one job ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobUsage:
    """What one job asked for and what its latest attempt used (None: not known, e.g. no monitor sample).

    `status` and `return_code` are the attempt's; CPU is in percent of one core (200.0: two cores busy).
    """

    job_id: int
    job_name: str
    status: str
    requirements_id: int | None
    requirements_name: str
    requested_cpus: int
    requested_memory_bytes: int | None
    requested_runtime_seconds: float | None
    return_code: int
    exec_seconds: float
    peak_cpu_percent: float | None
    avg_cpu_percent: float | None
    peak_memory_bytes: int | None
    avg_memory_bytes: int | None
    failure: Failure | None
    run_id: int = 1
    attempt_id: int = 1

    @property
    def sampled(self) -> bool:
        """Whether the resource monitor took at least one sample of the attempt."""
        return self.peak_cpu_percent is not None or self.peak_memory_bytes is not None

    def used_and_requested(self, resource: Resource) -> tuple[float | None, float | None]:
        """The peak use of `resource` and the request, in bytes, percent of a core, or seconds."""
        if resource == "memory":
            return self.peak_memory_bytes, self.requested_memory_bytes
        if resource == "cpu":
            return self.peak_cpu_percent, self.requested_cpus * 100.0
        return self.exec_seconds, self.requested_runtime_seconds

    def over_percent(self, resource: Resource) -> float | None:
        """How far the use of `resource` went past the request, in percent (negative: below it; None: unknown)."""
        used, requested = self.used_and_requested(resource)
        if used is None or not requested:
            return None
        return (used - requested) / requested * 100.0

    @property
    def memory_over_percent(self) -> float | None:
        return self.over_percent("memory")

    @property
    def cpu_over_percent(self) -> float | None:
        return self.over_percent("cpu")

    @property
    def runtime_over_percent(self) -> float | None:
        return self.over_percent("runtime")

    @property
    def violations(self) -> list[str]:
        """The resources used beyond the request, in `RESOURCES` order."""
        return [r for r in RESOURCES if (over := self.over_percent(r)) is not None and over > 0]

    @property
    def underused(self) -> list[str]:
        """The resources used far below the request (under `WASTE_SHARE` of it), in `RESOURCES` order."""
        return [r for r in RESOURCES if (over := self.over_percent(r)) is not None
                and over < (WASTE_SHARE - 1) * 100]  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The fields plus the over-use figures (percent, one decimal), as plain JSON-compatible data."""
        over = {f"{r}_over_percent": _round(self.over_percent(r)) for r in RESOURCES}
        return {**dataclasses.asdict(self), **over, "violations": self.violations, "underused": self.underused}


def job_usage(jobs: Iterable[Job], results: Iterable[Result],
              requirements: Mapping[int, ResourceRequirements]) -> list[JobUsage]:  # fmt: skip
    """One row per job that has a result, in the order of `jobs`: its request and its latest attempt."""
    latest = latest_results(results)
    rows = []
    for job in jobs:
        result = latest.get(job.id)
        if result is not None:
            rr = requirements.get(job.resource_requirements_id) if job.resource_requirements_id is not None else None
            rows.append(usage_of(job, result, rr))
    return rows


def usage_of(job: Job, result: Result, rr: ResourceRequirements | None) -> JobUsage:
    """One job's row for one attempt."""
    return JobUsage(
        job_id=job.id, job_name=job.name, status=result.status, requirements_id=rr.id if rr else None,
        requirements_name=rr.name if rr else "", requested_cpus=rr.num_cpus if rr else 1,
        requested_memory_bytes=requested_memory_bytes(rr), requested_runtime_seconds=requested_runtime_seconds(rr),
        return_code=result.return_code, exec_seconds=result.exec_time_minutes * MINUTE,
        peak_cpu_percent=result.peak_cpu_percent, avg_cpu_percent=result.avg_cpu_percent,
        peak_memory_bytes=result.peak_memory_bytes, avg_memory_bytes=result.avg_memory_bytes,
        failure=classify(result, rr), run_id=result.run_id, attempt_id=result.attempt_id,
    )  # fmt: skip


# --- one requirements group -----------------------------------------------------------


@dataclass(frozen=True)
class Sizing:
    """One requirements group: its request, its jobs' largest peaks and a suggested request."""

    requirements_name: str
    jobs: int
    sampled: int
    requested_cpus: int
    requested_memory_bytes: int | None
    peak_cpus: float | None
    peak_memory_bytes: int | None
    requirements_id: int | None = None
    requested_runtime_seconds: float | None = None
    #: The longest attempt of the group, in seconds.
    peak_exec_seconds: float | None = None
    #: The mean, over the group's sampled jobs, of each job's average CPUs busy and average memory.
    avg_cpus: float | None = None
    avg_memory_bytes: int | None = None

    @property
    def suggested_cpus(self) -> int | None:
        return None if self.peak_cpus is None else max(1, math.ceil(self.peak_cpus * CPU_HEADROOM - 1e-9))

    @property
    def suggested_memory_bytes(self) -> int | None:
        """The largest peak plus headroom, rounded up to MiB (to 256 MiB past a GiB)."""
        if self.peak_memory_bytes is None:
            return None
        step = MIB if self.peak_memory_bytes * MEMORY_HEADROOM < GIB else 256 * MIB
        return max(step, math.ceil(self.peak_memory_bytes * MEMORY_HEADROOM / step) * step)

    @property
    def suggested_runtime_seconds(self) -> float | None:
        """The longest attempt plus headroom, rounded up to whole minutes."""
        if self.peak_exec_seconds is None:
            return None
        return max(MINUTE, math.ceil(self.peak_exec_seconds * RUNTIME_HEADROOM / MINUTE - 1e-9) * MINUTE)

    @property
    def suggestion(self) -> str:
        """The suggested request in spec notation: `num_cpus: 2, memory: 180m, runtime: PT2M` (empty: none)."""
        parts = []
        if self.suggested_cpus is not None:
            parts.append(f"num_cpus: {self.suggested_cpus}")
        if (memory := self.suggested_memory_bytes) is not None:
            parts.append(f"memory: {format_memory(memory)}")
        if (runtime := self.suggested_runtime_seconds) is not None:
            parts.append(f"runtime: {format_duration(runtime)}")
        return ", ".join(parts)

    @property
    def verdict(self) -> str:
        """`too small` (a peak or the longest attempt beyond the request), `oversized`, `about right` or
        `no samples`."""
        if self.peak_cpus is None and self.peak_memory_bytes is None:
            return "no samples"
        pairs = ((self.peak_cpus, self.requested_cpus), (self.peak_memory_bytes, self.requested_memory_bytes),
                 (self.peak_exec_seconds, self.requested_runtime_seconds))  # fmt: skip
        if any(used is not None and asked is not None and used > asked for used, asked in pairs):
            return "too small"
        low_cpu = self.peak_cpus is None or self.peak_cpus < WASTE_SHARE * self.requested_cpus
        asked_memory = self.requested_memory_bytes
        low_mem = self.peak_memory_bytes is None or (
            asked_memory is not None and self.peak_memory_bytes < WASTE_SHARE * asked_memory)
        return "oversized" if low_cpu or low_mem else "about right"

    def to_dict(self) -> dict[str, Any]:
        """The fields plus the verdict and suggestions (memory and runtime also in Torc's notation)."""
        memory, runtime = self.suggested_memory_bytes, self.suggested_runtime_seconds
        return {**dataclasses.asdict(self), "verdict": self.verdict, "suggested_cpus": self.suggested_cpus,
                "suggested_memory_bytes": memory,
                "suggested_memory": None if memory is None else format_memory(memory),
                "suggested_runtime_seconds": runtime,
                "suggested_runtime": None if runtime is None else format_duration(runtime),
                "suggestion": self.suggestion}  # fmt: skip


def group_usage(rows: Iterable[JobUsage]) -> list[Sizing]:
    """One `Sizing` per requirements group, in the order the groups first appear."""
    groups: dict[tuple[int | None, str], list[JobUsage]] = {}
    for row in rows:
        groups.setdefault((row.requirements_id, row.requirements_name), []).append(row)
    return [_sizing(rr_id, name, members) for (rr_id, name), members in groups.items()]


def _sizing(rr_id: int | None, name: str, members: list[JobUsage]) -> Sizing:
    cpus = [r.peak_cpu_percent / 100 for r in members if r.peak_cpu_percent is not None]
    memory = [r.peak_memory_bytes for r in members if r.peak_memory_bytes is not None]
    avg_cpus = [r.avg_cpu_percent / 100 for r in members if r.avg_cpu_percent is not None]
    avg_memory = [r.avg_memory_bytes for r in members if r.avg_memory_bytes is not None]
    first = members[0]
    return Sizing(requirements_name=name, jobs=len(members), sampled=sum(r.sampled for r in members),
                  requested_cpus=first.requested_cpus, requested_memory_bytes=first.requested_memory_bytes,
                  peak_cpus=max(cpus) if cpus else None, peak_memory_bytes=max(memory) if memory else None,
                  requirements_id=rr_id, requested_runtime_seconds=first.requested_runtime_seconds,
                  peak_exec_seconds=max(r.exec_seconds for r in members),
                  avg_cpus=sum(avg_cpus) / len(avg_cpus) if avg_cpus else None,
                  avg_memory_bytes=round(sum(avg_memory) / len(avg_memory)) if avg_memory else None)  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
