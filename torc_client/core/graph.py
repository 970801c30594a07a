"""Dependency graphs over any hashable node keys: job names in a spec, integer ids in the server.

A graph is an `upstream` mapping, node -> the nodes it waits for. A node that appears only as
another node's upstream is a node with no upstream of its own. Every function here is iterative
and linear in nodes plus edges, so graphs of 100,000+ jobs are cheap.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

from torc_client.core.errors import SpecError

Upstream = Mapping[Hashable, Iterable[Hashable]]

_VISITING = 1
_DONE = 2


def find_cycle(upstream: Upstream) -> list | None:
    """Return the nodes on one dependency cycle, or None if the graph is acyclic.

    In the returned list each node depends on the next, and the last depends on the first;
    a node that depends on itself is returned as `[node]`.
    """
    state: dict[Hashable, int] = {}
    for root in upstream:
        if root in state:
            continue
        state[root] = _VISITING
        path = [root]
        pending = [iter(upstream.get(root, ()))]
        while pending:
            for node in pending[-1]:
                seen = state.get(node)
                if seen is None:
                    state[node] = _VISITING
                    path.append(node)
                    pending.append(iter(upstream.get(node, ())))
                    break
                if seen == _VISITING:
                    return path[path.index(node) :]
            else:
                state[path.pop()] = _DONE
                pending.pop()
    return None


def format_cycle(cycle: list) -> str:
    """Describe a cycle from `find_cycle` as `dependency cycle: a -> b -> a`."""
    chain = " -> ".join(str(node) for node in [*cycle, cycle[0]])
    return f"dependency cycle: {chain} (each job depends on the next)"


def downstream_map(upstream: Upstream) -> dict[Hashable, list]:
    """Reverse the graph: node -> the nodes that wait for it, with every node present as a key."""
    downstream: dict[Hashable, dict[Hashable, None]] = {}
    for node, ups in upstream.items():
        downstream.setdefault(node, {})
        for up in ups:
            downstream.setdefault(up, {})[node] = None
    return {node: list(nodes) for node, nodes in downstream.items()}


def topological_levels(upstream: Upstream) -> list[list]:
    """Group the nodes into levels: level 0 has no upstream, level n waits only on levels < n.

    Nodes keep their first-seen order inside a level. Raises SpecError naming the jobs on a
    cycle if there is one.
    """
    downstream = downstream_map(upstream)
    order = {node: index for index, node in enumerate(downstream)}
    waiting = {node: len(set(upstream.get(node, ()))) for node in downstream}
    level = [node for node, count in waiting.items() if count == 0]
    levels: list[list] = []
    placed = 0
    while level:
        levels.append(level)
        placed += len(level)
        released = []
        for node in level:
            for down in downstream[node]:
                waiting[down] -= 1
                if waiting[down] == 0:
                    released.append(down)
        level = sorted(released, key=order.__getitem__)
    if placed < len(downstream):
        raise SpecError("jobs", format_cycle(find_cycle(upstream)))
    return levels
