"""The targets of the benchmark issue, judged against the figures of one run.

A target reads one figure's median, or the ratio of two figures' medians (both taken in
the same run). `judge()` says met/missed and by how much, or why it was not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Figures = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Target:
    id: str
    text: str
    #: One figure key, or (numerator, denominator) for a ratio of medians.
    figure: str | tuple[str, str]
    op: str  # ">=", ">" or "<="
    threshold: float
    unit: str
    #: Use the worst sample instead of the median (a correctness check).
    worst: bool = False
    #: Only judged when the run used this many jobs for the figure (the quick run is smaller).
    needs_jobs: int | None = None


TARGETS = [
    Target("e2e_rate", "End to end, one runner: >= 500 jobs/s", "e2e.one_runner", ">=", 500, "jobs/s",
           needs_jobs=10_000),
    Target("e2e_vs_limit", "End to end, one runner: >= 40% of the raw spawn limit", ("e2e.one_runner", "limit.spawn"),
           ">=", 0.40, "ratio"),
    Target("e2e_vs_parsl", "End to end, one runner: faster than Parsl", ("e2e.one_runner", "peers.parsl"), ">", 1.0,
           "ratio"),
    Target("e2e_vs_snakemake", "End to end, one runner: faster than Snakemake", ("e2e.one_runner", "peers.snakemake"),
           ">", 1.0, "ratio"),
    Target("e2e_vs_dask", "End to end, one runner: >= half of Dask distributed's rate",
           ("e2e.one_runner", "peers.dask"), ">=", 0.5, "ratio"),
    Target("e2e_auth", "End to end, one runner, passwords required: >= 90% of the rate without",
           ("e2e.one_runner_auth", "e2e.one_runner"), ">=", 0.90, "ratio"),
    Target("claims_rate", "Claims, 4 concurrent claimers on 50,000 ready jobs: >= 3,000 jobs/s", "claims.rate", ">=",
           3000, "jobs/s", needs_jobs=50_000),
    Target("claims_double", "Claims: zero jobs handed out twice (worst repeat)", "claims.double", "<=", 0, "jobs",
           worst=True),
    Target("release_p50", "Release latency p50 <= 50 ms", "release.p50", "<=", 50, "ms"),
    Target("release_p99", "Release latency p99 <= 250 ms", "release.p99", "<=", 250, "ms"),
    Target("create_100k", "Create + initialise 100,000 jobs <= 20 s", "create.100000", "<=", 20, "s"),
    Target("create_ratio", "Create + initialise: 100,000 jobs <= 12x the 10,000-job time", "create.ratio.100000.10000",
           "<=", 12, "x"),
    Target("status_100k", "Status of a 100,000-job workflow <= 200 ms", "status.status", "<=", 200, "ms",
           needs_jobs=100_000),
    Target("api_rss", "API server peak RSS at 100,000 jobs <= 300 MB", "memory.api", "<=", 300, "MB",
           needs_jobs=100_000),
    Target("million_create", "Create + initialise 1,000,000 jobs <= 120 s", "million.create", "<=", 120, "s",
           needs_jobs=1_000_000),
    Target("million_ratio", "Create + initialise: 1,000,000 jobs <= 11x the 100,000-job time", "million.ratio", "<=",
           11, "x", needs_jobs=1_000_000),
    Target("million_rss", "API server peak RSS at 1,000,000 jobs <= 400 MB", "million.rss", "<=", 400, "MB",
           needs_jobs=1_000_000),
    Target("million_status", "Status of a 1,000,000-job workflow <= 200 ms", "million.status", "<=", 200, "ms",
           needs_jobs=1_000_000),
    Target("million_page", "First page of a filtered job list at 1,000,000 jobs <= 100 ms", "million.page", "<=", 100,
           "ms", needs_jobs=1_000_000),
    Target("million_dashboard", "Notebook dashboard opens on 1,000,000 jobs <= 2 s", "million.dashboard", "<=", 2000,
           "ms", needs_jobs=1_000_000),
    Target("console_open", "The console (`torc tui`) opens on 1,000,000 jobs <= 2 s", "console.first", "<=", 2000,
           "ms", needs_jobs=1_000_000),
    Target("million_rate", "One runner's rate at 1,000,000 jobs within 10% of its rate at 10,000", "million.rate_ratio",
           ">=", 0.9, "ratio", needs_jobs=1_000_000),
    Target("million_spawn", "One runner at 1,000,000 jobs >= 40% of the raw spawn limit, same run",
           "million.spawn_share", ">=", 0.4, "ratio", needs_jobs=1_000_000),
    Target("million_delete", "Delete a 1,000,000-job workflow <= 60 s (the answer; documents go in the background)",
           "million.delete", "<=", 60, "s", needs_jobs=1_000_000),
]  # fmt: skip


def _value(t: Target, figures: Figures) -> tuple[float | None, str]:
    keys = t.figure if isinstance(t.figure, tuple) else (t.figure,)
    missing = [k for k in keys if k not in figures]
    if missing:
        return None, f"not measured in this run ({', '.join(missing)})"
    first = figures[keys[0]]
    if t.needs_jobs and first.get("params", {}).get("jobs") != t.needs_jobs:
        used = first["params"].get("jobs")
        return None, f"not judged: this run used {used:,} jobs, the target is for {t.needs_jobs:,}"
    if len(keys) == 1:
        return (first["max"] if t.worst else first["median"]), ""
    return first["median"] / figures[keys[1]]["median"], ""


def _fmt(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.2f}x" if value >= 2 else f"{value:.0%}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def judge(t: Target, figures: Figures) -> dict[str, Any]:
    value, why = _value(t, figures)
    row = {"id": t.id, "target": t.text, "op": t.op, "threshold": t.threshold, "unit": t.unit, "value": value}
    if value is None:
        return {**row, "met": None, "verdict": why}
    met = {">=": value >= t.threshold, ">": value > t.threshold, "<=": value <= t.threshold}[t.op]
    if met:
        return {**row, "met": True, "verdict": f"met ({_fmt(value, t.unit)})"}
    if t.op in (">=", ">"):
        short = (t.threshold - value) / t.threshold if t.threshold else float("inf")
        factor = t.threshold / value if value > 0 else float("inf")
        how = f"{short:.0%} short; {factor:.1f}x below the target"
    else:
        over = (value - t.threshold) / t.threshold if t.threshold else float("inf")
        how = f"{over:.0%} over; {value / t.threshold:.1f}x the limit" if t.threshold else f"{value:g} instead of 0"
    return {**row, "met": False, "verdict": f"missed: {_fmt(value, t.unit)} ({how})"}


def judge_all(figures: Figures) -> list[dict[str, Any]]:
    return [judge(t, figures) for t in TARGETS]
