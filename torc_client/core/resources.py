"""Resource fitting: which jobs fit a runner, and how many of each shape to hand out.

Pure: the server packs claims with it and the runner uses it to explain why a job
can never run on it. Jobs that share a resource requirement have the same shape, so
packing works per shape: greedily, in Torc's order (GPUs, then runtime, then
memory, largest first), taking as many of each shape as still fit.
"""

from __future__ import annotations

import math
from typing import Iterable, NamedTuple

from torc_client.core.units import count, format_memory

GIB = 1 << 30

SORT_METHODS = ("gpus_runtime_memory", "gpus_memory_runtime", "none")


class Shape(NamedTuple):
    """The resources one job of a requirement class needs."""

    key: int
    cpus: int
    memory_bytes: int
    gpus: int
    nodes: int
    runtime_s: float


class Capacity(NamedTuple):
    """What a runner has free (or in total)."""

    cpus: int
    memory_bytes: int
    gpus: int
    nodes: int = 1
    time_limit_s: float | None = None

    @classmethod
    def from_gb(cls, cpus: int, memory_gb: float, gpus: int, nodes: int = 1, time_limit_s: float | None = None):
        return cls(cpus, int(memory_gb * GIB), gpus, nodes, time_limit_s)


def sort_shapes(shapes: Iterable[Shape], method: str = "gpus_runtime_memory") -> list[Shape]:
    """Shapes in the order a claim considers them."""
    if method == "gpus_memory_runtime":
        return sorted(shapes, key=lambda s: (-s.gpus, -s.memory_bytes, -s.runtime_s, s.key))
    if method == "none":
        return sorted(shapes, key=lambda s: s.key)
    return sorted(shapes, key=lambda s: (-s.gpus, -s.runtime_s, -s.memory_bytes, s.key))


def how_many_fit(shape: Shape, free: Capacity) -> int:
    """How many jobs of `shape` fit in `free` at once (0 when even one does not)."""
    if free.time_limit_s is not None and shape.runtime_s > free.time_limit_s:
        return 0
    if shape.nodes > free.nodes:
        return 0
    limits = [
        free.cpus // shape.cpus if shape.cpus else math.inf,
        free.memory_bytes // shape.memory_bytes if shape.memory_bytes else math.inf,
        free.gpus // shape.gpus if shape.gpus else math.inf,
        # Only multi-node jobs consume the node budget (as in Torc).
        free.nodes // shape.nodes if shape.nodes > 1 else math.inf,
    ]
    n = min(limits)
    return 0 if n == math.inf else int(n)


def take(free: Capacity, shape: Shape, count: int) -> Capacity:
    """`free` after `count` jobs of `shape` started."""
    return free._replace(
        cpus=free.cpus - shape.cpus * count,
        memory_bytes=free.memory_bytes - shape.memory_bytes * count,
        gpus=free.gpus - shape.gpus * count,
        nodes=free.nodes - (shape.nodes * count if shape.nodes > 1 else 0),
    )


def pack(
    available: dict[int, int], shapes: Iterable[Shape], free: Capacity, limit: int, method: str = "gpus_runtime_memory"
) -> list[tuple[Shape, int]]:
    """How many jobs of each shape to claim: greedy in sort order, within `free` and `limit`.

    `available` maps a shape's key to how many ready jobs of it are queued.
    """
    plan: list[tuple[Shape, int]] = []
    for shape in sort_shapes(shapes, method):
        if limit <= 0:
            break
        count = min(available.get(shape.key, 0), how_many_fit(shape, free), limit)
        if count > 0:
            plan.append((shape, count))
            free = take(free, shape, count)
            limit -= count
    return plan


def pack_ignoring_resources(available: dict[int, int], shapes: Iterable[Shape], limit: int) -> list[tuple[Shape, int]]:
    """Queue-depth mode: up to `limit` jobs of any shape, in shape order."""
    plan: list[tuple[Shape, int]] = []
    for shape in sort_shapes(shapes, "none"):
        count = min(available.get(shape.key, 0), limit)
        if count > 0:
            plan.append((shape, count))
            limit -= count
    return plan


def shortfalls(shape: Shape, total: Capacity) -> list[str]:
    """Why one job of `shape` can never run on a runner with `total`, each with the flag that fixes it."""
    reasons = []
    if shape.cpus > total.cpus:
        reasons.append(f"needs {count(shape.cpus, 'CPU')}, runner has {total.cpus} (--num-cpus {shape.cpus})")
    if shape.memory_bytes > total.memory_bytes:
        need_gb = math.ceil(shape.memory_bytes / GIB)
        reasons.append(
            f"needs {format_memory(shape.memory_bytes)} memory, runner has "
            f"{total.memory_bytes / GIB:.1f} GiB (--memory-gb {need_gb})"
        )
    if shape.gpus > total.gpus:
        reasons.append(f"needs {count(shape.gpus, 'GPU')}, runner has {total.gpus} (--num-gpus {shape.gpus})")
    if shape.nodes > total.nodes:
        reasons.append(f"needs {shape.nodes} nodes, runner has {total.nodes} (--num-nodes {shape.nodes})")
    if total.time_limit_s is not None and shape.runtime_s > total.time_limit_s:
        reasons.append(
            f"needs a run time of {shape.runtime_s:.0f} s, runner has {total.time_limit_s:.0f} s left (--time-limit)"
        )
    return reasons
