"""Laying out and drawing the dependency graph, without Jupyter."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from torc_client.core.errors import SpecError
from torc_client.notebook import layout as lay
from torc_client.notebook.layout import GraphJob, layout_graph
from torc_client.notebook.svg import graph_svg

SVG = "{http://www.w3.org/2000/svg}"


def diamond() -> list[GraphJob]:
    return [GraphJob(1, "preprocess", "completed"), GraphJob(2, "work_a", "running", (1,)),
            GraphJob(3, "work_b", "ready", (1,)), GraphJob(4, "postprocess", "blocked", (2, 3))]  # fmt: skip


def sweep(n: int) -> list[GraphJob]:
    work = [GraphJob(i, f"work_{i}", "completed" if i % 4 else "failed") for i in range(1, n + 1)]
    return [*work, GraphJob(n + 1, "collect", "blocked", tuple(range(1, n + 1)))]


def test_group_key_replaces_every_digit_run() -> None:
    assert lay.group_key("work_12") == "work_{n}"
    assert lay.group_key("train_lr0.010_b32") == "train_lr{n}.{n}_b{n}"
    assert lay.group_key("collect") == "collect"


def test_small_graph_gets_one_column_per_level() -> None:
    layout = layout_graph(diamond())
    x = {node.label: node.x for node in layout.nodes}
    assert x["preprocess"] < x["work_a"] == x["work_b"] < x["postprocess"]
    assert not layout.collapsed and layout.num_jobs == 4
    assert {(e.source, e.target) for e in layout.edges} == {("job:1", "job:2"), ("job:1", "job:3"),
                                                           ("job:2", "job:4"), ("job:3", "job:4")}  # fmt: skip


def test_nodes_in_a_column_do_not_overlap() -> None:
    layout = layout_graph(sweep(30), max_nodes=100)
    ys = sorted(node.y for node in layout.nodes if node.level == 0)
    assert len(ys) == 30
    assert all(b - a >= lay.NODE_HEIGHT for a, b in zip(ys, ys[1:]))
    assert layout.height >= ys[-1] + lay.NODE_HEIGHT


def test_large_graph_collapses_names_that_differ_only_in_digits() -> None:
    layout = layout_graph(sweep(500))
    assert layout.collapsed
    assert [node.label for node in layout.nodes] == ["work_{n} ×500", "collect"]
    group = layout.nodes[0]
    assert group.is_group and group.size == 500 and dict(group.counts) == {"completed": 375, "failed": 125}
    assert (group.first_name, group.last_name) == ("work_1", "work_500")
    assert [(e.source, e.target) for e in layout.edges] == [("group:work_{n}", "job:501")]


def test_collapsing_a_chain_drops_the_edges_inside_the_group() -> None:
    chain = [GraphJob(i, f"step_{i}", "ready", (i - 1,) if i > 1 else ()) for i in range(1, 101)]
    layout = layout_graph(chain, max_nodes=10)
    assert [node.label for node in layout.nodes] == ["step_{n} ×100"]
    assert layout.edges == ()


def test_a_name_without_siblings_stays_a_job_node_when_collapsed() -> None:
    layout = layout_graph([*sweep(80), GraphJob(500, "report_final", "ready", (81,))], max_nodes=10)
    assert [node.key for node in layout.nodes] == ["group:work_{n}", "job:81", "job:500"]


def test_upstream_ids_outside_the_graph_are_ignored() -> None:
    layout = layout_graph([GraphJob(1, "a", "ready", (99,))])
    assert [node.level for node in layout.nodes] == [0] and layout.edges == ()


def test_a_cycle_is_reported_with_its_jobs() -> None:
    with pytest.raises(SpecError, match="dependency cycle"):
        layout_graph([GraphJob(1, "a", "ready", (2,)), GraphJob(2, "b", "ready", (1,))])


def test_too_many_distinct_groups_are_not_drawn() -> None:
    jobs = [GraphJob(i, f"job{'x' * (i % 450)}", "ready") for i in range(lay.MAX_DRAWN_NODES + 100)]
    layout = layout_graph(jobs, max_nodes=10)
    assert layout.too_large and layout.nodes == ()
    assert "too many distinct groups" in graph_svg(layout)


def test_svg_is_well_formed_with_a_box_per_node_and_a_path_per_edge() -> None:
    layout = layout_graph(diamond())
    root = ET.fromstring(graph_svg(layout))
    boxes = root.findall(f".//{SVG}g[@class='torc-node']")
    assert [b.get("data-key") for b in boxes] == [n.key for n in layout.nodes]
    assert len(root.findall(f".//{SVG}path[@class='torc-edge']")) == 4
    fills = {b.get("data-key"): b.find(f"{SVG}rect").get("fill") for b in boxes}
    assert fills == {"job:1": "#31a354", "job:2": "#3182bd", "job:3": "#9ecae1", "job:4": "#b3b3b3"}
    legend = [t.text for t in root.findall(f".//{SVG}g[@class='torc-legend']/{SVG}text")]
    assert legend == ["running", "ready", "blocked", "completed"]


def test_svg_group_box_shows_each_status_share_and_a_tooltip() -> None:
    root = ET.fromstring(graph_svg(layout_graph(sweep(400))))
    group = root.find(f".//{SVG}g[@data-key='group:work_{{n}}']")
    assert group is not None and group.get("data-size") == "400"
    assert group.find(f"{SVG}title").text == "work_1 … work_400: 100 failed, 300 completed"
    strip = group.findall(f"{SVG}rect")[1:]
    widths = {r.get("fill"): float(r.get("width")) for r in strip}
    assert widths["#31a354"] == pytest.approx(3 * widths["#de2d26"], rel=0.01)
    assert "work_{n} ×400" in ET.tostring(group, encoding="unicode")


def test_svg_escapes_job_names() -> None:
    svg = graph_svg(layout_graph([GraphJob(1, "a<&>b", "ready")]))
    assert "a&lt;&amp;&gt;b" in svg
    ET.fromstring(svg)
