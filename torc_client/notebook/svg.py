"""Draw a `GraphLayout` as SVG text: boxes coloured by status, arrows from upstream to downstream.

A single job's box is filled with its status colour. A group's box is white with a strip
along its bottom showing the share of each status among its jobs. Every box has a tooltip
(`<title>`) with the job names it stands for and its status counts.
"""

from __future__ import annotations

from html import escape

from torc_client.notebook.theme import status_color, text_color
from torc_client.watching.layout import NODE_HEIGHT, NODE_WIDTH, GraphLayout, Node
from torc_client.watching.paging import STATUS_ORDER

STRIP_HEIGHT = 7
LEGEND_HEIGHT = 22
MAX_LABEL_CHARS = 24


def graph_svg(layout: GraphLayout) -> str:
    """The whole graph as one `<svg>` element (with a status legend above it)."""
    if layout.too_large:
        return (f'<p class="torc-muted">{layout.num_jobs} jobs fall into too many distinct groups to draw '
                "as one graph.</p>")  # fmt: skip
    if not layout.nodes:
        return '<p class="torc-muted">This workflow has no jobs.</p>'
    by_key = {node.key: node for node in layout.nodes}
    width, height = max(layout.width, 320), layout.height + LEGEND_HEIGHT
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="torc-graph" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11" '
        f'data-jobs="{layout.num_jobs}" data-collapsed="{str(layout.collapsed).lower()}">',
        '<defs><marker id="torc-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#757575"/></marker></defs>',
        _legend(layout),
        f'<g transform="translate(0,{LEGEND_HEIGHT})">',
        *(_edge(by_key[e.source], by_key[e.target]) for e in layout.edges),
        *(_node(node) for node in layout.nodes),
        "</g></svg>",
    ]
    return "".join(parts)


def _legend(layout: GraphLayout) -> str:
    present = {status for node in layout.nodes for status in node.counts}
    items, x = [], 10
    for status in (s for s in STATUS_ORDER if s in present):
        items.append(f'<rect x="{x}" y="5" width="11" height="11" fill="{status_color(status)}" stroke="#9e9e9e"/>'
                     f'<text x="{x + 15}" y="14">{status}</text>')  # fmt: skip
        x += 24 + 7 * len(status)
    return f'<g class="torc-legend">{"".join(items)}</g>'


def _edge(source: Node, target: Node) -> str:
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT / 2
    x2, y2 = target.x, target.y + NODE_HEIGHT / 2
    bend = max(abs(x2 - x1) / 2, 30)
    curve = f"M {x1:.1f} {y1:.1f} C {x1 + bend:.1f} {y1:.1f}, {x2 - bend:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}"
    return (f'<path class="torc-edge" d="{curve}" fill="none" stroke="#9e9e9e" stroke-width="1.2" '
            'marker-end="url(#torc-arrow)"/>')  # fmt: skip


def _node(node: Node) -> str:
    label = escape(_shorten(node.label))
    tip = escape(_tooltip(node))
    head = (f'<g class="torc-node" data-key="{escape(node.key)}" data-status="{node.status}" '
            f'data-size="{node.size}"><title>{tip}</title>')  # fmt: skip
    if not node.is_group:
        fill = status_color(node.status)
        return (f'{head}<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="4" '
                f'fill="{fill}" stroke="#616161"/>{_text(node, label, text_color(node.status))}</g>')  # fmt: skip
    return (f'{head}<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="4" '
            f'fill="#ffffff" stroke="#616161" stroke-width="1.5"/>{_strip(node)}'
            f'{_text(node, label, "#000000", lift=STRIP_HEIGHT / 2)}</g>')  # fmt: skip


def _text(node: Node, label: str, color: str, lift: float = 0.0) -> str:
    cx, cy = node.x + NODE_WIDTH / 2, node.y + NODE_HEIGHT / 2 - lift + 4
    return f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" fill="{color}">{label}</text>'


def _strip(node: Node) -> str:
    """The bottom strip of a group box: one segment per status, as wide as its share."""
    total, x = node.size, node.x + 3
    inner, y = NODE_WIDTH - 6, node.y + NODE_HEIGHT - STRIP_HEIGHT - 3
    segments = []
    for status in (s for s in STATUS_ORDER if node.counts.get(s)):
        w = inner * node.counts[status] / total
        segments.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{STRIP_HEIGHT}" '
                        f'fill="{status_color(status)}"/>')  # fmt: skip
        x += w
    return "".join(segments)


def _tooltip(node: Node) -> str:
    counts = ", ".join(f"{n} {s}" for s in STATUS_ORDER if (n := node.counts.get(s)))
    names = node.first_name if node.size == 1 else f"{node.first_name} … {node.last_name}"
    return f"{names}: {counts}"


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"
