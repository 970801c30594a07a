"""Build a WorkflowPlan from a parsed spec: validate, expand parameters, resolve every name.

The plan is what the server needs to create a workflow: concrete jobs (no templates left),
every relationship resolved to names, and the full upstream graph, explicit and implicit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from torc_client.core import jsonvalues
from torc_client.core.errors import SpecError
from torc_client.core.graph import find_cycle, format_cycle
from torc_client.core.settings import MAX_COMMAND_BYTES
from torc_client.core.units import format_memory, parse_duration, parse_memory
from torc_client.spec.expand import Expansion, expand_entries, expand_jobs
from torc_client.spec.hpc import check_job_schedulers, plan_actions, plan_schedulers
from torc_client.spec.params import Value, parse_parameter_values
from torc_client.spec.problems import Problems
from torc_client.spec.records import PlanFailureHandler, PlanFile, PlanJob, PlanResources, PlanUserData, WorkflowPlan
from torc_client.spec.references import (
    RELATIONSHIPS,
    Catalog,
    no_variables,
    related,
    substitute_variables,
)
from torc_client.spec.validate import metadata_object, validate_spec, without_nulls

DEFAULT_RESOURCES = "default"
DEFAULT_MEMORY = "1m"
DEFAULT_RUNTIME = "PT1H"
DEFAULT_SETTINGS: dict[str, Any] = {
    "cancel_on_blocking_job_failure": True,
    "jobs_sort_method": "gpus_runtime_memory",
    "resource_monitor": {"enabled": True, "granularity": "summary", "sample_interval_seconds": 5},
    "compute_node_expiration_buffer_seconds": 60,
    "compute_node_wait_for_new_jobs_seconds": 90,
    "compute_node_ignore_workflow_completion": False,
    "compute_node_wait_for_healthy_database_minutes": 20,
    "use_pending_failed": False,
    "execution_config": {"mode": "auto"},
    "env": {},
}
DEFAULT_RULE: dict[str, Any] = {"match_all_exit_codes": False, "recovery_script": None, "max_retries": 3}

_USER_DATA_VARIABLE_RE = re.compile(r"\$\{user_data\.(?:input|output)\.([^{}]*)\}")


def build_plan(doc: dict[str, Any]) -> WorkflowPlan:
    """Validate a parsed spec and turn it into a WorkflowPlan; raise SpecError on any problem.

    Jobs, files and user_data keep spec order, each entry's expansions in combination order.
    """
    doc = metadata_object(without_nulls(doc))
    validate_spec(doc)  # every problem of shape at once; what follows relies on the shape
    problems = Problems()
    parameters = _workflow_parameters(doc.get("parameters", {}), problems)
    file_entries = _unique(expand_entries("files", doc.get("files", []), parameters, problems), "file", problems)
    data_entries = _unique(expand_entries("user_data", doc.get("user_data", []), parameters, problems),
                           "user_data", problems)  # fmt: skip
    expansions = expand_jobs(doc["jobs"], parameters, problems)
    files = [PlanFile(name=entry["name"], path=entry["path"]) for _, entry in file_entries]
    user_data = [
        PlanUserData(entry["name"], data, entry.get("is_ephemeral", False))
        for path, entry in data_entries
        if (data := problems.attempt(_json_data, path, entry.get("data"), default=_INVALID)) is not _INVALID
    ]
    resources = _resources(doc.get("resource_requirements", []), problems)
    handlers = _failure_handlers(doc.get("failure_handlers", []), problems)
    settings = _settings(doc)
    catalog = Catalog([name for expansion in expansions for name in expansion.names], files, user_data, resources,
                      handlers)  # fmt: skip
    jobs, job_paths = _plan_jobs(expansions, catalog, settings, problems)
    del expansions
    upstream = _upstream(jobs, job_paths, problems)
    schedulers = {s.name: s for s in problems.attempt(plan_schedulers, doc.get("slurm_schedulers", []), default=())}
    problems.attempt(check_job_schedulers, [(path, job.scheduler) for path, job in zip(job_paths, jobs)], schedulers)
    actions = problems.attempt(plan_actions, doc.get("actions", []), schedulers, catalog.names["job"],
                               lambda pattern, path: catalog.match("job", pattern, path), default=())  # fmt: skip
    problems.raise_any()
    cycle = find_cycle(upstream)
    if cycle:
        raise SpecError("jobs", format_cycle(cycle))
    return WorkflowPlan(
        name=doc["name"],
        description=doc.get("description"),
        user=doc.get("user"),
        working_dir=doc.get("working_dir"),
        project=doc.get("project"),
        metadata=doc.get("metadata", {}),
        settings=settings,
        resource_requirements=tuple(resources),
        files=tuple(files),
        user_data=tuple(user_data),
        failure_handlers=tuple(handlers),
        jobs=jobs,
        upstream=upstream,
        slurm_schedulers=tuple(schedulers.values()),
        slurm_defaults=dict(doc.get("slurm_defaults", {})),
        actions=actions,
    )


def _workflow_parameters(raw: Mapping[str, Any], problems: Problems) -> dict[str, list[Value]]:
    """Each workflow parameter's values; one that cannot be parsed is a problem and has none.

    It stays declared, so an entry that uses it is not also told it is not a workflow parameter.
    """
    return {name: problems.attempt(parse_parameter_values, value, f"parameters.{name}", default=[])
            for name, value in raw.items()}  # fmt: skip


def _plan_jobs(
    expansions: list[Expansion], catalog: Catalog, settings: Mapping[str, Any], problems: Problems
) -> tuple[tuple[PlanJob, ...], list[str]]:
    """Each job copy as its PlanJob, made one copy at a time, with the path of its entry; a name given twice is a problem.

    The catalog holds each name once, so fewer names there than copies means duplicates: only then
    are the copies all made at once, to report each second definition and leave it out.
    """
    if len(catalog.names["job"]) < sum(len(expansion.names) for expansion in expansions):
        pairs = _unique([(e.path, copy) for e in expansions for copy in _copies(e, problems)], "job", problems)
        expansions = [Expansion(path, [entry["name"]], lambda entry=entry: [entry]) for path, entry in pairs]
    jobs, paths = [], []
    for expansion in expansions:
        for entry in _copies(expansion, problems):
            jobs.append(_job(expansion.path, entry, catalog, settings, problems))  # records its own problems
            paths.append(expansion.path)
    return tuple(jobs), paths


def _copies(expansion: Expansion, problems: Problems) -> Iterator[dict[str, Any]]:
    """An entry's copies, until one whose fields cannot be filled: that is a problem and ends them."""
    try:
        yield from expansion.copies()
    except SpecError as error:
        problems.add(error)


def substitute_user_data_ids(text: str, ids: Mapping[str, int]) -> str:
    """Replace `${user_data.input.NAME}` and `${user_data.output.NAME}` with the record's id."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            raise SpecError("command", f"no user_data id was given for '{name}'")
        return str(ids[name])

    return _USER_DATA_VARIABLE_RE.sub(replace, text)


_INVALID = object()


def _json_data(path: str, data: Any) -> Any:
    found = jsonvalues.first_non_finite(data)
    if found:
        raise SpecError(f"{path}.data", f"{found} is NaN or infinite, which JSON cannot hold (use null, or a string)")
    return data


def _unique(
    entries: list[tuple[str, dict[str, Any]]], kind: str, problems: Problems
) -> list[tuple[str, dict[str, Any]]]:
    """The entries, each name once: a second entry of a name is a problem."""
    seen: dict[str, str] = {}
    for path, entry in entries:
        name = entry["name"]
        if name in seen:
            problems.add(SpecError(f"{path}.name", f"duplicate {kind} name '{name}': also defined by {seen[name]}"))
        seen.setdefault(name, path)
    if len(seen) == len(entries):
        return entries
    return [(path, entry) for path, entry in entries if seen[entry["name"]] == path]


def _settings(doc: Mapping[str, Any]) -> dict[str, Any]:
    settings = {key: doc.get(key, default) for key, default in DEFAULT_SETTINGS.items()}
    for key in ("resource_monitor", "execution_config"):
        settings[key] = {**DEFAULT_SETTINGS[key], **doc.get(key, {})}
    return settings


def _resources(entries: list[dict[str, Any]], problems: Problems) -> list[PlanResources]:
    pairs = [(f"resource_requirements[{index}]", entry) for index, entry in enumerate(entries)]
    planned = [problems.attempt(_resource, path, entry) for path, entry in _unique(pairs, "resource_requirements",
                                                                                      problems)]  # fmt: skip
    resources = [resource for resource in planned if resource is not None]
    if all(resource.name != DEFAULT_RESOURCES for resource in resources):
        resources.insert(0, _resource("", {"name": DEFAULT_RESOURCES}))
    return resources


def _resource(path: str, entry: Mapping[str, Any]) -> PlanResources:
    memory = entry.get("memory", DEFAULT_MEMORY)
    runtime = entry.get("runtime", DEFAULT_RUNTIME)
    try:
        memory_bytes = parse_memory(memory)
    except ValueError as error:
        raise SpecError(f"{path}.memory", str(error)) from None
    try:
        runtime_s = parse_duration(runtime)
    except ValueError as error:
        raise SpecError(f"{path}.runtime", str(error)) from None
    return PlanResources(
        name=entry["name"],
        num_cpus=int(entry.get("num_cpus", 1)),
        num_gpus=int(entry.get("num_gpus", 0)),
        num_nodes=int(entry.get("num_nodes", 1)),
        memory=memory.strip() if isinstance(memory, str) else format_memory(memory_bytes),
        memory_bytes=memory_bytes,
        runtime=runtime.strip(),
        runtime_s=runtime_s,
    )


def _failure_handlers(entries: list[dict[str, Any]], problems: Problems) -> list[PlanFailureHandler]:
    pairs = _unique([(f"failure_handlers[{i}]", entry) for i, entry in enumerate(entries)], "failure_handler",
                    problems)  # fmt: skip
    return [
        PlanFailureHandler(
            name=entry["name"], rules=[{"exit_codes": [], **DEFAULT_RULE, **rule} for rule in entry["rules"]]
        )
        for _, entry in pairs
    ]


def _job(
    path: str, entry: Mapping[str, Any], catalog: Catalog, settings: Mapping[str, Any], problems: Problems
) -> PlanJob:
    """One expanded job entry as a PlanJob; a wrong reference is recorded in `problems` and left out."""
    name = entry["name"]
    command, found = entry["command"], no_variables()
    if "${" in command:
        command, found = problems.attempt(substitute_variables, command, catalog, f"{path}.command",
                                          default=(command, found))  # fmt: skip
    size = len(f"{entry.get('invocation_script') or ''} {command}".strip().encode())
    if size > MAX_COMMAND_BYTES:
        problems.add(SpecError(f"{path}.command", f"job '{name}': its command is {size:,} bytes long; at most "
                               f"{MAX_COMMAND_BYTES:,} fit in one command line (put long scripts in a file and run "
                               "that)"))  # fmt: skip
    script = entry.get("invocation_script")
    if script is not None:
        script, found_in_script = problems.attempt(substitute_variables, script, catalog, f"{path}.invocation_script",
                                                   default=(script, no_variables()))  # fmt: skip
        for field, names in found_in_script.items():
            found[field].extend(names)
    links = {field: related(name, path, entry, field, catalog, problems) for field in RELATIONSHIPS}
    for field, names in found.items():
        links[field].update(names)
    resources = entry.get("resource_requirements", DEFAULT_RESOURCES)
    if resources not in catalog.names["resource_requirements"]:
        problems.attempt(catalog.check, "resource_requirements", resources, f"{path}.resource_requirements",
                         f"job '{name}' uses")  # fmt: skip
    handler = entry.get("failure_handler")
    if handler is not None:
        problems.attempt(catalog.check, "failure_handler", handler, f"{path}.failure_handler", f"job '{name}' uses")
    return PlanJob(
        name=name,
        command=command,
        invocation_script=script,
        resource_requirements=resources,
        failure_handler=handler,
        cancel_on_blocking_job_failure=entry.get(
            "cancel_on_blocking_job_failure", settings["cancel_on_blocking_job_failure"]
        ),
        supports_termination=entry.get("supports_termination", False),
        **{field: tuple(sorted(names)) for field, names in links.items()},
        scheduler=entry.get("scheduler"),
        priority=entry.get("priority", 0),
        env={**settings["env"], **entry.get("env", {})} or None,
        stdio=entry.get("stdio"),
    )


def _upstream(jobs: Sequence[PlanJob], paths: list[str], problems: Problems) -> dict[str, tuple[str, ...]]:
    """The upstream jobs of every job that has some: explicit depends_on plus the producers of its inputs."""
    file_producers = _producers(jobs, paths, "output_files", "file", problems)
    data_producers = _producers(jobs, paths, "output_user_data", "user_data", problems)
    upstream: dict[str, tuple[str, ...]] = {}
    for job in jobs:
        names = set(job.depends_on)
        names.update(file_producers[name] for name in job.input_files if name in file_producers)
        names.update(data_producers[name] for name in job.input_user_data if name in data_producers)
        # A job that rewrites a file it reads does not wait for itself.
        names.discard(job.name)
        if names:
            upstream[job.name] = tuple(sorted(names))
    return upstream


def _producers(jobs: Sequence[PlanJob], paths: list[str], field: str, kind: str, problems: Problems) -> dict[str, str]:
    producers: dict[str, str] = {}
    for job, path in zip(jobs, paths):
        for name in getattr(job, field):
            producer = producers.setdefault(name, job.name)
            if producer != job.name:
                problems.add(SpecError(
                    f"{path}.{field}",
                    f"{kind} '{name}' is produced by both '{producer}' and '{job.name}'; a {kind} can have"
                    " only one producing job (put a parameter in its name to give each job its own)",
                ))
    return producers
