"""A dependency graph laid out in Python: layers by dependency level, parameterised groups collapsed.

`layout_graph` takes every job's name, status and upstream ids and returns nodes with
coordinates and edges between them; `torc_client.notebook.svg` draws it as SVG, `torc_client.console` as text. Levels come from
`torc_client.core.graph.topological_levels` (level 0 waits for nothing), one column per level,
left to right. Within a column nodes are ordered by the mean row of their upstream nodes,
which keeps most edges short and uncrossed.

When a graph has more jobs than `max_nodes`, jobs whose names differ only in their digits
(`work_1` .. `work_500`) become one node, `work_{n} ×500`, sitting at the lowest level of its
members and coloured by the share of each status among them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from torc_client.core.graph import topological_levels

DEFAULT_MAX_NODES = 60
#: Past this many nodes after collapsing, the graph is not drawn (the view says why).
MAX_DRAWN_NODES = 400
NODE_WIDTH = 170
NODE_HEIGHT = 34
COLUMN_GAP = 60
ROW_GAP = 12
MARGIN = 10

_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class GraphJob:
    """What the graph needs to know about one job."""

    id: int
    name: str
    status: str
    upstream: tuple[int, ...] = ()


@dataclass(frozen=True)
class Node:
    """One box: a job, or a group of jobs whose names differ only in digits."""

    key: str
    label: str
    counts: Mapping[str, int]
    first_name: str
    last_name: str
    level: int
    x: float = 0.0
    y: float = 0.0

    @property
    def size(self) -> int:
        return sum(self.counts.values())

    @property
    def is_group(self) -> bool:
        return self.key.startswith("group:")

    @property
    def status(self) -> str:
        """The status of a single job; for a group, its most common status."""
        return max(self.counts.items(), key=lambda kv: kv[1])[0] if self.counts else "uninitialized"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str


@dataclass(frozen=True)
class GraphLayout:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    num_jobs: int
    collapsed: bool
    too_large: bool = False


def group_key(name: str) -> str:
    """The name with every run of digits replaced by `{n}`: `train_lr0.01_b32` -> `train_lr{n}.{n}_b{n}`."""
    return _DIGITS.sub("{n}", name)


def layout_graph(jobs: Sequence[GraphJob], max_nodes: int = DEFAULT_MAX_NODES) -> GraphLayout:
    """Nodes, edges and coordinates for the jobs' dependency graph (collapsed past `max_nodes` jobs)."""
    known = {job.id for job in jobs}
    upstream = {job.id: [u for u in job.upstream if u in known] for job in jobs}
    level_of = {jid: depth for depth, ids in enumerate(topological_levels(upstream)) for jid in ids}
    collapse = len(jobs) > max_nodes
    key_of = _node_keys(jobs, collapse)
    nodes = _nodes(jobs, key_of, level_of)
    edges = sorted({Edge(key_of[u], key_of[j]) for j, ups in upstream.items() for u in ups if key_of[u] != key_of[j]},
                   key=lambda e: (e.source, e.target))  # fmt: skip
    if len(nodes) > MAX_DRAWN_NODES:
        return GraphLayout((), (), 0, 0, len(jobs), collapse, too_large=True)
    placed, width, height = _place(nodes, edges)
    return GraphLayout(tuple(placed), tuple(edges), width, height, len(jobs), collapse)


def _node_keys(jobs: Sequence[GraphJob], collapse: bool) -> dict[int, str]:
    if not collapse:
        return {job.id: f"job:{job.id}" for job in jobs}
    sizes = Counter(group_key(job.name) for job in jobs)
    return {job.id: f"group:{key}" if sizes[key] > 1 else f"job:{job.id}"
            for job in jobs for key in [group_key(job.name)]}  # fmt: skip


def _nodes(jobs: Sequence[GraphJob], key_of: Mapping[int, str], level_of: Mapping[int, int]) -> list[Node]:
    """One node per key, in the order its first job appears."""
    members: dict[str, list[GraphJob]] = {}
    for job in jobs:
        members.setdefault(key_of[job.id], []).append(job)
    nodes = []
    for key, group in members.items():
        counts = dict(Counter(job.status for job in group))
        label = group[0].name if len(group) == 1 else f"{key.removeprefix('group:')} ×{len(group)}"
        nodes.append(Node(key=key, label=label, counts=counts, first_name=group[0].name, last_name=group[-1].name,
                          level=min(level_of[job.id] for job in group)))  # fmt: skip
    return nodes


def _place(nodes: list[Node], edges: Sequence[Edge]) -> tuple[list[Node], float, float]:
    """Coordinates: one column per level, rows ordered by the mean row of each node's upstream nodes."""
    ups: dict[str, list[str]] = {}
    for edge in edges:
        ups.setdefault(edge.target, []).append(edge.source)
    columns: dict[int, list[Node]] = {}
    for node in nodes:
        columns.setdefault(node.level, []).append(node)
    row: dict[str, float] = {}
    for level in sorted(columns):
        column = columns[level]
        for index, node in enumerate(column):
            above = [row[u] for u in ups.get(node.key, ()) if u in row]
            row[node.key] = sum(above) / len(above) if above else float(index)
        column.sort(key=lambda n: row[n.key])
        for index, node in enumerate(column):
            row[node.key] = float(index)
    tallest = max((len(c) for c in columns.values()), default=0)
    step_x, step_y = NODE_WIDTH + COLUMN_GAP, NODE_HEIGHT + ROW_GAP
    placed = []
    for level, column in sorted(columns.items()):
        offset = (tallest - len(column)) * step_y / 2
        for index, node in enumerate(column):
            placed.append(replace(node, x=MARGIN + level * step_x, y=MARGIN + offset + index * step_y))
    width = 2 * MARGIN + (max(columns, default=-1) + 1) * step_x - COLUMN_GAP
    height = 2 * MARGIN + tallest * step_y - ROW_GAP
    return placed, max(width, 0), max(height, 0)

