"""`torc logs analyze|bundle` and `torc slurm parse-logs`: why jobs failed, grouped, and one archive of the logs."""

from __future__ import annotations

from pathlib import Path

import click

from torc_client.cli import render
from torc_client.cli.commands.common import State, pass_state, workflow_id_argument
from torc_client.cli.render import triage as render_triage
from torc_client.core import settings
from torc_client.core.units import count
from torc_client.triage import collect, families, slurm_logs


def _output_dir(func):
    return click.option("-o", "--output-dir", default=settings.DEFAULT_OUTPUT_DIR, show_default=True,
                        help="The runners' --output-dir, for runners that did not record theirs.")(func)  # fmt: skip


@click.group("logs")
def group() -> None:
    """Find why jobs failed in their logs, and bundle the logs to send with a question."""


@group.command("analyze")
@click.argument("source", metavar="WORKFLOW_ID|PATH")
@click.option("-w", "--workflow-id", type=int, default=None,
              help="With a PATH holding several workflows' logs: the workflow to analyze.")  # fmt: skip
@click.option("-a", "--all", "everything", is_flag=True, help="Scan every job that ran, not only the unsuccessful.")
@_output_dir
@pass_state
def analyze(state: State, source: str, workflow_id: int | None, everything: bool, output_dir: str) -> None:
    """Group failed jobs into families by the error their logs show, with counts and job ids.

    Given a WORKFLOW_ID, reads the stdout and stderr of the latest attempt of each failed or
    terminated job (every job with --all) where its runner wrote them. Given a PATH (a log
    directory, or a bundle made by `torc logs bundle`), reads the job logs found there.
    Each job gets one cause: the most specific one its stderr shows (CUDA error, out of
    memory, time limit, node failure, segmentation fault, disk full, permission denied,
    missing file, connection error, a Python exception, ...), else its stdout's. Jobs whose
    line reads the same once numbers and quoted values are blanked form one family.

    \b
    JSON (-f json): workflow_id, jobs_scanned, files_scanned, family_count, families: each
      with count, cause, signature, example, severity, job_ids, job_names, return_codes,
      statuses and files (path:line of each job's line).
    """
    if source.isdigit() and not Path(source).exists():
        found, files = collect.job_logs(state.client(), int(source), output_dir, everything)
        analysis = families.families(found, int(source), files)
    else:
        found, files, wid = collect.job_logs_at(Path(source), workflow_id)
        analysis = families.families(found, wid, files)
    render_triage.show_analysis(analysis, state.format)


@group.command("bundle")
@workflow_id_argument
@_output_dir
@click.option("--bundle-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write wf{WORKFLOW_ID}.tar.gz.")  # fmt: skip
@pass_state
def bundle(state: State, workflow_id: int, output_dir: str, bundle_dir: Path) -> None:
    """Write one archive of a workflow's logs and records, to attach to a help request.

    It holds every file naming the workflow under the runners' output directories (job
    stdout and stderr, runner logs, Slurm logs), and the workflow, its jobs and its results
    as JSON. `torc logs analyze wfN.tar.gz` reads it back.
    """
    target, files = collect.bundle(state.client(), workflow_id, output_dir, bundle_dir)
    render.message(f"Wrote {target} ({count(len(files), 'log file')})")
    if state.json:
        render.print_json({"workflow_id": workflow_id, "bundle": str(target), "files": files})
    else:
        click.echo(str(target))


@click.command("parse-logs")
@workflow_id_argument
@_output_dir
@click.option("--errors-only", is_flag=True, help="Leave out warnings (cancellations).")
@pass_state
def parse_logs(state: State, workflow_id: int, output_dir: str, errors_only: bool) -> None:
    """Find out of memory, time limit, node failure, preemption, CUDA, srun and slurmstepd errors in Slurm's logs.

    Reads slurm_output_wf{ID}_sl{SLURM_JOB_ID}.o and .e in the output directories of the
    workflow's runners, and names, for each issue, the jobs that ran in that allocation;
    then, per job, the causes seen in its allocations.

    \b
    JSON (-f json): workflow_id, files_scanned, total_issues, errors, warnings,
      issues: each with file, slurm_job_id, line_number, line, cause, severity, node and
      affected_jobs (job_id, job_name, status); jobs: each with job_id, job_name, status,
      causes and slurm_job_ids.
    """
    client = state.client()
    dirs = collect.log_dirs(client, workflow_id, output_dir)
    logs = collect.allocation_logs([output_dir, *dirs.by_node.values()], workflow_id)
    report = slurm_logs.report(workflow_id, logs, collect.jobs_by_allocation(client, workflow_id), errors_only)
    render_triage.show_slurm_report(report, state.format)
