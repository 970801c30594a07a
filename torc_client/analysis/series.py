"""Jobs' time series of resource samples, joined with what each job is and asked for (`granularity: time_series`).

Pure: `torc_client.watching.fetch.resource_series` reads them in a few paged listings. `torc plot-resources`
and the notebook dashboard both draw from these records (`torc_client.notebook.series_plots`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from torc_client import contract as c


@dataclass(frozen=True)
class JobSeries:
    """One job attempt's samples, with its name, its resource-requirements group and what that group asks for."""

    job_id: int
    job_name: str
    group: str
    requested_cpus: int
    requested_memory_bytes: int
    run_id: int
    attempt_id: int
    samples: tuple[c.ResourceSample, ...]

    @property
    def label(self) -> str:
        return f"{self.job_name} ({self.job_id})"


def join(found: Sequence[c.ResourceSeries], jobs: dict[int, c.Job],
         groups: dict[int, c.ResourceRequirements]) -> list[JobSeries]:  # fmt: skip
    """Series with their jobs' names and groups (a job deleted since keeps its id as name)."""
    out = []
    for series in found:
        job = jobs.get(series.job_id)
        rr = groups.get(job.resource_requirements_id) if job is not None and job.resource_requirements_id else None
        out.append(JobSeries(series.job_id, job.name if job else str(series.job_id), rr.name if rr else "",
                             rr.num_cpus if rr else 0, rr.memory_bytes if rr else 0, series.run_id,
                             series.attempt_id, tuple(series.samples)))  # fmt: skip
    return out


def by_group(series: Iterable[JobSeries]) -> dict[str, list[JobSeries]]:
    """Series by resource-requirements group, groups in name order."""
    groups: dict[str, list[JobSeries]] = {}
    for item in series:
        groups.setdefault(item.group, []).append(item)
    return dict(sorted(groups.items()))


def file_stem(kind: str, name: str, number: int | None = None) -> str:
    """A file name part safe on any file system: `job_12_train-model`, `group_gpu_large`."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:60] or "unnamed"
    return f"{kind}_{number}_{safe}" if number is not None else f"{kind}_{safe}"
