"""`torc plot-resources ID [-o DIR]`: CPU and memory over time, per job and per resource group, as PNG and HTML.

Reads the time series the runners kept with the results (`resource_monitor.granularity:
time_series`) and writes into DIR: `job_<id>_<name>.png` per job, `group_<name>.png` per
resource-requirements group (a line per job, and the group's memory request), and
`index.html`, a page that shows them all with each job's peaks. The paths written go to
stdout (a JSON list with `-f json`).
"""

from __future__ import annotations

import html
from pathlib import Path

import click

from torc_client.analysis import series as ts
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.core.errors import TorcError
from torc_client.watching import fetch

MIB = 1 << 20


@click.command("plot-resources")
@workflow_id_argument
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("resource_plots"),
              show_default=True, help="Directory the plots and the HTML page are written to.")  # fmt: skip
@click.option("-j", "--job-id", "job_ids", type=int, multiple=True, help="Only these jobs (repeatable).")
@pass_state
def plot_resources(state: State, workflow_id: int, output_dir: Path, job_ids: tuple[int, ...]) -> None:
    """Plot jobs' CPU and memory over time: a PNG per job and per resource group, and an HTML page of them all.

    Needs a workflow whose `resource_monitor.granularity` is `time_series`, and matplotlib
    (the `notebook` extra).
    """
    try:
        from torc_client.notebook.series_plots import series_png
    except ImportError:
        raise TorcError("plot-resources draws with matplotlib: install the `notebook` extra "
                        "(pip install 'torc-py[notebook]')") from None  # fmt: skip
    client = state.client()
    found = fetch.resource_series(client, workflow_id, job_ids or None)
    if not found:
        raise TorcError(f"workflow {workflow_id} has no time series: runners keep one per job when its "
                        "resource_monitor.granularity is time_series")  # fmt: skip
    output_dir.mkdir(parents=True, exist_ok=True)
    written, jobs, groups = [], [], []
    for item in found:
        path = output_dir / f"{ts.file_stem('job', item.job_name, item.job_id)}.png"
        path.write_bytes(series_png(f"job {item.label}, run {item.run_id} attempt {item.attempt_id}", [item]))
        written.append(path)
        jobs.append((item, path.name))
    for group, members in ts.by_group(found).items():
        path = output_dir / f"{ts.file_stem('group', group)}.png"
        path.write_bytes(series_png(f"resource group {group or '(none)'}: {len(members)} jobs", members))
        written.append(path)
        groups.append((group, len(members), path.name))
    page = output_dir / "index.html"
    page.write_text(index_html(workflow_id, jobs, groups))
    written.append(page)
    render.message(f"Wrote {len(jobs)} job plots, {len(groups)} group plots and {page}")
    if state.json:
        render.print_json([str(p) for p in written])
    else:
        for path in written:
            click.echo(str(path))


def index_html(workflow_id: int, jobs: list[tuple[ts.JobSeries, str]], groups: list[tuple[str, int, str]]) -> str:
    """A page showing every group's plot, then a table of jobs (peaks, samples) each with its own plot."""
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Workflow {workflow_id}: resources over "
             "time</title><style>body{font-family:sans-serif;margin:1.5em}img{max-width:100%}"
             "td,th{padding:2px 8px;text-align:left}</style></head><body>",
             f"<h1>Workflow {workflow_id}: CPU and memory over time</h1><h2>By resource group</h2>"]  # fmt: skip
    for group, count, name in groups:
        parts.append(f"<h3>{esc(group or '(none)')} ({count} jobs)</h3><img src='{esc(name)}' alt='{esc(group)}'>")
    parts.append("<h2>By job</h2><table><tr><th>job</th><th>group</th><th>samples</th><th>peak memory</th>"
                 "<th>peak CPU %</th><th>plot</th></tr>")  # fmt: skip
    for item, name in jobs:
        peak_mem = max(p.memory_bytes for p in item.samples) / MIB
        peak_cpu = max(p.cpu_percent for p in item.samples)
        parts.append(f"<tr><td>{esc(item.label)}</td><td>{esc(item.group)}</td><td>{len(item.samples)}</td>"
                     f"<td>{peak_mem:.1f} MiB</td><td>{peak_cpu:.0f}</td>"
                     f"<td><a href='{esc(name)}'>{esc(name)}</a></td></tr>")  # fmt: skip
    parts.append("</table></body></html>\n")
    return "\n".join(parts)
