"""How one spec entry with parameters becomes many: copies, fan-in jobs and templates nothing fills.

An entry with parameters is copied once per combination of values and its `{name}` templates are
filled in (`torc_client.spec.params` parses the values and fills the templates). Copies of a
job that share a name are one fan-in job; a template naming a workflow parameter that does not
apply to the entry is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from torc_client.core.errors import SpecError
from torc_client.spec.params import (
    Value,
    iter_combinations,
    parse_parameters,
    substitute_parameters,
    template_names,
)
from torc_client.spec.problems import Problems

JOB_TEMPLATE_FIELDS = (
    "name",
    "command",
    "invocation_script",
    "resource_requirements",
    "depends_on",
    "depends_on_regexes",
    "input_files",
    "input_file_regexes",
    "output_files",
    "output_file_regexes",
    "input_user_data",
    "input_user_data_regexes",
    "output_user_data",
    "output_user_data_regexes",
    "env",
)
FILE_TEMPLATE_FIELDS = ("name", "path")
USER_DATA_TEMPLATE_FIELDS = ("name", "data")
PARAMETER_KEYS = ("parameters", "parameter_mode", "use_parameters")

def expand_entries(
    section: str,
    entries: Sequence[Mapping[str, Any]],
    workflow_values: Mapping[str, list[Value]],
    problems: Problems | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Expand the entries of one spec section (`jobs`, `files` or `user_data`).

    Returns (path of the original entry, e.g. `jobs[2]`, expanded entry) pairs in spec order,
    each entry's copies in combination order. The copies lose their parameter keys.
    Local `parameters` win; otherwise `use_parameters` picks workflow parameters.
    With `problems`, an entry that cannot be expanded is recorded there and left out.
    """
    fields = _TEMPLATE_FIELDS[section]
    expanded: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        path = f"{section}[{index}]"
        try:
            expanded.extend((path, copy) for copy in _expand_entry(section, entry, workflow_values, fields, path))
        except SpecError as error:
            if problems is None:
                raise
            problems.add(error)
    return expanded


class Expansion(NamedTuple):
    """One job entry's copies: their names at once, the copies themselves made as they are read.

    A sweep of a million jobs then never holds a million dicts: the plan turns each copy into
    its job before the next copy is made, and the copies share the name strings in `names`.
    """

    path: str
    names: list[str]
    copies: Callable[[], Iterable[dict[str, Any]]]


def expand_jobs(
    entries: Sequence[Mapping[str, Any]], workflow_values: Mapping[str, list[Value]], problems: Problems
) -> list[Expansion]:
    """The `jobs` section as one Expansion per entry, in spec order (the lazy `expand_entries("jobs", ...)`).

    An entry that cannot be expanded is recorded in `problems` and left out; an error that only
    filling a later field finds is raised while its copies are read.
    """
    expansions = []
    for index, entry in enumerate(entries):
        try:
            expansions.append(_job_expansion(entry, workflow_values, f"jobs[{index}]"))
        except SpecError as error:
            problems.add(error)
    return expansions


def _job_expansion(entry: Mapping[str, Any], workflow_values: Mapping[str, list[Value]], path: str) -> Expansion:
    values = _entry_parameters(entry, workflow_values, path)
    if not values:
        copies = _expand_entry("jobs", entry, workflow_values, JOB_TEMPLATE_FIELDS, path)
        return Expansion(path, [copy["name"] for copy in copies], lambda: copies)
    _check_filled(entry, values, workflow_values, JOB_TEMPLATE_FIELDS, "jobs", path)
    mode = entry.get("parameter_mode", "product")
    name_path = f"{path}.name"
    names = [substitute_parameters(entry["name"], combo, name_path)
             for combo in iter_combinations(values, mode, f"{path}.parameter_mode")]  # fmt: skip
    if len(set(names)) < len(names):  # fan-in copies merge, so they are made all at once
        merged = _expand_entry("jobs", entry, workflow_values, JOB_TEMPLATE_FIELDS, path)
        return Expansion(path, [copy["name"] for copy in merged], lambda: merged)
    return Expansion(path, names, lambda: _named_copies(entry, values, mode, names, path))


def _named_copies(
    entry: Mapping[str, Any], values: Mapping[str, list[Value]], mode: str, names: list[str], path: str
) -> Iterator[dict[str, Any]]:
    fields = JOB_TEMPLATE_FIELDS[1:]  # the name is already filled in
    for name, combo in zip(names, iter_combinations(values, mode, f"{path}.parameter_mode")):
        copy = _fill_entry(entry, combo, fields, path)
        copy["name"] = name
        yield copy


def _expand_entry(
    section: str, entry: Mapping[str, Any], workflow_values: Mapping[str, list[Value]], fields: Sequence[str], path: str
) -> list[dict[str, Any]]:
    values = _entry_parameters(entry, workflow_values, path)
    _check_filled(entry, values or {}, workflow_values, fields, section, path)
    if not values:
        return [{k: v for k, v in entry.items() if k not in PARAMETER_KEYS}]
    mode = entry.get("parameter_mode", "product")
    combos = iter_combinations(values, mode, f"{path}.parameter_mode")
    copies = [_fill_entry(entry, combo, fields, path) for combo in combos]
    if section == "jobs":
        return _merge_fan_in(entry, copies, values, path)
    _check_distinct_names(entry, copies, values, section, path)
    return copies


#: The lists a fan-in job's copies pool: one job waits for everything its copies would have.
FAN_IN_FIELDS = tuple(field for field in JOB_TEMPLATE_FIELDS if field not in ("name", "command",
                      "invocation_script", "resource_requirements"))  # fmt: skip


def _merge_fan_in(
    entry: Mapping[str, Any], copies: list[dict[str, Any]], values: Mapping[str, list[Value]], path: str
) -> list[dict[str, Any]]:
    """Copies of a job that share a name become one job with the union of their lists, as in Torc.

    `aggregate` with parameters `i: 1:18` and `input_files: [out_{i}]` is one job reading all 18
    files. The copies must agree on everything else (command, resources, ...), or the name is
    missing a parameter.
    """
    if len({copy["name"] for copy in copies}) == len(copies):
        return copies
    groups: dict[str, list[dict[str, Any]]] = {}
    for copy in copies:
        groups.setdefault(copy["name"], []).append(copy)
    merged = []
    for name, group in groups.items():
        job = dict(group[0])
        for other in group[1:]:
            for key in job.keys() | other.keys():
                if key in FAN_IN_FIELDS:
                    job[key] = list(dict.fromkeys([*job.get(key, ()), *other.get(key, ())]))
                elif job.get(key) != other.get(key):
                    raise SpecError(f"{path}.{key}", _fan_in_conflict(entry, name, key, len(group), values))
        merged.append(job)
    return merged


def _fan_in_conflict(entry: Mapping[str, Any], name: str, key: str, count: int, values: Mapping[str, Any]) -> str:
    missing = [param for param in values if param not in template_names(entry["name"])]
    example = entry["name"] + "".join(f"_{{{param}}}" for param in missing)
    return (
        f"job '{entry['name']}' becomes one job '{name}' for {count} parameter combinations (its name has no "
        f"{', '.join('{' + param + '}' for param in missing)}), but their {key} values differ; to run one job per "
        f"combination put the parameters in the name, e.g. '{example}'"
    )


def _check_filled(
    entry: Mapping[str, Any],
    values: Mapping[str, list[Value]],
    workflow_values: Mapping[str, list[Value]],
    fields: Sequence[str],
    section: str,
    path: str,
) -> None:
    """A `{name}` template naming a workflow parameter that does not apply to the entry is an error.

    Without the check `work_{i}` silently becomes one entry literally named `work_{i}`.
    """
    if not workflow_values:
        return
    for field in fields:
        for text in _strings(entry.get(field)):
            unfilled = [name for name in template_names(text) if name in workflow_values and name not in values]
            if not unfilled:
                continue
            kind = _SINGULAR[section]
            used = ", ".join(dict.fromkeys(unfilled))
            if values:
                fix = f"add {used} to its use_parameters (or its parameters)"
                because = ("which are workflow parameters that do not apply to it" if len(set(unfilled)) > 1
                           else "which is a workflow parameter that does not apply to it")
            else:
                fix = f"add `use_parameters: [{used}]` or `parameters:`"
                because = "but no parameters apply to it"
            raise SpecError(f"{path}.{field}",
                            f"{kind} '{entry.get('name')}' uses {{{unfilled[0]}}}, {because}: {fix}")  # fmt: skip


_SINGULAR = {"jobs": "job", "files": "file", "user_data": "user_data"}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []


_TEMPLATE_FIELDS = {
    "jobs": JOB_TEMPLATE_FIELDS,
    "files": FILE_TEMPLATE_FIELDS,
    "user_data": USER_DATA_TEMPLATE_FIELDS,
}


def _entry_parameters(
    entry: Mapping[str, Any], workflow_values: Mapping[str, list[Value]], path: str
) -> dict[str, list[Value]] | None:
    if entry.get("parameters"):
        return parse_parameters(entry["parameters"], f"{path}.parameters")
    selected = entry.get("use_parameters") or []
    for index, name in enumerate(selected):
        if name not in workflow_values:
            declared = ", ".join(workflow_values) or "none"
            raise SpecError(
                f"{path}.use_parameters[{index}]",
                f"'{name}' is not a workflow parameter; the workflow's parameters are: {declared}",
            )
    return {name: workflow_values[name] for name in selected} or None


def _fill_entry(
    entry: Mapping[str, Any], combo: Mapping[str, Value], fields: Sequence[str], path: str
) -> dict[str, Any]:
    copy = {key: value for key, value in entry.items() if key not in PARAMETER_KEYS}
    for field in fields:
        if field in copy:
            copy[field] = _fill(copy[field], combo, f"{path}.{field}")
    return copy


def _fill(value: Any, combo: Mapping[str, Value], path: str) -> Any:
    if isinstance(value, str):
        return substitute_parameters(value, combo, path)
    if isinstance(value, list):
        return [_fill(item, combo, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {key: _fill(item, combo, f"{path}.{key}") for key, item in value.items()}
    return value


def _check_distinct_names(
    entry: Mapping[str, Any], copies: list[dict], values: Mapping[str, list[Value]], section: str, path: str
) -> None:
    names = {copy["name"] for copy in copies}
    if len(names) == len(copies):
        return
    template = entry["name"]
    missing = [name for name in values if name not in template_names(template)]
    if missing:
        example = template + "".join(f"_{{{name}}}" for name in missing)
        hint = f"put the parameters in the name, e.g. '{example}'"
    else:
        hint = "use a format in the name that keeps the values apart"
    raise SpecError(
        f"{path}.name",
        f"'{template}' expands to {len(copies)} {section} entries but {len(names)} distinct names; {hint}",
    )
