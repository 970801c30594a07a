"""HTML for every view, from snapshots: pure functions, no widgets, no I/O.

Every table carries `torc-` classes and `data-` attributes (a status, a job id) so tests,
in Python or in a browser, can read what a person sees without parsing prose.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from torc_client import contract as c
from torc_client.analysis.diagnosis import Sizing
from torc_client.core.units import count, format_memory
from torc_client.notebook.theme import status_color, text_color
from torc_client.operations.recovery import RecoveryPlan
from torc_client.watching.paging import STATUS_ORDER, page_count
from torc_client.watching.snapshot import JobDetail, JobPage, LogTail, Overview
from torc_client.watching.values import (  # noqa: F401 - names kept here
    Parsed,
    edit_text,
    format_elapsed,
    human_bytes,
    parse_json,
)

# --- small pieces ------------------------------------------------------------------


def status_badge(status: str) -> str:
    return (f'<span class="torc-status" style="background:{status_color(status)};color:{text_color(status)}">'
            f"{escape(status)}</span>")  # fmt: skip


def _table(headers: Sequence[str], rows: Iterable[str], cls: str, extra: str = "", caption: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    cap = f'<caption class="torc-muted">{escape(caption)}</caption>' if caption else ""
    return (f'<table class="torc-table {cls}"{extra}>{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')  # fmt: skip


def _num(value: Any) -> str:
    return f'<td class="num">{escape(str(value))}</td>'


# --- overview ----------------------------------------------------------------------


def progress(overview: Overview) -> tuple[int, int]:
    """(jobs done, jobs in total) for the progress bar."""
    return overview.done, overview.status.num_jobs


def overview_html(overview: Overview, now_ms: int) -> str:
    """The title line: id, name, run, state, jobs done and elapsed time."""
    done, total = progress(overview)
    elapsed = format_elapsed(overview.clock.elapsed_seconds(now_ms))
    runner = f' · runner: {escape(overview.runner)}' if overview.runner else ""
    return (f'<div class="torc-overview" data-workflow-id="{overview.workflow_id}" data-state="{overview.state}">'
            f"<b>Workflow {overview.workflow_id}</b> · {escape(overview.name)} · run {overview.status.run_id} · "
            f'<span class="torc-state">{overview.state}</span> · '
            f'<span class="torc-done">{done}</span> of <span class="torc-total">{total}</span> jobs done · '
            f'elapsed <span class="torc-elapsed">{elapsed}</span>{runner}</div>')  # fmt: skip


def counts_html(counts: Mapping[str, int]) -> str:
    """Jobs per status (statuses with no job left out), with a total row."""
    rows = [f'<tr data-status="{s}"><td>{status_badge(s)}</td>{_num(counts[s])}</tr>'
            for s in STATUS_ORDER if counts.get(s)]  # fmt: skip
    rows.append(f'<tr class="torc-total-row"><td><b>total</b></td>{_num(sum(counts.values()))}</tr>')
    return _table(["Status", "Jobs"], rows, "torc-counts")


# --- job table ---------------------------------------------------------------------


def page_label(page: JobPage) -> str:
    """`page 2 of 40 · 51–100 of 2,000 jobs` (or without the totals when they are unknown)."""
    q = page.query
    first, last = q.page * q.page_size + 1, q.page * q.page_size + len(page.rows)
    pages = page_count(page.total, q.page_size)
    if page.total is None:
        return f"page {q.page + 1} · rows {first}–{last}" if page.rows else f"page {q.page + 1} · no jobs"
    if not page.rows:
        return f"page {q.page + 1} of {pages} · no jobs match"
    return f"page {q.page + 1} of {pages} · {first}–{last} of {page.total:,} jobs"


def jobs_table_html(page: JobPage) -> str:
    """The rows of one table page."""
    if not page.rows:
        return '<p class="torc-muted torc-no-jobs">No jobs match.</p>'
    rows = [
        f'<tr data-job-id="{job.id}"><td class="num">{job.id}</td><td class="torc-name">{escape(job.name)}</td>'
        f'<td class="torc-job-status" data-status="{escape(job.status)}">{status_badge(job.status)}</td>'
        f"{_num(job.attempt_id)}<td>{escape(page.requirement_names.get(job.resource_requirements_id, ''))}</td>"
        f"<td>{'' if job.active_compute_node_id is None else job.active_compute_node_id}</td></tr>"
        for job in page.rows
    ]  # fmt: skip
    caption = "sorted by name within this page" if page.query.sort == "name" else ""
    total = "" if page.total is None else page.total
    return _table(["ID", "Name", "Status", "Attempt", "Resources", "Compute node"], rows, "torc-jobs",
                  f' data-total="{total}"', caption)  # fmt: skip


# --- job detail --------------------------------------------------------------------


def job_detail_html(detail: JobDetail) -> str:
    """Command, resources, every attempt's result and the latest stdout and stderr tails."""
    job = detail.job
    parts = [
        f'<div class="torc-detail" data-job-id="{job.id}"><b>{escape(job.name)}</b> (job {job.id}) '
        f"{status_badge(job.status)} attempt {job.attempt_id}",
        f'<div>Command:</div><pre class="torc-pre torc-command">{escape(job.command)}</pre>',
        _requirements_html(detail.requirements),
        _results_html(detail.results),
        _tail_html("stdout", detail.stdout),
        _tail_html("stderr", detail.stderr),
        "</div>",
    ]
    return "".join(parts)


def _requirements_html(rr: c.ResourceRequirements | None) -> str:
    if rr is None:
        return '<div class="torc-muted">No resource requirements (runner defaults).</div>'
    return (f'<div class="torc-requirements">Resources <b>{escape(rr.name)}</b>: {rr.num_cpus} CPUs, '
            f"{rr.num_gpus} GPUs, {rr.num_nodes} node(s), memory {escape(rr.memory)}, "
            f"run time {escape(rr.runtime)}</div>")  # fmt: skip


def _results_html(results: Sequence[c.Result]) -> str:
    if not results:
        return '<div class="torc-muted torc-results">No results yet.</div>'
    rows = [
        f'<tr data-run="{r.run_id}" data-attempt="{r.attempt_id}">{_num(r.run_id)}{_num(r.attempt_id)}'
        f"<td>{status_badge(r.status)}</td>{_num(r.return_code)}{_num(f'{r.exec_time_minutes * 60:.1f} s')}"
        f"{_num(_cpu(r.peak_cpu_percent))}{_num(_cpu(r.avg_cpu_percent))}{_num(human_bytes(r.peak_memory_bytes))}"
        f"{_num(human_bytes(r.avg_memory_bytes))}<td>{escape(r.completion_time)}</td></tr>"
        for r in results
    ]  # fmt: skip
    return _table(["Run", "Attempt", "Status", "Return code", "Time", "Peak CPU", "Avg CPU", "Peak memory",
                   "Avg memory", "Completed"], rows, "torc-results")  # fmt: skip


def _cpu(percent: float | None) -> str:
    return "—" if percent is None else f"{percent:.0f}%"


def _tail_html(label: str, tail: LogTail | None) -> str:
    if tail is None:
        return ""
    if not tail.exists:
        return f'<div class="torc-muted torc-{label}">{label}: no file at {escape(tail.path)}</div>'
    cut = " (last lines)" if tail.truncated else ""
    return (f'<div>{label}{cut} <span class="torc-muted">{escape(tail.path)}</span></div>'
            f'<pre class="torc-pre torc-{label}">{escape(tail.text) or "(empty)"}</pre>')  # fmt: skip


# --- user_data, reruns, right-sizing -----------------------------------------------


def compact_json(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user_data_html(records: Sequence[c.UserData]) -> str:
    if not records:
        return '<p class="torc-muted">This workflow has no user_data.</p>'
    rows = [f'<tr data-user-data-id="{r.id}">{_num(r.id)}<td>{escape(r.name)}</td>'
            f"<td><code>{escape(compact_json(r.data))}</code></td><td>{'yes' if r.is_ephemeral else ''}</td></tr>"
            for r in records]  # fmt: skip
    return _table(["ID", "Name", "Data", "Ephemeral"], rows, "torc-user-data")


def rerun_html(reasons: Sequence[c.RerunReason]) -> str:
    """What a reinitialisation would rerun, and why."""
    if not reasons:
        return '<p class="torc-muted torc-rerun">Nothing changed: no job would run again.</p>'
    rows = [f'<tr data-job-id="{r.job_id}">{_num(r.job_id)}<td>{escape(r.job_name)}</td>'
            f"<td>{status_badge(r.status)}</td><td>{'<br>'.join(escape(x) for x in r.reasons)}</td></tr>"
            for r in reasons]  # fmt: skip
    return _table(["ID", "Job", "Status now", "Why it reruns"], rows, "torc-rerun")


def recovery_html(plan: RecoveryPlan) -> str:
    """What a recovery would do: each failed job's diagnosis and the requirements it would move to."""
    problem = f'<p class="torc-error torc-recovery-problem">{escape(plan.problem)}</p>' if plan.problem else ""
    moves = {job_id: raised for raised in plan.raises for job_id in raised.job_ids}
    rows = []
    for usage in (*plan.resized, *plan.unknown):
        raised = moves.get(usage.job_id)
        change = f"{escape(raised.name)}: {escape(raised.change)}" if raised else (
            "rerun as it is" if plan.retry_unknown else "not retried")  # fmt: skip
        rows.append(f'<tr data-job-id="{usage.job_id}">{_num(usage.job_id)}<td>{escape(usage.job_name)}</td>'
                    f"<td>{escape(usage.failure or '')}</td>{_num(usage.return_code)}"
                    f"{_num(human_bytes(usage.peak_memory_bytes))}<td>{change}</td></tr>")  # fmt: skip
    table = _table(["ID", "Job", "Cause", "Return code", "Peak memory", "Rerun with"], rows, "torc-recovery")
    extra = f'<p class="torc-muted">{count(plan.canceled, "canceled job")} downstream rerun with them.</p>' if (
        plan.canceled) else ""  # fmt: skip
    return problem + (table if rows else "") + extra


def sizing_html(groups: Sequence[Sizing]) -> str:
    """Per requirements group: request, largest peaks, and the request that would fit them."""
    if not groups:
        return '<p class="torc-muted">No finished jobs yet.</p>'
    rows = [
        f'<tr data-requirements="{escape(g.requirements_name)}"><td>{escape(g.requirements_name)}</td>{_num(g.jobs)}'
        f"{_num(g.sampled)}{_num(g.requested_cpus)}{_num('—' if g.peak_cpus is None else f'{g.peak_cpus:.2f}')}"
        f"{_num(_mem(g.requested_memory_bytes))}{_num(human_bytes(g.peak_memory_bytes))}"
        f"<td>{escape(g.verdict)}</td><td>{_suggestion(g)}</td></tr>"
        for g in groups
    ]  # fmt: skip
    return _table(["Requirements", "Jobs", "Sampled", "CPUs asked", "Peak CPUs", "Memory asked", "Peak memory",
                   "Verdict", "Suggested"], rows, "torc-sizing")  # fmt: skip


def _mem(num: int | None) -> str:
    return format_memory(num) if num else "—"


def _suggestion(g: Sizing) -> str:
    return f"<code>{escape(g.suggestion)}</code>" if g.suggestion else ""


# --- editing -----------------------------------------------------------------------


def message_html(text: str, error: bool = False) -> str:
    if not text:
        return ""
    cls = "torc-error" if error else "torc-muted"
    return f'<span class="{cls} torc-message">{escape(text)}</span>'
