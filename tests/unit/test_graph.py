"""Dependency graphs over any hashable keys (torc_client.core.graph)."""

import pytest

from torc_client.core.errors import SpecError
from torc_client.core.graph import (
    downstream_map,
    find_cycle,
    format_cycle,
    topological_levels,
)

DIAMOND = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}


def _is_cycle(upstream, cycle):
    """Each node on `cycle` depends on the next, and the last on the first."""
    return all(cycle[(i + 1) % len(cycle)] in upstream[node] for i, node in enumerate(cycle))


def test_find_cycle_returns_none_for_an_acyclic_graph():
    assert find_cycle(DIAMOND) is None


def test_find_cycle_returns_none_for_an_empty_graph():
    assert find_cycle({}) is None


def test_find_cycle_returns_the_nodes_on_the_cycle_in_order():
    upstream = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    cycle = find_cycle(upstream)
    assert sorted(cycle) == ["a", "b", "c"]
    assert _is_cycle(upstream, cycle)


def test_find_cycle_finds_a_self_loop():
    assert find_cycle({"a": [], "b": ["a", "b"]}) == ["b"]


def test_find_cycle_ignores_nodes_that_are_not_on_the_cycle():
    upstream = {"x": ["y"], "y": [], "p": ["q"], "q": ["r"], "r": ["q"]}
    cycle = find_cycle(upstream)
    assert sorted(cycle) == ["q", "r"]
    assert _is_cycle(upstream, cycle)


def test_find_cycle_works_on_integer_ids_and_sets():
    upstream = {1: {2}, 2: {3}, 3: set(), 4: {5}, 5: {4}}
    assert sorted(find_cycle(upstream)) == [4, 5]


def test_find_cycle_treats_unlisted_upstream_nodes_as_roots():
    assert find_cycle({"a": ["external"], "b": ["a"]}) is None


def test_find_cycle_handles_a_chain_of_a_hundred_thousand_nodes_without_recursion():
    n = 100_000
    upstream = {i: [i - 1] if i else [] for i in range(n)}
    assert find_cycle(upstream) is None
    upstream[0] = [n - 1]
    assert len(find_cycle(upstream)) == n


def test_format_cycle_closes_the_loop():
    assert format_cycle(["a", "b", "c"]).startswith("dependency cycle: a -> b -> c -> a")


def test_downstream_map_reverses_edges_and_lists_every_node():
    assert downstream_map(DIAMOND) == {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}


def test_downstream_map_includes_nodes_only_named_as_upstream_and_drops_duplicates():
    assert downstream_map({"b": ["a", "a"]}) == {"b": [], "a": ["b"]}


def test_topological_levels_groups_nodes_by_depth():
    assert topological_levels(DIAMOND) == [["a"], ["b", "c"], ["d"]]


def test_topological_levels_places_a_node_after_its_deepest_upstream():
    upstream = {"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"]}
    assert topological_levels(upstream) == [["a"], ["b"], ["c"], ["d"]]


def test_topological_levels_keeps_first_seen_order_within_a_level():
    upstream = {"z": [], "y": [], "x": ["z"], "w": ["y"]}
    assert topological_levels(upstream) == [["z", "y"], ["x", "w"]]


def test_topological_levels_counts_duplicate_edges_once():
    assert topological_levels({"a": [], "b": ["a", "a"]}) == [["a"], ["b"]]


def test_topological_levels_includes_unlisted_upstream_nodes():
    assert topological_levels({7: [3], 3: []}) == [[3], [7]]
    assert topological_levels({"b": ["a"]}) == [["a"], ["b"]]


def test_topological_levels_returns_nothing_for_an_empty_graph():
    assert topological_levels({}) == []


def test_topological_levels_raises_naming_the_cycle():
    with pytest.raises(SpecError) as caught:
        topological_levels({"a": [], "b": ["a", "c"], "c": ["b"]})
    assert caught.value.path == "jobs"
    assert "dependency cycle:" in caught.value.message
    assert "b -> c -> b" in caught.value.message or "c -> b -> c" in caught.value.message


def test_topological_levels_handles_a_wide_fan_in_of_a_hundred_thousand_nodes():
    n = 100_000
    upstream = {i: [] for i in range(n)}
    upstream[n] = list(range(n))
    levels = topological_levels(upstream)
    assert [len(level) for level in levels] == [n, 1]
    assert levels[1] == [n]
