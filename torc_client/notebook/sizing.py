"""Right-sizing: what each resource-requirements group asked for against what its jobs used at peak."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from torc_client.notebook.snapshot import UsageRow

#: Headroom over the largest peak when suggesting a new request.
CPU_HEADROOM = 1.1
MEMORY_HEADROOM = 1.2
MIB = 1 << 20
GIB = 1 << 30
#: A peak below this share of the request counts as over-requested.
WASTE_SHARE = 0.5


@dataclass(frozen=True)
class Sizing:
    """One requirements group: its request, its jobs' largest peaks and a suggested request."""

    requirements_name: str
    jobs: int
    sampled: int
    requested_cpus: int
    requested_memory_bytes: int
    peak_cpus: float | None
    peak_memory_bytes: int | None

    @property
    def suggested_cpus(self) -> int | None:
        return None if self.peak_cpus is None else max(1, math.ceil(self.peak_cpus * CPU_HEADROOM - 1e-9))

    @property
    def suggested_memory_bytes(self) -> int | None:
        if self.peak_memory_bytes is None:
            return None
        step = MIB if self.peak_memory_bytes * MEMORY_HEADROOM < GIB else 256 * MIB
        return max(step, math.ceil(self.peak_memory_bytes * MEMORY_HEADROOM / step) * step)

    @property
    def verdict(self) -> str:
        """`too small`, `oversized`, `about right` or `no samples`."""
        if self.peak_cpus is None and self.peak_memory_bytes is None:
            return "no samples"
        over_cpu = self.peak_cpus is not None and self.peak_cpus > self.requested_cpus
        over_mem = self.peak_memory_bytes is not None and self.peak_memory_bytes > self.requested_memory_bytes
        if over_cpu or over_mem:
            return "too small"
        low_cpu = self.peak_cpus is None or self.peak_cpus < WASTE_SHARE * self.requested_cpus
        low_mem = self.peak_memory_bytes is None or self.peak_memory_bytes < WASTE_SHARE * self.requested_memory_bytes
        return "oversized" if low_cpu or low_mem else "about right"


def sizing(rows: Iterable[UsageRow]) -> list[Sizing]:
    """One `Sizing` per requirements group, in the order the groups first appear."""
    groups: dict[str, list[UsageRow]] = {}
    for row in rows:
        groups.setdefault(row.requirements_name, []).append(row)
    out = []
    for name, members in groups.items():
        cpus = [r.peak_cpu_percent / 100 for r in members if r.peak_cpu_percent is not None]
        memory = [r.peak_memory_bytes for r in members if r.peak_memory_bytes is not None]
        out.append(Sizing(requirements_name=name, jobs=len(members), sampled=sum(r.sampled for r in members),
                          requested_cpus=members[0].requested_cpus,
                          requested_memory_bytes=members[0].requested_memory_bytes,
                          peak_cpus=max(cpus) if cpus else None,
                          peak_memory_bytes=max(memory) if memory else None))  # fmt: skip
    return out
