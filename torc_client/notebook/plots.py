"""Resource plots as PNG bytes: what each job used (peak and average) against what it asked for.

Pure: rows in, bytes out. Figures are drawn with matplotlib's object API on an Agg canvas,
so nothing touches pyplot's global state or the notebook's backend.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from torc_client.analysis.diagnosis import JobUsage

#: Up to this many jobs, each gets a tick label with its name.
MAX_NAMED_JOBS = 30
GIB = 1 << 30
MIB = 1 << 20
PEAK_COLOR = "#de2d26"
AVG_COLOR = "#3182bd"
ASKED_COLOR = "#31a354"
#: Past this ratio of request to largest peak, a panel uses a log scale.
LOG_SCALE_RATIO = 20.0


def usage_png(rows: Sequence[JobUsage], *, width: float = 10.0, height: float = 6.0, dpi: int = 90) -> bytes:
    """Two panels, CPUs and memory: per job a peak and an average marker, and the requested amount as a line."""
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    cpu_axes, mem_axes = figure.subplots(2, 1, sharex=True)
    sampled = sorted((r for r in rows if r.sampled), key=_order)
    if not sampled:
        for axes in (cpu_axes, mem_axes):
            axes.set_axis_off()
        figure.text(0.5, 0.5, "No resource samples yet: jobs that finish before the first sample have none.",
                    ha="center", va="center", fontsize=11, color="#616161")  # fmt: skip
        return _png(figure)
    xs = list(range(len(sampled)))
    _panel(cpu_axes, xs, [_cpus(r.peak_cpu_percent) for r in sampled], [_cpus(r.avg_cpu_percent) for r in sampled],
           [float(r.requested_cpus) for r in sampled], "CPUs")  # fmt: skip
    unit, scale = ("GiB", GIB) if max(_largest_memory(r) for r in sampled) >= GIB else ("MiB", MIB)
    _panel(mem_axes, xs, [_scaled(r.peak_memory_bytes, scale) for r in sampled],
           [_scaled(r.avg_memory_bytes, scale) for r in sampled],
           [(r.requested_memory_bytes or 0) / scale for r in sampled], f"memory ({unit})")  # fmt: skip
    cpu_axes.set_title(f"Peak and average use per job against the request ({len(sampled)} jobs with samples)")
    _label_jobs(mem_axes, sampled)
    return _png(figure)


def _order(row: JobUsage) -> tuple:
    return (row.requirements_name, row.peak_memory_bytes or 0, row.job_id)


def _cpus(percent: float | None) -> float | None:
    return None if percent is None else percent / 100.0


def _scaled(num: int | None, scale: int) -> float | None:
    return None if num is None else num / scale


def _largest_memory(row: JobUsage) -> int:
    return max(row.peak_memory_bytes or 0, row.requested_memory_bytes or 0)


def _panel(axes: Axes, xs: list[int], peak: list, avg: list, asked: list[float], ylabel: str) -> None:
    axes.step(xs, asked, where="mid", color=ASKED_COLOR, linewidth=2, label="requested")
    marker = 5 if len(xs) > 100 else 7
    axes.plot(*_present(xs, peak), linestyle="none", marker="^", markersize=marker, color=PEAK_COLOR, label="peak")
    axes.plot(*_present(xs, avg), linestyle="none", marker="o", markersize=marker - 2, color=AVG_COLOR,
              label="average")  # fmt: skip
    axes.set_ylabel(ylabel)
    used = max((y for y in peak if y is not None), default=0.0)
    if used > 0 and max(asked) / used > LOG_SCALE_RATIO:
        axes.set_yscale("log")  # the request dwarfs the use: a linear axis would flatten every marker
    else:
        axes.set_ylim(bottom=0)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", fontsize=8)


def _present(xs: list[int], ys: list) -> tuple[list[int], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None]
    return [x for x, _ in pairs], [y for _, y in pairs]


def _label_jobs(axes: Axes, rows: Sequence[JobUsage]) -> None:
    if len(rows) <= MAX_NAMED_JOBS:
        axes.set_xticks(range(len(rows)), [r.job_name for r in rows], rotation=60, ha="right", fontsize=8)
    else:
        axes.set_xlabel("jobs, by requirements group, then by peak memory")
        axes.set_xticks([])


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
