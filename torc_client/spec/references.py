"""Names a job refers to: other jobs, files, user_data, requirements and handlers, exactly or by regex.

`Catalog` holds every name a spec defines; `related` resolves one relationship list of a job
and `substitute_variables` the `${files.*.NAME}` / `${user_data.*.NAME}` variables of a command.
A wrong name is a SpecError whose message suggests the names meant.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from torc_client.core.errors import SpecError
from torc_client.spec.problems import Problems

if TYPE_CHECKING:
    from torc_client.spec.records import (
        PlanFailureHandler,
        PlanFile,
        PlanResources,
        PlanUserData,
    )

# relationship list -> (its regex list, the kind of record it names)
RELATIONSHIPS = {
    "depends_on": ("depends_on_regexes", "job"),
    "input_files": ("input_file_regexes", "file"),
    "output_files": ("output_file_regexes", "file"),
    "input_user_data": ("input_user_data_regexes", "user_data"),
    "output_user_data": ("output_user_data_regexes", "user_data"),
}
_VARIABLE_RE = re.compile(r"\$\{(files|user_data)\.(input|output)\.((?:[^{}]|\{[^{}]*\})*)\}")
_REGEX_SYNTAX = set(".^$*+?{}[]\\|()")


def related(
    job: str, path: str, entry: Mapping[str, Any], field: str, catalog: Catalog, problems: Problems
) -> set[str]:
    """The names a job lists in one relationship, exactly or through regexes; each wrong one is a problem."""
    regex_field, kind = RELATIONSHIPS[field]
    names: set[str] = set()
    if field not in entry and regex_field not in entry:
        return names
    for index, name in enumerate(entry.get(field, ())):
        where = f"{path}.{field}[{index}]"
        if field == "depends_on" and name == job:
            problems.add(SpecError(where, f"job '{job}' depends on itself; remove it from its own depends_on"))
        elif name in catalog.names[kind] or problems.attempt(catalog.check, kind, name, where,
                                                             f"{field} of job '{job}' names"):  # fmt: skip
            names.add(name)
    for index, pattern in enumerate(entry.get(regex_field, ())):
        where = f"{path}.{regex_field}[{index}]"
        matches = problems.attempt(catalog.match, kind, pattern, where, default=[])
        if field == "depends_on" and job in matches:
            message = f"regex {pattern!r} matches the job '{job}' itself; make it more specific, e.g. ^...$"
            problems.add(SpecError(where, message))
        names.update(matches)
    return names


def substitute_variables(text: str, catalog: Catalog, path: str) -> tuple[str, dict[str, list[str]]]:
    """Replace `${files.*.NAME}` with paths and collect every `${files|user_data.*.NAME}` by field.

    `${user_data.*.NAME}` stays in the text: it becomes the record id once the server has one.
    """
    found = no_variables()
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


def no_variables() -> dict[str, list[str]]:
    return {field: [] for field in RELATIONSHIPS if field != "depends_on"}


def _unknown_variable_message(variable: str, name: str, kind: str, catalog: Catalog) -> str:
    message = f"{variable} names no defined {kind}"
    if "$" in name:
        message += (
            "; variables are resolved when the workflow is created, so the name cannot contain a shell"
            f" variable: list the {kind} entries in the job's input/output {kind} regexes instead"
        )
    elif "{" in name:
        message += "; is the {...} in it a parameter of this job?"
    return f"{message}; {suggest(name, catalog.names[kind], kind)}"


class Catalog:
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
            suggestion = suggest(name, self.names[kind], kind)
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
            raise SpecError(path, f"regex {pattern!r} matches no {kind}; {suggest(pattern, names, kind)}")
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


def suggest(name: str, known: Collection[str], kind: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    if not known:
        return f"no {kind} is defined"
    sample = ", ".join(list(known)[:5]) + (f" (and {len(known) - 5} more)" if len(known) > 5 else "")
    return f"defined: {sample}"
