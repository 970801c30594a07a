"""`torc run SPEC_OR_ID`: run a workflow's jobs on this machine until it is done."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import click

from runner.hpc import allocation_options
from runner.loop import JobRunner, RunnerOptions, RunSummary
from torc_client.cli import progress, render, steps
from torc_client.cli.commands.common import State, pass_state
from torc_client.core import settings
from torc_client.core.units import parse_duration
from torc_client.hpc import slurm


class Duration(click.ParamType):
    """Seconds (`7200`) or an ISO-8601 duration (`PT2H`)."""

    name = "SECONDS|DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        if not math.isfinite(seconds) or seconds <= 0:
            self.fail(f"{value!r} is not a positive duration", param, ctx)
        return seconds


def run_record(summary: RunSummary) -> dict[str, Any]:
    """What `torc run -f json` prints: the final workflow status plus what this runner did."""
    status = summary.workflow_status.to_dict() if summary.workflow_status else {"workflow_id": summary.workflow_id}
    return {**status, "runner": {"compute_node_id": summary.compute_node_id, "counts": summary.counts,
                                 "exit_code": summary.exit_code, "canceled": summary.canceled,
                                 "interrupted": summary.interrupted,
                                 "unfit": [g.to_dict() for g in summary.unfit]}}  # fmt: skip


@click.command("run")
@click.argument("spec_or_id", metavar="SPEC_OR_ID")
@click.option("--num-cpus", type=click.IntRange(min=1), help="CPUs jobs may use (default: all of this machine's).")
@click.option("--memory-gb", type=click.FloatRange(min=0, min_open=True),
              help="Memory jobs may use, in GiB (default: this machine's).")  # fmt: skip
@click.option("--num-gpus", type=click.IntRange(min=0), help="GPUs jobs may use (default: those detected).")
@click.option("--num-nodes", type=click.IntRange(min=1), default=1, show_default=True, help="Nodes in the allocation.")
@click.option("--max-parallel-jobs", type=click.IntRange(min=1),
              help="Run up to this many jobs at once and ignore resource requirements.")  # fmt: skip
@click.option("-p", "--poll-interval", type=click.FloatRange(min=0, min_open=True),
              default=settings.DEFAULT_POLL_INTERVAL, show_default=True,
              help="Seconds between polls for ready jobs.")  # fmt: skip
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=settings.DEFAULT_OUTPUT_DIR, show_default=True,
              help="Where job stdout/stderr files go.")  # fmt: skip
@click.option("--time-limit", type=Duration(),
              help="Wall time left for this runner (seconds or ISO-8601, e.g. PT2H); "
                   "longer jobs are not started.")  # fmt: skip
@click.option("--kill-grace", type=click.FloatRange(min=0), default=settings.DEFAULT_KILL_GRACE_SECONDS,
              show_default=True, help="Seconds between SIGTERM and SIGKILL when a job is stopped.")  # fmt: skip
@click.option("--backlog-seconds", type=click.FloatRange(min=0), default=settings.DEFAULT_BACKLOG_SECONDS,
              show_default=True, help="Claim this many seconds of work ahead, at the pace jobs finish, so short jobs "
              "never wait on the server (0: claim only what fits now).")  # fmt: skip
@click.option("--enforce-memory", is_flag=True, envvar="TORC_ENFORCE_MEMORY",
              help="Kill a job whose processes use more memory than its resource requirements' `memory`, as Slurm "
              "does: it fails with return code 137, out of memory. Each job runs in a memory cgroup of its own "
              "where the node allows it (the kernel kills it at once), else the runner samples every job every "
              "0.05 s; jobs with no memory request are not limited. Inside a Slurm allocation, Slurm's own "
              "limits hold each job (srun).")  # fmt: skip
@click.option("--memory-limits", type=click.Choice(["auto", "cgroup", "sampler"]), default="auto",
              envvar="TORC_MEMORY_LIMITS", show_default=True,
              help="How --enforce-memory holds jobs to their requests: a cgroup per job where the node allows it, "
              "else sampling (auto), or either one forced.")  # fmt: skip
@click.option("--working-dir", default=None, help="With a spec file: directory the jobs run in (default: here).")
@click.option("--force", is_flag=True, help="Initialise the workflow even if input files that no job produces are "
              "missing.")  # fmt: skip
@pass_state
def run(state: State, spec_or_id: str, working_dir: str | None, force: bool, **options: Any) -> None:
    """Run a workflow's jobs on this machine until it is done.

    SPEC_OR_ID is a spec file (the workflow is created first) or a workflow id. The workflow
    is initialised if it was not. Exits non-zero when a job failed or jobs were left undone.
    """
    client = state.client()
    created = Path(spec_or_id).is_file()
    workflow_id = steps.resolve_workflow(client, spec_or_id, working_dir)
    steps.ensure_initialized(client, workflow_id, force, created)
    started = time.monotonic()
    found = slurm.allocation() if os.environ.get("SLURM_JOB_ID") else None
    opts = allocation_options(RunnerOptions(**options), client.get_workflow(workflow_id), found)
    if found is not None:
        left = f", {opts.time_limit:.0f} s to work before it ends" if opts.time_limit else ""
        render.message(f"in Slurm allocation {found.job_id}{left}")
    with progress.reporter_for(client.workflow_status(workflow_id)) as reporter:
        summary = JobRunner(client, workflow_id, opts, reporter, allocation=found).run()
    progress.print_summary(summary, time.monotonic() - started)
    if state.json:
        render.print_json(run_record(summary))
    click.get_current_context().exit(summary.exit_code)
