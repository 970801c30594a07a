"""Turn the text of a workflow spec (YAML, JSON, JSON5 or KDL) into a plain dict.

Every format becomes the same JSON-like value, so the rest of the spec code never knows which
one the user wrote. Syntax errors become SpecError with a `line L, column C` path.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

import json5
import yaml

from torc_client.core.errors import SpecError
from torc_client.core.settings import MAX_SPEC_ALIAS_VALUES, MAX_SPEC_DEPTH
from torc_client.spec import kdl

FORMATS = ("yaml", "yml", "json", "json5", "kdl")
_EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".json5": "json5", ".kdl": "kdl"}
_JSON5_POSITION_RE = re.compile(r"^<string>:(\d+) (.*) at column (\d+)$")
#: A line that starts with `key:` (a YAML mapping); KDL has no such line.
_YAML_KEY_RE = re.compile(r"^[ \t]*-?[ \t]*[A-Za-z_][\w-]*:(?:[ \t]|$)", re.MULTILINE)

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _SpecYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading plain scalars as YAML 1.2 (and so Torc) does.

    YAML 1.1 surprises are gone: an unquoted `i: 1:10` stays the string "1:10" rather than the
    base-60 integer 70, `yes`/`no`/`on`/`off` and `007` stay strings, and dates stay strings so
    every value is JSON. A key given twice in one mapping is an error.
    """

    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases would add more than `MAX_SPEC_ALIAS_VALUES` values, or refer to themselves.

    Each node's expanded size is counted once (aliases share the node they name), so the check
    takes time in proportion to the text, however far its aliases would expand.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            continue
        if id(node) in open_nodes:
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to a value that contains it",
                                                    node.start_mark)  # fmt: skip
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
    if sizes[id(root)] - len(sizes) > MAX_SPEC_ALIAS_VALUES:
        raise yaml.constructor.ConstructorError(None, None, f"its aliases expand to {sizes[id(root)]:,} values; at "
                                                f"most {MAX_SPEC_ALIAS_VALUES:,} may come from aliases",
                                                root.start_mark)  # fmt: skip


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


_REPLACED_TAGS = (_BOOL_TAG, _INT_TAG, _FLOAT_TAG, _TIMESTAMP_TAG)
_SpecYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecYamlLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SpecYamlLoader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$"), list("-+0123456789")
)
_SpecYamlLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def format_from_filename(name: str) -> str | None:
    """The spec format implied by a file name's extension (`yaml`, `json`, `json5`, `kdl`), or None."""
    return _EXTENSIONS.get(PurePath(name).suffix.lower())


def load_spec_text(text: str, fmt: str | None = None, source: str = "<spec>") -> dict[str, Any]:
    """Parse the text of a spec into a dict.

    `fmt` is `yaml`, `yml`, `json`, `json5`, `kdl` or None; None tries JSON, JSON5, YAML and KDL
    in turn, as Torc does, and reports the error of the format the text most looks like.
    `source` (usually the file name) appears in error messages. Raises SpecError, with a
    `line L, column C` path for syntax errors, or if the top level is not a mapping.
    """
    if fmt is not None and fmt.lower() not in FORMATS:
        raise SpecError("", f"{source}: unknown spec format {fmt!r}; use one of: {', '.join(FORMATS)}")
    try:
        doc = _load_any(text) if fmt is None else _PARSERS[fmt.lower()](text)
    except _ParseFailure as failure:
        raise SpecError(failure.path, f"{source} is not valid {failure.fmt}: {failure.problem}") from None
    except kdl.KdlShapeError as error:
        raise SpecError(error.path, f"{source}: {error.problem}") from None
    except RecursionError:
        raise SpecError("", f"{source}: values are nested too deeply (at most {MAX_SPEC_DEPTH} levels)") from None
    if not isinstance(doc, dict):
        found = "nothing (the document is empty)" if doc is None else f"a {_json_type(doc)}"
        raise SpecError("", f"{source}: the top level must be a mapping (name, jobs, ...), not {found}")
    depth = _depth(doc)
    if depth > MAX_SPEC_DEPTH:
        raise SpecError("", f"{source}: values are nested more than {MAX_SPEC_DEPTH} levels deep")
    return doc


def _depth(doc: Any) -> int:
    """How deeply `doc`'s lists and mappings nest (without recursion; stops counting past the limit)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_SPEC_DEPTH:
            return level
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


class _ParseFailure(Exception):
    def __init__(self, fmt: str, problem: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(problem)
        self.fmt = fmt
        self.problem = problem
        self.path = f"line {line}, column {column}" if line is not None else ""


def _load_any(text: str) -> Any:
    try:
        return _load_json(text)
    except _ParseFailure:
        pass
    try:
        return _load_json5(text)
    except _ParseFailure:
        if text.lstrip().startswith(("{", "[")):
            # Text that opens like JSON was meant as JSON or JSON5: the JSON5 error is the useful one.
            raise
    try:
        doc = _load_yaml(text)
    except _ParseFailure:
        if _YAML_KEY_RE.search(text):
            raise
        return _load_kdl(text)
    if not isinstance(doc, str):
        return doc
    return _load_kdl(text)  # KDL (`name "x"`, lines of words) reads as one YAML string


def _load_kdl(text: str) -> Any:
    try:
        return kdl.load_kdl(text)
    except kdl.KdlSyntaxError as error:
        raise _ParseFailure("KDL", error.problem, error.line, error.column) from None


def _load_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys("JSON"))
    except json.JSONDecodeError as error:
        raise _ParseFailure("JSON", error.msg, error.lineno, error.colno) from None


def _load_json5(text: str) -> Any:
    try:
        return json5.loads(text, object_pairs_hook=_reject_duplicate_keys("JSON5"))
    except ValueError as error:
        match = _JSON5_POSITION_RE.match(str(error))
        if match is None:
            raise _ParseFailure("JSON5", str(error)) from None
        line, problem, column = match.groups()
        raise _ParseFailure("JSON5", problem, int(line), int(column)) from None


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_SpecYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        if error.context and error.problem:
            problem += f" ({error.context})"
        if mark is None:
            raise _ParseFailure("YAML", problem) from None
        raise _ParseFailure("YAML", problem, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as error:
        raise _ParseFailure("YAML", str(error)) from None


_PARSERS = {"json": _load_json, "json5": _load_json5, "yaml": _load_yaml, "yml": _load_yaml, "kdl": _load_kdl}


def _reject_duplicate_keys(fmt: str) -> Any:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _ParseFailure(fmt, f"the key {key!r} appears twice in one object")
            result[key] = value
        return result

    return build


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def dump_spec_text(doc: dict[str, Any], fmt: str) -> str:
    """The text of a spec in `fmt` (`yaml`, `yml`, `json`, `json5` or `kdl`) that `load_spec_text` reads back as `doc`."""
    fmt = fmt.lower()
    if fmt in ("yaml", "yml"):
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "json5":
        return json5.dumps(doc, indent=2, ensure_ascii=False, quote_keys=False, trailing_commas=True) + "\n"
    if fmt == "kdl":
        return kdl.dump_kdl(doc)
    raise SpecError("", f"unknown spec format {fmt!r}; use one of: {', '.join(FORMATS)}")
