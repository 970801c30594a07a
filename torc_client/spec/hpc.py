"""The HPC part of a spec: Slurm schedulers, `slurm_defaults` and workflow actions, checked and resolved.

Pure: the plan names jobs and schedulers; the server turns names into ids. An action
watching jobs (`on_jobs_ready`, `on_jobs_complete`) must select at least one job, and
a `schedule_nodes` action must name a Slurm scheduler that exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from torc_client.core import settings
from torc_client.core.errors import SpecError
from torc_client.core.triggers import JOB_TRIGGERS
from torc_client.core.units import parse_walltime


class PlanScheduler(msgspec.Struct, frozen=True):
    """A Slurm allocation shape; `walltime_s` is the time limit in seconds."""

    name: str
    account: str
    partition: str | None = None
    nodes: int = 1
    walltime: str = settings.DEFAULT_WALLTIME
    walltime_s: float = 3600.0
    mem: str | None = None
    gres: str | None = None
    qos: str | None = None
    tmp: str | None = None
    ntasks_per_node: int | None = None
    extra: str | None = None


class PlanAction(msgspec.Struct, frozen=True):
    """A workflow action with its watched jobs resolved to names."""

    trigger_type: str
    action_type: str
    jobs: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    scheduler: str | None = None
    scheduler_type: str | None = None
    num_allocations: int = 1
    start_one_worker_per_node: bool = False
    max_parallel_jobs: int | None = None
    persistent: bool = False


def plan_schedulers(entries: list[dict[str, Any]]) -> tuple[PlanScheduler, ...]:
    seen: set[str] = set()
    schedulers = []
    for index, entry in enumerate(entries):
        path = f"slurm_schedulers[{index}]"
        if entry["name"] in seen:
            raise SpecError(f"{path}.name", f"duplicate slurm scheduler name '{entry['name']}'")
        seen.add(entry["name"])
        entry = {key: value for key, value in entry.items() if value is not None}  # null means "not set"
        walltime = str(entry.get("walltime", settings.DEFAULT_WALLTIME))
        try:
            seconds = parse_walltime(walltime)
        except ValueError as error:
            raise SpecError(f"{path}.walltime", str(error)) from None
        schedulers.append(PlanScheduler(**{**entry, "walltime": walltime, "walltime_s": seconds}))
    return tuple(schedulers)


def plan_actions(entries: list[dict[str, Any]], schedulers: Mapping[str, PlanScheduler], jobs: list[str],
                 match: Callable[[str, str], list[str]]) -> tuple[PlanAction, ...]:  # fmt: skip
    """Resolve each action; `match(pattern, path)` gives the job names a regex selects (or raises SpecError)."""
    known = set(jobs)
    actions = []
    for index, entry in enumerate(entries):
        path = f"actions[{index}]"
        selected = dict.fromkeys(entry.get("jobs", []))
        for position, name in enumerate(selected):
            if name not in known:
                raise SpecError(f"{path}.jobs[{position}]", f"action watches job '{name}', which is not a defined job")
        for position, pattern in enumerate(entry.get("job_name_regexes", [])):
            selected.update(dict.fromkeys(match(pattern, f"{path}.job_name_regexes[{position}]")))
        _check_action(path, entry, selected, schedulers)
        fields = {k: v for k, v in entry.items() if k not in ("jobs", "job_name_regexes", "commands")}
        actions.append(PlanAction(**fields, jobs=tuple(selected), commands=tuple(entry.get("commands", []))))
    return tuple(actions)


def _check_action(path: str, entry: Mapping[str, Any], selected: Mapping[str, None],
                  schedulers: Mapping[str, PlanScheduler]) -> None:  # fmt: skip
    trigger, kind = entry["trigger_type"], entry["action_type"]
    if trigger in JOB_TRIGGERS and not selected:
        raise SpecError(path, f"a {trigger} action must name the jobs it watches (`jobs` or `job_name_regexes`)")
    if kind == "run_commands" and not entry.get("commands"):
        raise SpecError(f"{path}.commands", "a run_commands action needs at least one command")
    if kind == "schedule_nodes":
        if "scheduler" not in entry or "scheduler_type" not in entry:
            raise SpecError(path, "a schedule_nodes action needs `scheduler` and `scheduler_type: slurm`")
        if entry["scheduler"] not in schedulers:
            defined = ", ".join(schedulers) or "none is defined"
            raise SpecError(f"{path}.scheduler", f"action uses slurm scheduler '{entry['scheduler']}', which is "
                                                 f"not in slurm_schedulers (defined: {defined})")  # fmt: skip


def check_job_schedulers(jobs: list[tuple[str, str | None]], schedulers: Mapping[str, PlanScheduler]) -> None:
    """Every job's `scheduler` must name a Slurm scheduler; `jobs` are (path, scheduler) pairs."""
    for path, name in jobs:
        if name is not None and name not in schedulers:
            defined = ", ".join(schedulers) or "none is defined"
            raise SpecError(f"{path}.scheduler", f"job uses slurm scheduler '{name}', which is not in "
                                                 f"slurm_schedulers (defined: {defined})")  # fmt: skip
