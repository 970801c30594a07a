"""What the console shows, as Rich text, from snapshots: pure functions, tested without a terminal.

Statuses are told apart by a symbol as well as a colour, and the colours come from the
Okabe-Ito palette, which stays distinct for the common kinds of colour blindness.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rich.text import Text

from torc_client import contract as c
from torc_client.core.units import count, format_memory
from torc_client.watching.layout import GraphLayout
from torc_client.watching.paging import STATUS_ORDER, page_count
from torc_client.watching.snapshot import JobDetail, JobPage, LogTail, Overview
from torc_client.watching.values import format_elapsed, human_bytes

#: Okabe-Ito colours and a symbol for each status.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "completed": ("✔", "#009E73"),
    "failed": ("✘", "bold #D55E00"),
    "terminated": ("■", "#D55E00"),
    "pending_failed": ("?", "#CC79A7"),
    "running": ("▶", "bold #56B4E9"),
    "pending": ("…", "#E69F00"),
    "ready": ("○", "#0072B2"),
    "blocked": ("◌", "#999999"),
    "uninitialized": ("·", "#999999"),
    "canceled": ("⊘", "#CC79A7"),
    "disabled": ("-", "#999999"),
}
BAR_WIDTH = 30


def status_text(status: str) -> Text:
    """`✔ completed`, coloured."""
    symbol, style = STATUS_STYLE.get(status, ("•", ""))
    return Text(f"{symbol} {status}", style=style)


def counts_text(counts: Mapping[str, int]) -> Text:
    """Every status with jobs, in the order that needs attention first."""
    text = Text()
    for status in STATUS_ORDER:
        if counts.get(status):
            if text:
                text.append("  ")
            text.append_text(status_text(status))
            text.append(f" {counts[status]:,}")
    return text or Text("no jobs", style="dim")


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """`[██████░░░░] 60%` for `done` of `total`."""
    share = done / total if total else 0.0
    filled = round(share * width)
    return f"[{'█' * filled}{'░' * (width - filled)}] {share:.0%}"


def overview_text(overview: Overview, now_ms: int | None = None) -> Text:
    """Name, state, progress, elapsed time and counts by status, in three lines."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    status = overview.status
    text = Text()
    text.append(f"{overview.name}", style="bold")
    text.append(f"  workflow {overview.workflow_id} · run {status.run_id} · {overview.state}")
    if overview.runner:
        text.append(f" · runner {overview.runner}")
    text.append("\n")
    text.append(f"{progress_bar(overview.done, status.num_jobs)} {overview.done:,}/{status.num_jobs:,} done · "
                f"elapsed {format_elapsed(overview.clock.elapsed_seconds(now_ms))}\n")  # fmt: skip
    text.append_text(counts_text(status.job_counts))
    return text


def page_label(page: JobPage) -> str:
    """`page 3 of 20,000 · 1,000,000 jobs` (the total is unknown when filtered by a partial name)."""
    pages = page_count(page.total, page.query.page_size)
    of = f" of {pages:,}" if pages is not None else ""
    total = f" · {count(page.total, 'job')}" if page.total is not None else ""
    return f"page {page.query.page + 1:,}{of}{total}"


def query_label(page: JobPage) -> str:
    """What the table shows: filter, order and page."""
    q = page.query
    parts = [f"status: {q.status or 'all'}"]
    if q.name:
        parts.append(f"name: {q.name}")
    parts.append(f"sort: {q.sort} {'↓' if q.descending else '↑'}")
    parts.append(page_label(page))
    return " · ".join(parts)


def job_row(job: c.Job, requirement_names: Mapping[int, str]) -> tuple[str, Text, Text, str, str]:
    """One row of the job table: id, status, name, requirements, attempt."""
    rr = requirement_names.get(job.resource_requirements_id or -1, "")
    return str(job.id), status_text(job.status), Text(job.name), rr, str(job.attempt_id)


# --- a job ---------------------------------------------------------------------------


def job_header(detail: JobDetail) -> Text:
    job = detail.job
    text = Text(f"{job.name}", style="bold")
    text.append(f"  job {job.id} · attempt {job.attempt_id} · ")
    text.append_text(status_text(job.status))
    text.append(f"\n$ {job.command}")
    return text


def requirements_text(rr: c.ResourceRequirements | None) -> Text:
    if rr is None:
        return Text("no resource requirements (the runner's defaults)", style="dim")
    return Text(f"{rr.name}: {rr.num_cpus} CPU · {rr.num_gpus} GPU · {rr.num_nodes} node · "
                f"{format_memory(rr.memory_bytes)} · {rr.runtime}")  # fmt: skip


def results_text(results: Sequence[c.Result]) -> Text:
    """Every attempt's outcome, oldest first."""
    if not results:
        return Text("no attempt has finished", style="dim")
    text = Text()
    for r in sorted(results, key=lambda r: (r.run_id, r.attempt_id, r.id)):
        text.append(f"run {r.run_id} attempt {r.attempt_id}: ")
        text.append_text(status_text(r.status))
        memory = f" · peak {human_bytes(r.peak_memory_bytes)}" if r.peak_memory_bytes else ""
        text.append(f" · return code {r.return_code} · {r.exec_time_minutes:.2f} min{memory}\n")
    text.rstrip()
    return text


def tail_text(tail: LogTail | None, base: Path | None = None) -> Text:
    """A log tail under its file's name (relative to `base`, the output directory, when inside it)."""
    if tail is None:
        return Text("no attempt to show", style="dim")
    path = Path(tail.path)
    shown = path.relative_to(base) if base is not None and path.is_relative_to(base) else path
    if not tail.exists:
        return Text(f"{shown}: not written (yet)", style="dim")
    text = Text(f"{shown}{' (last lines)' if tail.truncated else ''}\n", style="dim")
    text.append(tail.text or "(empty)")
    return text


def why_text(why: c.JobWhy) -> Text:
    """The verdict of `torc jobs why`, and what the job waits for."""
    text = Text(why.verdict or "nothing to wait for")
    for ref in why.waiting_on:
        text.append(f"\n  waits for job {ref.id} {ref.name} ")
        text.append_text(status_text(ref.status))
    if why.num_waiting_on > len(why.waiting_on):
        text.append(f"\n  … {why.num_waiting_on - len(why.waiting_on):,} more")
    for miss in (*why.missing_files, *why.missing_user_data):
        text.append(f"\n  missing input {miss.name}")
    for ref in why.canceled_by:
        text.append(f"\n  canceled by job {ref.id} {ref.name}")
    return text


def neighbours_text(upstream: Iterable[int], downstream: c.Page[c.Job] | None) -> Text:
    """Upstream ids, and one page of the downstream jobs (`[` and `]` page through them)."""
    ups = list(upstream)
    text = Text(f"upstream: {', '.join(map(str, ups)) if ups else 'none'}\n")
    if downstream is None:
        text.append("downstream: …", style="dim")
        return text
    names = ", ".join(f"{j.id} {j.name}" for j in downstream.items)
    if downstream.total_count <= len(downstream.items) and downstream.offset == 0:
        text.append(f"downstream: {names or 'none'}")
        return text
    first = downstream.offset + 1
    last = downstream.offset + len(downstream.items)
    text.append(f"downstream {first:,}–{last:,} of {downstream.total_count:,} ([ ] page): {names}")
    return text


# --- graph and events ----------------------------------------------------------------


def graph_text(layout: GraphLayout) -> Text:
    """The dependency graph by level: each box (a job, or a group `work_{n} ×500`) and what it feeds."""
    if layout.too_large:
        return Text(f"{layout.num_jobs:,} jobs make too many groups to draw.", style="dim")
    feeds: dict[str, list[str]] = {}
    labels = {n.key: n.label for n in layout.nodes}
    for edge in layout.edges:
        feeds.setdefault(edge.source, []).append(labels[edge.target])
    text = Text()
    for level in sorted({n.level for n in layout.nodes}):
        text.append(f"level {level}\n", style="bold")
        for node in sorted((n for n in layout.nodes if n.level == level), key=lambda n: n.y):
            text.append("  ")
            text.append_text(status_text(node.status) if not node.is_group else counts_text(node.counts))
            text.append(f"  {node.label}")
            if node.key in feeds:
                text.append(f"  → {', '.join(sorted(feeds[node.key]))}", style="dim")
            text.append("\n")
    text.rstrip()
    return text


def event_line(event: c.Event) -> Text:
    stamp = time.strftime("%H:%M:%S", time.localtime(event.timestamp / 1000))
    text = Text(f"{stamp} ", style="dim")
    text.append(f"{event.category:<9} ")
    status = event.data.get("status")
    if event.category == "job" and isinstance(status, str):
        text.append_text(status_text(status))
        text.append(" ")
    text.append(event.message)
    return text
