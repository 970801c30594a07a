"""Resource fitting (torc_client.core.resources): which jobs fit a runner, in which order shapes are packed, and why a
job can never run on a runner. Pure functions, no server."""

from __future__ import annotations

import pytest

from torc_client.core.resources import (
    GIB,
    Capacity,
    Shape,
    how_many_fit,
    pack,
    pack_ignoring_resources,
    shortfalls,
    sort_shapes,
    take,
)

# Each shape is largest in a different resource, so each sort method puts them in a different order.
GPU = Shape(key=4, cpus=1, memory_bytes=1 * GIB, gpus=1, nodes=1, runtime_s=10.0)
LONG = Shape(key=3, cpus=1, memory_bytes=2 * GIB, gpus=0, nodes=1, runtime_s=300.0)
BIG = Shape(key=2, cpus=1, memory_bytes=8 * GIB, gpus=0, nodes=1, runtime_s=60.0)
SMALL = Shape(key=1, cpus=1, memory_bytes=1 * GIB, gpus=0, nodes=1, runtime_s=5.0)


def test_capacity_from_gb_counts_memory_in_whole_bytes_and_keeps_the_rest() -> None:
    assert Capacity.from_gb(4, 1.5, 2) == Capacity(4, 3 * GIB // 2, 2, 1, None)
    assert Capacity.from_gb(8, 2, 0, nodes=3, time_limit_s=90.0) == Capacity(8, 2 * GIB, 0, 3, 90.0)
    assert type(Capacity.from_gb(1, 0.3, 0).memory_bytes) is int


def test_shapes_sort_by_gpus_then_runtime_then_memory_largest_first_by_default() -> None:
    shapes = [SMALL, BIG, LONG, GPU]
    assert sort_shapes(shapes) == sort_shapes(shapes, "gpus_runtime_memory") == [GPU, LONG, BIG, SMALL]
    assert sort_shapes(shapes, "gpus_memory_runtime") == [GPU, BIG, LONG, SMALL]
    assert sort_shapes([GPU, BIG, SMALL, LONG], "none") == [SMALL, BIG, LONG, GPU]


def test_each_sort_key_decides_ties_of_the_ones_before_it_and_the_key_breaks_full_ties() -> None:
    a = Shape(key=1, cpus=1, memory_bytes=1, gpus=0, nodes=1, runtime_s=1.0)
    more_memory = a._replace(key=2, memory_bytes=2)
    longer = a._replace(key=3, runtime_s=2.0)
    twin = a._replace(key=0)
    assert sort_shapes([a, more_memory, twin]) == [more_memory, twin, a]
    assert sort_shapes([a, longer, twin], "gpus_memory_runtime") == [longer, twin, a]
    assert sort_shapes([a, twin], "none") == [twin, a]


@pytest.mark.parametrize(("free", "expected"), [
    (Capacity(8, 64 * GIB, 4), 4),                      # GPUs bind
    (Capacity(3, 64 * GIB, 4), 3),                      # CPUs bind
    (Capacity(8, 5 * GIB, 4), 2),                       # memory binds (2 GiB each)
    (Capacity(8, 64 * GIB, 4, time_limit_s=59.0), 0),   # too long for the time left
    (Capacity(8, 64 * GIB, 4, time_limit_s=60.0), 4),   # exactly as long fits
    (Capacity(0, 64 * GIB, 4), 0),
])  # fmt: skip
def test_how_many_fit_is_set_by_the_scarcest_resource_and_the_time_left(free, expected) -> None:
    shape = Shape(key=1, cpus=1, memory_bytes=2 * GIB, gpus=1, nodes=1, runtime_s=60.0)
    assert how_many_fit(shape, free) == expected


def test_how_many_fit_ignores_resources_a_shape_does_not_use_and_counts_nodes_only_for_multi_node_jobs() -> None:
    free = Capacity(4, 4 * GIB, 0, nodes=5)
    assert how_many_fit(Shape(1, 0, 1 * GIB, 0, 1, 0.0), free) == 4  # no CPUs: memory binds
    assert how_many_fit(Shape(1, 1, 0, 0, 1, 0.0), free) == 4  # no memory: CPUs bind
    assert how_many_fit(Shape(1, 0, 0, 0, 1, 0.0), free) == 0  # needs nothing countable: nothing to hand out
    assert how_many_fit(Shape(1, 0, 0, 0, 2, 0.0), free) == 2  # two nodes each, of five
    assert how_many_fit(Shape(1, 1, 1, 0, 6, 0.0), free) == 0  # more nodes than the runner has
    assert how_many_fit(Shape(1, 1, 1, 0, 5, 0.0), free) == 1
    assert type(how_many_fit(Shape(1, 1, 1, 0, 1, 0.0), free)) is int


def test_take_subtracts_what_the_jobs_use_and_nodes_only_for_multi_node_jobs() -> None:
    free = Capacity(16, 64 * GIB, 4, nodes=4, time_limit_s=100.0)
    single = Shape(key=1, cpus=2, memory_bytes=4 * GIB, gpus=1, nodes=1, runtime_s=5.0)
    multi = Shape(key=2, cpus=1, memory_bytes=1 * GIB, gpus=0, nodes=2, runtime_s=5.0)
    assert take(free, single, 3) == Capacity(10, 52 * GIB, 1, 4, 100.0)
    assert take(free, multi, 2) == Capacity(14, 62 * GIB, 4, 0, 100.0)
    assert take(free, single, 0) == free


def test_pack_takes_shapes_greedily_in_sort_order_within_the_resources_left() -> None:
    # 2 GPUs, 8 CPUs, 10 GiB: the GPU jobs first, then the long ones; memory runs out before the small ones.
    free = Capacity(8, 10 * GIB, 2)
    available = {GPU.key: 5, LONG.key: 3, BIG.key: 1, SMALL.key: 9}
    assert pack(available, [SMALL, BIG, LONG, GPU], free, limit=100) == [(GPU, 2), (LONG, 3), (SMALL, 2)]
    assert pack(available, [SMALL, BIG, LONG, GPU], free, 100, "gpus_memory_runtime") == [(GPU, 2), (BIG, 1)]
    assert pack(available, [SMALL, BIG, LONG, GPU], free, 100, "none") == [(SMALL, 8)]


def test_pack_stops_at_the_limit_and_skips_shapes_with_nothing_queued() -> None:
    free = Capacity(64, 640 * GIB, 8)
    assert pack({GPU.key: 5, LONG.key: 3, SMALL.key: 9}, [SMALL, LONG, GPU], free, limit=6) == [(GPU, 5), (LONG, 1)]
    assert pack({GPU.key: 2, SMALL.key: 9}, [SMALL, LONG, GPU], free, limit=4) == [(GPU, 2), (SMALL, 2)]
    assert pack({GPU.key: 5}, [SMALL, LONG, GPU], free, limit=5) == [(GPU, 5)]
    assert pack({}, [SMALL, LONG, GPU], free, limit=5) == []
    assert pack({GPU.key: 5}, [GPU], free, limit=0) == []


def test_pack_ignoring_resources_hands_out_up_to_the_limit_in_shape_order() -> None:
    shapes = [GPU, BIG, SMALL, LONG]
    assert pack_ignoring_resources({GPU.key: 2, BIG.key: 3, SMALL.key: 1}, shapes, 5) == [(SMALL, 1), (BIG, 3),
                                                                                         (GPU, 1)]  # fmt: skip
    assert pack_ignoring_resources({BIG.key: 3}, shapes, 10) == [(BIG, 3)]
    assert pack_ignoring_resources({BIG.key: 3}, shapes, 0) == []


def test_shortfalls_name_each_missing_resource_with_the_flag_that_fixes_it() -> None:
    shape = Shape(key=1, cpus=4, memory_bytes=3 * GIB + 1, gpus=2, nodes=3, runtime_s=120.4)
    assert shortfalls(shape, Capacity(1, 2 * GIB, 1, nodes=1, time_limit_s=60.0)) == [
        "needs 4 CPUs, runner has 1 (--num-cpus 4)",
        f"needs {3 * GIB + 1} memory, runner has 2.0 GiB (--memory-gb 4)",
        "needs 2 GPUs, runner has 1 (--num-gpus 2)",
        "needs 3 nodes, runner has 1 (--num-nodes 3)",
        "needs a run time of 120 s, runner has 60 s left (--time-limit)",
    ]
    one = Shape(key=1, cpus=1, memory_bytes=GIB, gpus=1, nodes=1, runtime_s=1.0)
    assert shortfalls(one, Capacity(0, GIB // 2, 0)) == [
        "needs 1 CPU, runner has 0 (--num-cpus 1)",
        "needs 1g memory, runner has 0.5 GiB (--memory-gb 1)",
        "needs 1 GPU, runner has 0 (--num-gpus 1)",
    ]


def test_shortfalls_are_empty_when_the_runner_has_exactly_enough_or_no_time_limit() -> None:
    shape = Shape(key=1, cpus=4, memory_bytes=3 * GIB, gpus=2, nodes=3, runtime_s=120.0)
    assert shortfalls(shape, Capacity(4, 3 * GIB, 2, nodes=3, time_limit_s=120.0)) == []
    assert shortfalls(shape, Capacity(4, 3 * GIB, 2, nodes=3)) == []
