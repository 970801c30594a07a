"""`torc validate SPEC` (and `torc create --dry-run SPEC`): check a spec file with no server.

The check is the server's own: the same parser and `build_plan`, run here. It reports every
problem with its place, or what the spec would create: jobs, files, user_data, dependencies and
the stages in which the jobs can run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from torc_client.cli import render, steps
from torc_client.cli.commands.common import State, pass_state
from torc_client.core import errors
from torc_client.core.graph import topological_levels
from torc_client.core.units import count
from torc_client.spec import WorkflowPlan

#: Jobs listed by name in a table; beyond this the stages show their first few names.
LISTED_JOBS = 50
NAMES_PER_STAGE = 8


def summary(plan: WorkflowPlan) -> dict[str, Any]:
    """What a plan would create, as plain data (the JSON output of `torc validate`)."""
    stages = topological_levels(plan.graph())
    return {
        "valid": True,
        "name": plan.name,
        "jobs": len(plan.jobs),
        "files": len(plan.files),
        "user_data": len(plan.user_data),
        "resource_requirements": [resources.name for resources in plan.resource_requirements],
        "failure_handlers": [handler.name for handler in plan.failure_handlers],
        "slurm_schedulers": [scheduler.name for scheduler in plan.slurm_schedulers],
        "actions": len(plan.actions),
        "dependencies": sum(len(names) for names in plan.upstream.values()),
        "stages": stages,
    }


def show_plan(spec_file: str, plan: WorkflowPlan, fmt: str) -> None:
    """Print what the spec would create: JSON, or a short report with the stages and (for a few jobs) each job."""
    found = summary(plan)
    if fmt == "json":
        render.print_json(found)
        return
    stages = found["stages"]
    print(f"{spec_file}: valid; workflow '{plan.name}' would have "
          f"{count(found['jobs'], 'job')}, {count(found['files'], 'file')}, "
          f"{count(found['user_data'], 'user_data record')}, {count(found['dependencies'], 'dependency', 'dependencies')} "
          f"and {count(len(stages), 'stage')}")  # fmt: skip
    for number, stage in enumerate(stages, start=1):
        print(f"  stage {number} ({count(len(stage), 'job')}): {_some(stage, NAMES_PER_STAGE)}")
    if len(plan.jobs) <= LISTED_JOBS:
        rows = [{"job": job.name, "resources": job.resource_requirements,
                 "waits_for": _some(plan.waits_for(job.name), 3) or "-"} for job in plan.jobs]  # fmt: skip
        render.show_rows(rows, fmt)


def _some(names: Sequence[str], shown: int) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def show_problems(spec_file: str, error: errors.SpecError, fmt: str) -> None:
    """Print every problem of a spec: JSON on stdout, or one line each on stderr."""
    if fmt == "json":
        render.print_json({"valid": False, "spec_file": spec_file, "errors": error.problems})
        return
    render.error(f"{spec_file}: {error.message}")


@click.command("validate")
@click.argument("spec_file", metavar="SPEC_FILE")
@pass_state
def validate(state: State, spec_file: str) -> None:
    """Check a spec file without a server: every problem with its place, or what it would create.

    Exits 0 for a valid spec, 1 otherwise.
    """
    check(state, spec_file)


def check(state: State, spec_file: str) -> None:
    """Validate SPEC_FILE as `torc validate` does, and exit 1 if it has problems."""
    try:
        plan = steps.plan_spec_file(spec_file)
    except errors.SpecError as error:
        show_problems(spec_file, error, state.format)
        sys.exit(1)
    show_plan(spec_file, plan, state.format)
