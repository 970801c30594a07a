"""The tables of `torc reports` (rounded boxes, like every table), drawn from the records of `torc_client.analysis.reports`.

`-f json` prints the same records' `to_dict()`, so a table never shows what the JSON lacks.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from torc_client.analysis.diagnosis import JobUsage
from torc_client.analysis.reports import Attempt, Summary, Utilization
from torc_client.cli import render
from torc_client.cli.render import Column, human_bytes, records_table
from torc_client.core.units import count, format_span

#: How a diagnosis reads in a table.
DIAGNOSES = {"oom": "likely out of memory", "timeout": "likely timeout", "other": "other"}


def seconds(value: float | None) -> str:
    """A run time: tenths of a second under a minute, else `2h 30m 15s`."""
    if value is None:
        return ""
    return f"{value:.1f}s" if value < 60 else format_span(value)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def _cpus(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _pair(used: str, asked: str) -> str:
    return f"{used or '—'} / {asked or '—'}"


def _triple(peak: str, average: str, asked: str) -> str:
    return f"{peak or '—'} · {average or '—'} / {asked or '—'}"


def _heading(text: str) -> None:
    render.console().print(Text(text, style="bold"))


# --- check-resource-utilization -------------------------------------------------------


def _over(u: JobUsage) -> str:
    return ", ".join(f"{r} {u.over_percent(r):+.1f}%" for r in u.violations)


def _under(u: JobUsage) -> str:
    return ", ".join(f"{r} {100 + u.over_percent(r):.0f}% of request" for r in u.underused)


USAGE_COLUMNS: list[Column] = [
    ("Job ID", lambda u: u.job_id),
    ("Job", lambda u: u.job_name),
    ("Group", lambda u: u.requirements_name),
    ("Memory (peak · avg / asked)", lambda u: _triple(human_bytes(u.peak_memory_bytes), human_bytes(u.avg_memory_bytes),
                                                      human_bytes(u.requested_memory_bytes))),
    ("CPU (peak · avg / asked)", lambda u: _triple(_percent(u.peak_cpu_percent), _percent(u.avg_cpu_percent),
                                                   _percent(u.requested_cpus * 100.0))),
    ("Runtime (used / asked)", lambda u: _pair(seconds(u.exec_seconds), seconds(u.requested_runtime_seconds))),
    ("Over", _over),
    ("Far under", _under),
]  # fmt: skip

FAILED_COLUMNS: list[Column] = [
    ("Job ID", lambda u: u.job_id),
    ("Job", lambda u: u.job_name),
    ("Status", lambda u: u.status),
    ("Return Code", lambda u: u.return_code),
    ("Memory (peak / asked)", lambda u: _pair(human_bytes(u.peak_memory_bytes), human_bytes(u.requested_memory_bytes))),
    ("Runtime (used / asked)", lambda u: _pair(seconds(u.exec_seconds), seconds(u.requested_runtime_seconds))),
    ("Diagnosis", lambda u: DIAGNOSES.get(u.failure or "", "")),
]  # fmt: skip


GROUP_COLUMNS: list[Column] = [
    ("Group", lambda g: g.requirements_name),
    ("Jobs", lambda g: g.jobs),
    ("Sampled", lambda g: g.sampled),
    ("CPUs (peak · avg / asked)", lambda g: _triple(_cpus(g.peak_cpus), _cpus(g.avg_cpus), str(g.requested_cpus))),
    ("Memory (peak · avg / asked)", lambda g: _triple(human_bytes(g.peak_memory_bytes), human_bytes(g.avg_memory_bytes),
                                                      human_bytes(g.requested_memory_bytes))),
    ("Runtime (longest / asked)", lambda g: _pair(seconds(g.peak_exec_seconds), seconds(g.requested_runtime_seconds))),
    ("Verdict", lambda g: g.verdict),
    ("Suggested", lambda g: g.suggestion),
]  # fmt: skip


def show_utilization(report: Utilization) -> None:
    """Over-use per job (every job with `show_all`), each group with its suggestion, then the failed jobs."""
    out = render.console()
    over, under = report.over, report.under
    verdict = f"{count(len(over), 'job')} used more than it asked for" if over else \
        "no job used more than it asked for"  # fmt: skip
    if under:
        listed = "" if report.show_all else " (listed with --all)"
        verdict += f"; {len(under)} used less than half of some request{listed}"
    out.print(Text(f"Workflow {report.workflow_id}: {count(len(report.checked), 'completed job')} checked; {verdict}"))
    if report.jobs:
        out.print(records_table(report.jobs, USAGE_COLUMNS))
    if report.groups:
        _heading("Per resource requirements group")
        out.print(records_table(report.groups, GROUP_COLUMNS))
    if report.failed is not None:
        _heading(f"Failed jobs: {len(report.failed)}")
        if report.failed:
            out.print(records_table(report.failed, FAILED_COLUMNS))


# --- summary and results ----------------------------------------------------------------

ATTEMPT_COLUMNS: list[Column] = [
    ("Job ID", lambda a: a.job_id),
    ("Job", lambda a: a.job_name),
    ("Run", lambda a: a.run_id),
    ("Attempt", lambda a: a.attempt_id),
    ("Return Code", lambda a: a.return_code),
    ("Status", lambda a: a.status),
    ("Exec Time", lambda a: seconds(a.exec_seconds)),
    ("Stdout", lambda a: a.stdout),
    ("Stderr", lambda a: a.stderr),
]
SLOWEST_COLUMNS: list[Column] = [ATTEMPT_COLUMNS[i] for i in (0, 1, 5, 6)]
FAILED_JOB_COLUMNS: list[Column] = [*ATTEMPT_COLUMNS[:2], *ATTEMPT_COLUMNS[4:6],
                                    ("Diagnosis", lambda a: DIAGNOSES.get(a.failure or "", "")),
                                    *ATTEMPT_COLUMNS[7:]]  # fmt: skip


def show_summary(report: Summary) -> None:
    """Counts by status (non-zero only), time spent, the slowest jobs and the failed ones with their logs."""
    out = render.console()
    out.print(Text(f"Workflow {report.workflow_id} ({report.workflow_name}, user {report.workflow_user or '—'}), "
                   f"run {report.run_id}: {count(report.total_jobs, 'job')}"))  # fmt: skip
    spent = {status: seconds(value) for status, value in report.exec_seconds_by_status.items()}
    out.print(render.counts_table({s: n for s, n in report.jobs_by_status.items() if n}, spent))
    walltime = "—" if report.walltime_seconds is None else format_span(report.walltime_seconds)
    out.print(Text(f"Total exec time: {format_span(report.total_exec_seconds)}   Walltime: {walltime}"))
    if report.slowest_jobs:
        _heading(f"Slowest jobs (top {len(report.slowest_jobs)})")
        out.print(records_table(report.slowest_jobs, SLOWEST_COLUMNS))
    if report.failed_jobs:
        _heading(f"Failed jobs: {len(report.failed_jobs)}")
        out.print(records_table(report.failed_jobs, FAILED_JOB_COLUMNS))
    if report.all_completed:
        out.print(Text(f"✓ All {count(report.total_jobs, 'job')} completed successfully", style="green"))


def show_attempts(attempts: Sequence[Attempt]) -> None:
    """Every attempt with its log files."""
    render.console().print(records_table(attempts, ATTEMPT_COLUMNS))
