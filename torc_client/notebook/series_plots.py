"""Time series plots as PNG bytes: CPU and memory over each job's run (`granularity: time_series`).

Pure: series in, bytes out, drawn with matplotlib's object API on an Agg canvas (as
`plots`). One figure per job, or one per resource-requirements group with a line per job
and the group's memory request, is what `torc plot-resources` writes and the notebook
dashboard shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from torc_client.analysis.series import JobSeries
from torc_client.notebook.plots import ASKED_COLOR, GIB, MIB, _png

#: A group plot draws at most this many jobs (the ones with the highest memory peaks), so it stays readable.
MAX_LINES = 40
#: With this many lines or fewer, each is named in the legend.
MAX_LEGEND = 10


def series_png(title: str, series: Sequence[JobSeries], *, width: float = 9.0, height: float = 5.0,
               dpi: int = 90) -> bytes:  # fmt: skip
    """Two panels sharing the time axis (seconds since each job started): CPU % and memory, a line per job."""
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    cpu_axes, mem_axes = figure.subplots(2, 1, sharex=True)
    drawn = sorted((s for s in series if s.samples), key=_peak, reverse=True)[:MAX_LINES]
    if not drawn:
        for axes in (cpu_axes, mem_axes):
            axes.set_axis_off()
        figure.text(0.5, 0.5, "No time series: set resource_monitor.granularity to time_series.", ha="center",
                    va="center", fontsize=11, color="#616161")  # fmt: skip
        return _png(figure)
    largest = max([_peak(s) for s in drawn] + [s.requested_memory_bytes for s in drawn if len(drawn) == 1])
    unit, scale = ("GiB", GIB) if largest >= GIB else ("MiB", MIB)
    for item in drawn:
        times = [p.t for p in item.samples]
        label = item.label if len(drawn) <= MAX_LEGEND else None
        cpu_axes.plot(times, [p.cpu_percent for p in item.samples], linewidth=1.2, label=label)
        mem_axes.plot(times, [p.memory_bytes / scale for p in item.samples], linewidth=1.2, label=label)
    requests = {s.requested_memory_bytes for s in drawn if s.requested_memory_bytes > MIB}
    if len(requests) == 1 and (asked := requests.pop()) <= 4 * largest:
        mem_axes.axhline(asked / scale, color=ASKED_COLOR, linestyle="--", linewidth=1.5, label="requested")
    cpu_axes.set_ylabel("CPU %")
    mem_axes.set_ylabel(f"memory ({unit})")
    mem_axes.set_xlabel("seconds since the job started")
    for axes in (cpu_axes, mem_axes):
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
    if len(drawn) <= MAX_LEGEND or mem_axes.get_legend_handles_labels()[0]:
        mem_axes.legend(loc="upper left", fontsize=8)
    shown = f" ({MAX_LINES} of {len(series)} jobs, highest memory first)" if len(series) > MAX_LINES else ""
    cpu_axes.set_title(title + shown)
    return _png(figure)


def _peak(item: JobSeries) -> int:
    return max((p.memory_bytes for p in item.samples), default=0)
