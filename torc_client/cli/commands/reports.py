"""`torc reports summary|results|check-resource-utilization`: what a workflow's jobs did, read from the server.

Each command reads the workflow's jobs, results and resource requirements in a few paged
listings (never one request per job), builds its record with `torc_client.analysis.reports` and
draws it with `torc_client.cli.render.reports` (or prints its JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from torc_client.analysis import reports
from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.cli.render import reports as render_reports
from torc_client.client import Client
from torc_client.contract import ResourceRequirements, Result
from torc_client.core import settings


def output_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-o", "--output-dir", default=settings.DEFAULT_OUTPUT_DIR, show_default=True,
                        help="Where log paths point for attempts whose runner did not record its --output-dir "
                             "(runners record it when they start; older ones did not).")(func)  # fmt: skip


def _log_dirs(client: Client, workflow_id: int, output_dir: str) -> reports.LogDirs:
    """The output directory each of the workflow's runners recorded, `output_dir` for the others."""
    recorded = {node.id: node.output_dir for node in client.list_compute_nodes(workflow_id) if node.output_dir}
    return reports.LogDirs(output_dir, recorded)


def _requirements(client: Client, workflow_id: int) -> dict[int, ResourceRequirements]:
    return {rr.id: rr for rr in client.list_resource_requirements(workflow_id)}


def _log_note(output_dir: str, dirs: reports.LogDirs, results: Iterable[Result]) -> None:
    """For attempts whose runner recorded no output directory: say on stderr that their log paths are assumed."""
    if all(dirs.known(result) for result in results):
        return
    found = "" if (Path(output_dir) / "job_stdio").is_dir() else f" ({output_dir}/job_stdio is not found from here)"
    render.message(f"Log paths assume the runner's --output-dir was {output_dir!r}{found}; the server does not "
                   f"record it (pass -o to change). Files: {reports.log_pattern(output_dir)}")  # fmt: skip


@click.command("check-resource-utilization")
@workflow_id_argument
@click.option("-a", "--all", "show_all", is_flag=True, help="List every completed job, not only those over.")
@click.option("--include-failed", is_flag=True,
              help="Add the failed and terminated jobs, each with its likely cause (oom, timeout, other).")  # fmt: skip
@pass_state
def check_resource_utilization(state: State, workflow_id: int, show_all: bool, include_failed: bool) -> None:
    """Jobs that used more memory, CPU or run time than they asked for, and the request that would fit.

    Compares each job's latest attempt in the current run: peak memory with its memory, peak CPU
    with num_cpus × 100 %, run time with its runtime, each beside the average use. "Far under"
    marks use below half of the request; jobs far under and over in nothing are counted, and
    listed with --all. Per resource requirements group: the largest peaks, the mean of the
    jobs' averages, a verdict and a suggested request.

    \b
    JSON (-f json): an object with
      workflow_id, jobs_checked (completed jobs compared),
      over_utilization_count (jobs over in any resource),
      under_utilization_count (jobs far under in some resource and over in none),
      jobs: the jobs over (every checked job with --all), each with job_id, job_name, status,
        requirements_id, requirements_name, requested_cpus, requested_memory_bytes,
        requested_runtime_seconds, return_code, exec_seconds, peak_cpu_percent, avg_cpu_percent,
        peak_memory_bytes, avg_memory_bytes, failure, run_id, attempt_id,
        memory_over_percent, cpu_over_percent, runtime_over_percent (negative: under),
        violations and underused (lists of "memory", "cpu", "runtime"),
      groups: per group requirements_id, requirements_name, jobs, sampled, requested_cpus,
        requested_memory_bytes, requested_runtime_seconds, peak_cpus, peak_memory_bytes,
        peak_exec_seconds, avg_cpus, avg_memory_bytes (the mean of the jobs' averages),
        verdict ("too small", "oversized", "about right", "no samples"),
        suggested_cpus, suggested_memory_bytes, suggested_runtime_seconds, and suggested_memory,
        suggested_runtime and suggestion in spec notation ("num_cpus: 1, memory: 180m, runtime: PT2M"),
      failed: null, or with --include-failed the failed and terminated jobs as in jobs,
        failure being "oom", "timeout" or "other".
    """
    client = state.client()
    workflow = client.get_workflow(workflow_id)
    report = reports.utilization(workflow.id, client.list_jobs(workflow.id), client.list_results(workflow.id),
                                 _requirements(client, workflow.id), show_all=show_all,
                                 include_failed=include_failed)  # fmt: skip
    if state.json:
        render.print_json(report.to_dict())
    else:
        render_reports.show_utilization(report)


@click.command("summary")
@workflow_id_argument
@output_dir_option
@pass_state
def summary(state: State, workflow_id: int, output_dir: str) -> None:
    """Jobs and run time by status, walltime, the slowest jobs and the failed ones with their logs.

    Times are those of each job's latest attempt in the current run; the walltime runs from the
    first start to the last completion.

    \b
    JSON (-f json): an object with
      workflow_id, workflow_name, workflow_user, run_id, total_jobs,
      jobs_by_status (every status, zeros included), all_completed,
      total_exec_seconds, total_exec_time_minutes, total_exec_time_formatted ("2h 30m 15s"),
      walltime_seconds, walltime_formatted (null before any job finished),
      exec_seconds_by_status (per status of the jobs with an attempt, their run time summed),
      slowest_jobs (the 5 longest) and failed_jobs: attempts, each with result_id, job_id,
        job_name, run_id, attempt_id, status, return_code, exec_seconds, completion_time,
        peak_memory_bytes, peak_cpu_percent, failure ("oom", "timeout", "other" or null),
        stdout, stderr (log paths under --output-dir),
      output_dir, log_pattern.
    """
    client = state.client()
    workflow = client.get_workflow(workflow_id)
    dirs = _log_dirs(client, workflow.id, output_dir)
    found = client.list_results(workflow.id)
    report = reports.summary(workflow, client.list_jobs(workflow.id), found, _requirements(client, workflow.id), dirs)
    if state.json:
        render.print_json(report.to_dict())
    else:
        render_reports.show_summary(report)
    if report.failed_jobs:
        failed = {a.result_id for a in report.failed_jobs}
        _log_note(output_dir, dirs, [r for r in found if r.id in failed])


@click.command("results")
@workflow_id_argument
@output_dir_option
@pass_state
def results(state: State, workflow_id: int, output_dir: str) -> None:
    """Every attempt of every job, in every run, with its outcome and its log files.

    \b
    JSON (-f json): an object with
      workflow_id, output_dir, log_pattern,
      results: by job, run and attempt, each with result_id, job_id, job_name, run_id,
        attempt_id, status, return_code, exec_seconds, completion_time, peak_memory_bytes,
        peak_cpu_percent, failure ("oom", "timeout", "other" or null), stdout, stderr.
    """
    client = state.client()
    workflow = client.get_workflow(workflow_id)
    dirs = _log_dirs(client, workflow.id, output_dir)
    every = client.list_results(workflow.id, all_runs=True)
    found = reports.attempts(client.list_jobs(workflow.id), every, _requirements(client, workflow.id), dirs)
    if state.json:
        render.print_json({"workflow_id": workflow.id, "output_dir": output_dir,
                           "log_pattern": reports.log_pattern(output_dir),
                           "results": [a.to_dict() for a in found]})  # fmt: skip
    else:
        render_reports.show_attempts(found)
    if found:
        _log_note(output_dir, dirs, every)


@click.group("reports")
def group() -> None:
    """Reports on a workflow: a summary, every result with its logs, and resource use against requests."""


group.add_command(summary)
group.add_command(results)
group.add_command(check_resource_utilization)
