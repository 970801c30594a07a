"""Build a WorkflowPlan from a parsed spec: validate, expand parameters, resolve every name.

The plan is what the server needs to create a workflow: concrete jobs (no templates left),
every relationship resolved to names, and the full upstream graph, explicit and implicit.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import msgspec

from torc_client import jsonvalues
from torc_client.errors import SpecError
from torc_client.graph import find_cycle, format_cycle
from torc_client.spec.hpc import PlanAction, PlanScheduler, check_job_schedulers, plan_actions, plan_schedulers
from torc_client.spec.params import expand_entries, parse_parameters
from torc_client.spec.validate import validate_spec, without_nulls
from torc_client.units import format_memory, parse_duration, parse_memory

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
}
DEFAULT_RULE: dict[str, Any] = {"match_all_exit_codes": False, "recovery_script": None, "max_retries": 3}

# relationship list -> (its regex list, the kind of record it names)
RELATIONSHIPS = {
    "depends_on": ("depends_on_regexes", "job"),
    "input_files": ("input_file_regexes", "file"),
    "output_files": ("output_file_regexes", "file"),
    "input_user_data": ("input_user_data_regexes", "user_data"),
    "output_user_data": ("output_user_data_regexes", "user_data"),
}
_VARIABLE_RE = re.compile(r"\$\{(files|user_data)\.(input|output)\.((?:[^{}]|\{[^{}]*\})*)\}")
_USER_DATA_VARIABLE_RE = re.compile(r"\$\{user_data\.(?:input|output)\.([^{}]*)\}")
_REGEX_SYNTAX = set(".^$*+?{}[]\\|()")


class PlanResources(msgspec.Struct, frozen=True):
    """A named set of resources; `memory_bytes` and `runtime_s` are computed for claim queries."""

    name: str
    num_cpus: int
    num_gpus: int
    num_nodes: int
    memory: str
    memory_bytes: int
    runtime: str
    runtime_s: float


class PlanFile(msgspec.Struct, frozen=True):
    """A file jobs read or write."""

    name: str
    path: str


class PlanUserData(msgspec.Struct, frozen=True):
    """A JSON document jobs read or write."""

    name: str
    data: Any
    is_ephemeral: bool


class PlanFailureHandler(msgspec.Struct, frozen=True):
    """Retry rules, each with every key filled in (exit_codes, match_all_exit_codes, ...)."""

    name: str
    rules: list[dict[str, Any]]


class PlanJob(msgspec.Struct, frozen=True):
    """A concrete job; relationship tuples hold names, sorted and deduplicated."""

    name: str
    command: str
    invocation_script: str | None
    resource_requirements: str
    failure_handler: str | None
    cancel_on_blocking_job_failure: bool
    supports_termination: bool
    depends_on: tuple[str, ...]
    input_files: tuple[str, ...]
    output_files: tuple[str, ...]
    input_user_data: tuple[str, ...]
    output_user_data: tuple[str, ...]
    scheduler: str | None = None


class WorkflowPlan(msgspec.Struct, frozen=True):
    """Everything needed to create a workflow; `upstream[job]` is every job it waits for."""

    name: str
    description: str | None
    user: str | None
    working_dir: str | None
    project: str | None
    metadata: dict[str, Any]
    settings: dict[str, Any]
    resource_requirements: tuple[PlanResources, ...]
    files: tuple[PlanFile, ...]
    user_data: tuple[PlanUserData, ...]
    failure_handlers: tuple[PlanFailureHandler, ...]
    jobs: tuple[PlanJob, ...]
    upstream: dict[str, tuple[str, ...]]
    slurm_schedulers: tuple[PlanScheduler, ...] = ()
    slurm_defaults: dict[str, Any] = {}
    actions: tuple[PlanAction, ...] = ()


def build_plan(doc: dict[str, Any]) -> WorkflowPlan:
    """Validate a parsed spec and turn it into a WorkflowPlan; raise SpecError on any problem.

    Jobs, files and user_data keep spec order, each entry's expansions in combination order.
    """
    doc = without_nulls(doc)
    validate_spec(doc)
    parameters = parse_parameters(doc.get("parameters", {}))
    file_entries = _unique(expand_entries("files", doc.get("files", []), parameters), "file")
    data_entries = _unique(expand_entries("user_data", doc.get("user_data", []), parameters), "user_data")
    job_entries = _unique(expand_entries("jobs", doc["jobs"], parameters), "job")
    files = [PlanFile(name=entry["name"], path=entry["path"]) for _, entry in file_entries]
    user_data = [
        PlanUserData(entry["name"], _json_data(path, entry.get("data")), entry.get("is_ephemeral", False))
        for path, entry in data_entries
    ]
    resources = _resources(doc.get("resource_requirements", []))
    handlers = _failure_handlers(doc.get("failure_handlers", []))
    settings = _settings(doc)
    catalog = _Catalog([entry["name"] for _, entry in job_entries], files, user_data, resources, handlers)
    jobs = tuple(_job(path, entry, catalog, settings) for path, entry in job_entries)
    upstream = _upstream(jobs, [path for path, _ in job_entries])
    cycle = find_cycle(upstream)
    if cycle:
        raise SpecError("jobs", format_cycle(cycle))
    schedulers = {s.name: s for s in plan_schedulers(doc.get("slurm_schedulers", []))}
    check_job_schedulers([(path, job.scheduler) for (path, _), job in zip(job_entries, jobs)], schedulers)
    actions = plan_actions(doc.get("actions", []), schedulers, catalog.names["job"],
                           lambda pattern, path: catalog.match("job", pattern, path))  # fmt: skip
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


def substitute_user_data_ids(text: str, ids: Mapping[str, int]) -> str:
    """Replace `${user_data.input.NAME}` and `${user_data.output.NAME}` with the record's id."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            raise SpecError("command", f"no user_data id was given for '{name}'")
        return str(ids[name])

    return _USER_DATA_VARIABLE_RE.sub(replace, text)


def _json_data(path: str, data: Any) -> Any:
    found = jsonvalues.first_non_finite(data)
    if found:
        raise SpecError(f"{path}.data", f"{found} is NaN or infinite, which JSON cannot hold (use null, or a string)")
    return data


def _unique(entries: list[tuple[str, dict[str, Any]]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    seen: dict[str, str] = {}
    for path, entry in entries:
        name = entry["name"]
        if name in seen:
            raise SpecError(f"{path}.name", f"duplicate {kind} name '{name}': also defined by {seen[name]}")
        seen[name] = path
    return entries


def _settings(doc: Mapping[str, Any]) -> dict[str, Any]:
    settings = {key: doc.get(key, default) for key, default in DEFAULT_SETTINGS.items()}
    settings["resource_monitor"] = {**DEFAULT_SETTINGS["resource_monitor"], **doc.get("resource_monitor", {})}
    return settings


def _resources(entries: list[dict[str, Any]]) -> list[PlanResources]:
    pairs = [(f"resource_requirements[{index}]", entry) for index, entry in enumerate(entries)]
    _unique(pairs, "resource_requirements")
    resources = [_resource(path, entry) for path, entry in pairs]
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


def _failure_handlers(entries: list[dict[str, Any]]) -> list[PlanFailureHandler]:
    pairs = _unique([(f"failure_handlers[{i}]", entry) for i, entry in enumerate(entries)], "failure_handler")
    return [
        PlanFailureHandler(
            name=entry["name"], rules=[{"exit_codes": [], **DEFAULT_RULE, **rule} for rule in entry["rules"]]
        )
        for _, entry in pairs
    ]


def _job(path: str, entry: Mapping[str, Any], catalog: _Catalog, settings: Mapping[str, Any]) -> PlanJob:
    name = entry["name"]
    command, found = _substitute_variables(entry["command"], catalog, f"{path}.command")
    script = entry.get("invocation_script")
    if script is not None:
        script, found_in_script = _substitute_variables(script, catalog, f"{path}.invocation_script")
        for field, names in found_in_script.items():
            found[field].extend(names)
    related = {field: _related(name, path, entry, field, catalog) for field in RELATIONSHIPS}
    for field, names in found.items():
        related[field].update(names)
    resources = entry.get("resource_requirements", DEFAULT_RESOURCES)
    catalog.check("resource_requirements", resources, f"{path}.resource_requirements", f"job '{name}' uses")
    handler = entry.get("failure_handler")
    if handler is not None:
        catalog.check("failure_handler", handler, f"{path}.failure_handler", f"job '{name}' uses")
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
        **{field: tuple(sorted(names)) for field, names in related.items()},
        scheduler=entry.get("scheduler"),
    )


def _related(job: str, path: str, entry: Mapping[str, Any], field: str, catalog: _Catalog) -> set[str]:
    """The names a job lists in one relationship, exactly or through regexes."""
    regex_field, kind = RELATIONSHIPS[field]
    names: set[str] = set()
    if field not in entry and regex_field not in entry:
        return names
    for index, name in enumerate(entry.get(field, ())):
        where = f"{path}.{field}[{index}]"
        if field == "depends_on" and name == job:
            raise SpecError(where, f"job '{job}' depends on itself; remove it from its own depends_on")
        names.add(catalog.check(kind, name, where, f"{field} of job '{job}' names"))
    for index, pattern in enumerate(entry.get(regex_field, ())):
        where = f"{path}.{regex_field}[{index}]"
        matches = catalog.match(kind, pattern, where)
        if field == "depends_on" and job in matches:
            message = f"regex {pattern!r} matches the job '{job}' itself; make it more specific, e.g. ^...$"
            raise SpecError(where, message)
        names.update(matches)
    return names


def _substitute_variables(text: str, catalog: _Catalog, path: str) -> tuple[str, dict[str, list[str]]]:
    """Replace `${files.*.NAME}` with paths and collect every `${files|user_data.*.NAME}` by field.

    `${user_data.*.NAME}` stays in the text: it becomes the record id once the server has one.
    """
    found: dict[str, list[str]] = {field: [] for field in RELATIONSHIPS if field != "depends_on"}
    if "${" not in text:
        return text, found

    def replace(match: re.Match[str]) -> str:
        section, direction, name = match.groups()
        kind = "file" if section == "files" else "user_data"
        if name not in catalog.names[kind]:
            raise SpecError(path, _unknown_variable_message(match.group(0), name, kind, catalog))
        found[f"{direction}_{section}"].append(name)
        return catalog.file_paths[name] if kind == "file" else match.group(0)

    return _VARIABLE_RE.sub(replace, text), found


def _unknown_variable_message(variable: str, name: str, kind: str, catalog: _Catalog) -> str:
    message = f"{variable} names no defined {kind}"
    if "$" in name:
        message += (
            "; variables are resolved when the workflow is created, so the name cannot contain a shell"
            f" variable: list the {kind} entries in the job's input/output {kind} regexes instead"
        )
    elif "{" in name:
        message += "; is the {...} in it a parameter of this job?"
    return f"{message}; {_suggest(name, catalog.names[kind], kind)}"


def _upstream(jobs: Sequence[PlanJob], paths: list[str]) -> dict[str, tuple[str, ...]]:
    """Every job's upstream jobs: explicit depends_on plus the producers of its inputs."""
    file_producers = _producers(jobs, paths, "output_files", "file")
    data_producers = _producers(jobs, paths, "output_user_data", "user_data")
    upstream: dict[str, tuple[str, ...]] = {}
    for job in jobs:
        names = set(job.depends_on)
        names.update(file_producers[name] for name in job.input_files if name in file_producers)
        names.update(data_producers[name] for name in job.input_user_data if name in data_producers)
        # A job that rewrites a file it reads does not wait for itself.
        names.discard(job.name)
        upstream[job.name] = tuple(sorted(names))
    return upstream


def _producers(jobs: Sequence[PlanJob], paths: list[str], field: str, kind: str) -> dict[str, str]:
    producers: dict[str, str] = {}
    for job, path in zip(jobs, paths):
        for name in getattr(job, field):
            producer = producers.setdefault(name, job.name)
            if producer != job.name:
                raise SpecError(
                    f"{path}.{field}",
                    f"{kind} '{name}' is produced by both '{producer}' and '{job.name}'; a {kind} can have"
                    " only one producing job (put a parameter in its name to give each job its own)",
                )
    return producers


class _Catalog:
    """The names a job may refer to, with cached regex matches (a sweep reuses a few patterns)."""

    def __init__(
        self,
        jobs: list[str],
        files: list[PlanFile],
        user_data: list[PlanUserData],
        resources: list[PlanResources],
        handlers: list[PlanFailureHandler],
    ) -> None:
        self.names: dict[str, Collection[str]] = {
            "job": dict.fromkeys(jobs),
            "file": dict.fromkeys(file.name for file in files),
            "user_data": dict.fromkeys(item.name for item in user_data),
            "resource_requirements": dict.fromkeys(resource.name for resource in resources),
            "failure_handler": dict.fromkeys(handler.name for handler in handlers),
        }
        self.file_paths = {file.name: file.path for file in files}
        self._matches: dict[tuple[str, str], list[str]] = {}
        self._sorted: dict[str, list[str]] = {}

    def check(self, kind: str, name: str, path: str, context: str) -> str:
        """Return `name` if a `kind` of that name exists, else raise SpecError with suggestions."""
        if name not in self.names[kind]:
            suggestion = _suggest(name, self.names[kind], kind)
            raise SpecError(path, f"{context} '{name}', which is not a defined {kind}; {suggestion}")
        return name

    def match(self, kind: str, pattern: str, path: str) -> list[str]:
        """Names of `kind` that the regex finds (unanchored `re.search`); at least one, or SpecError."""
        key = (kind, pattern)
        if key not in self._matches:
            self._matches[key] = self._search(kind, pattern, path)
        return self._matches[key]

    def _search(self, kind: str, pattern: str, path: str) -> list[str]:
        names = self.names[kind]
        exact = pattern.endswith("$")
        literal = pattern[1 : -1 if exact else None]
        if pattern.startswith("^") and not _REGEX_SYNTAX & set(literal):
            # `^name$` and `^prefix` are the usual patterns; answering them without a scan
            # keeps a sweep in which every job has its own regex linear instead of quadratic.
            found = ([literal] if literal in names else []) if exact else self._with_prefix(kind, literal)
        else:
            try:
                regex = re.compile(pattern)
            except re.error as error:
                raise SpecError(path, f"invalid regular expression {pattern!r}: {error}") from None
            found = [name for name in names if regex.search(name)]
        if not found:
            raise SpecError(path, f"regex {pattern!r} matches no {kind}; {_suggest(pattern, names, kind)}")
        return found

    def _with_prefix(self, kind: str, prefix: str) -> list[str]:
        if kind not in self._sorted:
            self._sorted[kind] = sorted(self.names[kind])
        ordered = self._sorted[kind]
        found = []
        for index in range(bisect.bisect_left(ordered, prefix), len(ordered)):
            if not ordered[index].startswith(prefix):
                break
            found.append(ordered[index])
        return found


def _suggest(name: str, known: Collection[str], kind: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    if not known:
        return f"no {kind} is defined"
    sample = ", ".join(list(known)[:5]) + (f" (and {len(known) - 5} more)" if len(known) > 5 else "")
    return f"defined: {sample}"
