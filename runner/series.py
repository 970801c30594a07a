"""A job's time series of resource samples (`resource_monitor.granularity: time_series`), bounded in size.

Samples are kept at most one per `interval` seconds (the monitor may sample faster, to
enforce memory requests). However long the job runs, the series holds at most
`MAX_POINTS`: when it fills up, neighbouring points are merged in pairs (the earlier
time, the larger memory and process count, the mean CPU), so a week-long job costs its
result a few tens of kilobytes and its peaks survive.
"""

from __future__ import annotations

from torc_client.contract import ResourceSample

#: Most points kept per job.
MAX_POINTS = 2000


class Series:
    """Samples of one job: seconds since its launch, CPU %, memory bytes, processes."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.points: list[ResourceSample] = []
        self._step = interval  # grows as merging coarsens the series

    def add(self, at: float, cpu: float, memory: int, processes: int) -> None:
        if self.points and at - self.points[-1].t < self._step * 0.95:
            return
        self.points.append(ResourceSample(round(at, 3), round(cpu, 1), memory, processes))
        if len(self.points) >= MAX_POINTS:
            self.points = [_merge(self.points[i:i + 2]) for i in range(0, len(self.points), 2)]
            self._step *= 2

    def wire(self) -> list[ResourceSample]:
        return list(self.points)


def _merge(pair: list[ResourceSample]) -> ResourceSample:
    return ResourceSample(pair[0].t, round(sum(p.cpu_percent for p in pair) / len(pair), 1),
                          max(p.memory_bytes for p in pair), max(p.num_processes for p in pair))  # fmt: skip
